"""The dashboard's waitlist and reports."""

from django.urls import path

from slotwise.dashboard.insights import reports

urlpatterns = [
    path("reports", reports.reports, name="reports"),
    path("reports/csv", reports.reports_csv, name="reports-csv"),
]
