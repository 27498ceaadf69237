from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "slotwise.accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.accounts import signals  # noqa: F401  (connects the receivers)
