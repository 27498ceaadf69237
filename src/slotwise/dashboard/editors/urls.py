"""The editors: opening hours and resources."""

from django.urls import path

from slotwise.dashboard.editors import hours, resources

urlpatterns = [
    path("hours", hours.schedule_list, name="hours"),
    path("hours/new", hours.schedule_new, name="hours-new"),
    path("hours/<int:schedule_id>", hours.schedule_edit, name="hours-edit"),
    path("resources", resources.resource_list, name="resources"),
    path("resources/new", resources.resource_new, name="resource-new"),
    path("resources/<int:resource_id>", resources.resource_edit, name="resource-edit"),
    path(
        "resources/<int:resource_id>/deactivate",
        resources.resource_deactivate,
        name="resource-deactivate",
    ),
]
