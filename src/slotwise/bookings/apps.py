from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "slotwise.bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.api.ratelimits import warn_if_off_in_production

        warn_if_off_in_production()
