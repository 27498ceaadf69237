"""The calendar and a booking's page, with its quick actions."""

from django.urls import path

from slotwise.dashboard.board import calendar, detail

urlpatterns = [
    path("calendar", calendar.calendar, name="calendar"),
    path("bookings/<int:booking_id>", detail.booking, name="booking"),
    path("bookings/<int:booking_id>/approve", detail.approve, name="booking-approve"),
    path("bookings/<int:booking_id>/decline", detail.decline, name="booking-decline"),
    path("bookings/<int:booking_id>/cancel", detail.cancel, name="booking-cancel"),
    path("bookings/<int:booking_id>/complete", detail.complete, name="booking-complete"),
    path("bookings/<int:booking_id>/no-show", detail.no_show, name="booking-no-show"),
]
