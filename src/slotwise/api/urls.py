"""URLs of ``/api/v1/``, where every error, even a wrong address or method, is a problem."""

from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, re_path

from slotwise.api.problems import not_found, problem_response
from slotwise.api.v1 import api


def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    return not_found("No API endpoint has this address; the list is at /api/v1/docs.")


def _problem_for_wrong_method(pattern: URLPattern) -> URLPattern:
    """django-ninja answers a method an endpoint lacks with a plain-text 405."""
    view = pattern.callback

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = view(request, *args, **kwargs)
        if response.status_code != 405:
            return response
        problem = problem_response(
            405, None, "Method Not Allowed", f"Use {response['Allow']}, not {request.method}."
        )
        problem["Allow"] = response["Allow"]
        return problem

    pattern.callback = answer
    return pattern


# Not unpacked into module names: a module-level ``app_name`` would namespace this URLconf.
_ninja = api.urls
urlpatterns = [
    # Ninja's own page for the root is an HTML 404.
    path("", unknown),
    path("", ([_problem_for_wrong_method(p) for p in _ninja[0]], *_ninja[1:])),
    re_path(r"^(?P<rest>.*)$", unknown),
]
