from django.apps import AppConfig


class WaitlistConfig(AppConfig):
    name = "slotwise.waitlist"
    label = "waitlist"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Joins the booking services' events (slotwise.bookings.hooks).
        from slotwise.waitlist import services  # noqa: F401
