from django.apps import AppConfig


class Text911Config(AppConfig):
    name = "text911"
    verbose_name = "Text to 911"

    def ready(self) -> None:
        from text911 import registry  # noqa: F401
