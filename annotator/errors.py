"""Site-wide 404, 500 and 503 handlers: API paths answer in the API's one error shape, pages
with the site's templates.

A database that cannot be reached (restarting, failing over, out of connections) is a passing
fault, not a bug: requests that meet it answer 503 with ``Retry-After`` instead of 500, so the
workspace keeps its changes and sends them again, scripts know to retry, and a load balancer
sees the same state ``/healthz`` reports.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

log = logging.getLogger(__name__)

#: Django's wrappers of every database driver's "cannot talk to the server" errors (connection
#: refused or dropped, server shutting down, lock or statement timeouts): all worth a retry.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
#: Seconds a client is asked to wait before retrying (a PostgreSQL restart takes a few).
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_MESSAGE = (
    "The database cannot be reached right now (it may be restarting): retry in a few seconds. "
    "A change in this request may or may not have been saved; retried with the same version "
    "and client_id it is never applied twice."
)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def database_unavailable_body() -> dict[str, Any]:
    return {
        "error": {
            "code": "database_unavailable",
            "message": DATABASE_UNAVAILABLE_MESSAGE,
            "details": [],
        }
    }


def database_unavailable(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """503 in the API's error shape (API paths) or as a page; rendered without the request, so
    nothing in it (the signed-in user, messages) needs the database that just failed."""
    log.warning(
        "database unavailable on %s %s: %s: %s",
        request.method,
        request.path,
        type(exc).__name__ if exc is not None else "-",
        str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "",
    )
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(database_unavailable_body(), status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database error raised by a view into :func:`database_unavailable` (with DEBUG on
    too, where Django would show its debug page instead of the 500 handler)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable(request, exception)
        return None


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {
                "error": {
                    "code": "not_found",
                    "message": f"No API endpoint at {request.path}.",
                    "details": [],
                }
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Called while Django handles the exception, so it is still the current one: a database
    # error raised outside a view (in a middleware, say saving the session) is a 503 too.
    current = sys.exc_info()[1]
    if isinstance(current, DATABASE_ERRORS):
        return database_unavailable(request, current)
    if _is_api(request):
        return JsonResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": "Something went wrong on the server; nothing was changed. "
                    "The error has been logged.",
                    "details": [],
                }
            },
            status=500,
        )
    return defaults.server_error(request)
