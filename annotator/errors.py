"""Site-wide 404 and 500 handlers: API paths answer in the API's one error shape, pages with
the site's templates."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


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
