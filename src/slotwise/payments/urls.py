"""The customer's payment page for a booking that must be paid before it is confirmed."""

from django.urls import path

from slotwise.payments import pages

app_name = "payments"

urlpatterns = [
    # The card form of a held booking, by its manage token.
    path("<str:token>", pages.pay, name="pay"),
    # Where the browser returns once the provider has the payment: paid, or why not.
    path("<str:token>/done", pages.paid, name="paid"),
]
