from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "slotwise.notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.notifications.services import register_planner
        from slotwise.notifications.sms import plan_text_messages
        from slotwise.notifications.staff import plan_staff_notices

        register_planner(plan_staff_notices)
        register_planner(plan_text_messages)  # and the "sms" channel, on import
