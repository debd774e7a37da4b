from django.apps import AppConfig


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = "Agencies and units"

    def ready(self) -> None:
        from units import registry  # noqa: F401
