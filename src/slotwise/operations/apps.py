from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "slotwise.operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from slotwise.bookings.hooks import on_booking_event
        from slotwise.operations.metrics import booking_created

        @on_booking_event
        def count_created(booking, event, now) -> None:  # type: ignore[no-untyped-def]
            if event.action == "booking.created":
                booking_created(booking.status)
