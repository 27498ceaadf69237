"""The customer's pages: an organization's services, booking one, the confirmation."""

from django.urls import path

from slotwise.web import public

app_name = "web"

urlpatterns = [
    path("embed.js", public.embed_script, name="embed-script"),
    path("done/<str:token>", public.booking_confirmed, name="confirmed"),
    path("<slug:org_slug>/", public.organization_page, name="organization"),
    path("<slug:org_slug>/<slug:service_slug>/", public.service_page, name="service"),
    path("<slug:org_slug>/<slug:service_slug>/details", public.details, name="details"),
]
