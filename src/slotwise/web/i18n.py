"""The language of a request: the visitor's on pages, English on the API.

:class:`django.middleware.locale.LocaleMiddleware` picks the pages' language
(the ``set_language`` cookie, then Accept-Language). The API's answers are
read by programs and matched on by their authors, so they stay English.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

__all__ = ["ApiInEnglishMiddleware", "page_language"]

API_PREFIX = "/api/"


class ApiInEnglishMiddleware:
    """Runs after LocaleMiddleware: requests under ``/api/`` speak English."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return self.get_response(request)


def page_language(request: HttpRequest, default: str) -> str:
    """The language of a customer's page: the one they chose with the picker, else ``default``
    (the organization's locale, the language of its messages to them)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in dict(settings.LANGUAGES):
        return chosen
    return default
