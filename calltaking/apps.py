from django.apps import AppConfig


class CalltakingConfig(AppConfig):
    name = "calltaking"
    verbose_name = "911 call-taking"

    def ready(self) -> None:
        from calltaking import registry  # noqa: F401
