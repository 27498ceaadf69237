from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "slotwise.payments"
    label = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Joins the booking services' events and answers (slotwise.bookings.hooks).
        from slotwise.payments import services  # noqa: F401
