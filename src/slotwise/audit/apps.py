from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "slotwise.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.audit import signals  # noqa: F401  (connects the receivers)
