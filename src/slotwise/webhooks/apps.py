from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "slotwise.webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.notifications.channels import register
        from slotwise.notifications.services import register_planner
        from slotwise.webhooks.delivery import WebhookChannel
        from slotwise.webhooks.events import plan_webhooks

        register_planner(plan_webhooks)
        register(WebhookChannel())
