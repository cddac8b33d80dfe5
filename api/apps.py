from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Read API"

    def ready(self) -> None:
        # Importing the schema registers the authentication schemes with drf-spectacular.
        from accounts.holdings import member_keys_register
        from api import schema  # noqa: F401
        from api.services import API_KEYS

        # Removing or demoting a member revokes the keys they made (accounts/holdings.py);
        # accounts/ may not import api/, so the keys are registered with it here.
        member_keys_register(API_KEYS)
