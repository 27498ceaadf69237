"""The HTTP API, version 1, mounted at ``/api/v1/``.

Each app contributes a django-ninja router from its ``api.py``;
:mod:`slotwise.api.v1` assembles them, :mod:`slotwise.api.problems` turns
every error into RFC 9457 problem details, and :mod:`slotwise.api.urls` is
what the project's URLconf includes.
"""
