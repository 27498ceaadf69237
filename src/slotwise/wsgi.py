"""The WSGI application that ``slotwise serve`` hands to gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slotwise.settings")

application = get_wsgi_application()
