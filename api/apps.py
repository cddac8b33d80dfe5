from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Read API"

    def ready(self) -> None:
        # Registers the authentication schemes with drf-spectacular.
        from api import schema  # noqa: F401
