"""The dashboard's waitlist and reports."""

from django.urls import path

from slotwise.dashboard.insights import reports, waitlist

urlpatterns = [
    path("waitlist", waitlist.waitlist, name="waitlist"),
    path("reports", reports.reports, name="reports"),
    path("reports/csv", reports.reports_csv, name="reports-csv"),
]
