"""The customer's details form on the booking pages."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from slotwise.bookings.services import MAX_SEATS

__all__ = ["DetailsForm"]


class DetailsForm(forms.Form):
    """Who books, and how many seats. The slot itself travels in hidden fields:
    ``start`` (a UTC instant), ``duration`` and ``tz``, as the page chose them;
    ``idempotency_key`` is new for every form shown, so sending one twice books once."""

    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    phone = forms.CharField(
        label=gettext_lazy("Phone (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    seats = forms.IntegerField(label=gettext_lazy("Seats"), min_value=1, initial=1)
    start = forms.CharField(widget=forms.HiddenInput, max_length=40)
    duration = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    tz = forms.CharField(widget=forms.HiddenInput, max_length=64)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, min_length=16, max_length=64)

    def __init__(self, *args: Any, max_seats: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        if max_seats > 1:
            self.fields["seats"] = forms.IntegerField(
                label=gettext_lazy("Seats"),
                min_value=1,
                max_value=min(max_seats, MAX_SEATS),
                initial=1,
            )
        else:
            self.fields["seats"].widget = forms.HiddenInput()
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        # Errors are tied to their fields for screen readers.
        for name, field in self.fields.items():
            if not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.setdefault("aria-describedby", f"{name}-errors")

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-invalid"] = "true"
