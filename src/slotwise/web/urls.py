"""The customer's pages: an organization's services, booking one, the confirmation."""

app_name = "web"

urlpatterns: list = []
