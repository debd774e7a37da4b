from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents (CAD events)"

    def ready(self) -> None:
        from incidents import registry  # noqa: F401
