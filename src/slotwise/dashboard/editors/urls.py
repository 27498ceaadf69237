"""The editors: opening hours, services, resources and the organization's settings."""

from django.urls import path

from slotwise.dashboard.editors import hours

urlpatterns = [
    path("hours", hours.schedule_list, name="hours"),
    path("hours/new", hours.schedule_new, name="hours-new"),
    path("hours/<int:schedule_id>", hours.schedule_edit, name="hours-edit"),
]
