from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts import checks  # noqa: F401 - registers the system checks
        from accounts.middleware import activity_at_login

        # Logging in counts as activity (and spares the next page an UPDATE).
        user_logged_in.connect(activity_at_login, dispatch_uid="accounts.activity_at_login")
