from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Read API"

    def ready(self) -> None:
        # Importing the schema registers the authentication schemes with drf-spectacular.
        from accounts.holdings import member_key_kinds
        from api import schema  # noqa: F401
        from api.services import api_keys_kind

        # Removing or demoting a member revokes the keys they made (accounts/holdings.py);
        # accounts/ may not import api/, so it asks for them with a signal answered here.
        member_key_kinds.connect(api_keys_kind, dispatch_uid="api.api_keys_kind")
