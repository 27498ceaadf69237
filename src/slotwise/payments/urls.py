"""The customer's payment page for a booking that must be paid before it is confirmed."""

app_name = "payments"

urlpatterns: list = []
