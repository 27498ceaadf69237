from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "slotwise.calendars"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Joins the booking services' events (slotwise.bookings.hooks).
        from slotwise.calendars import services  # noqa: F401
