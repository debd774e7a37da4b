from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents (CAD events)"

    def ready(self) -> None:
        from django.conf import settings

        from incidents import registry, rollup  # noqa: F401  (rollup: registers the daily response-time roll-up)
        from pscc.celery import register_periodic

        register_periodic("incidents-response-time-rollup", "incidents.response_time_rollup", settings.PSCC_ROLLUP_SECONDS)
