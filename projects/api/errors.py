"""One error shape for every API failure:
``{"error": {"code": "...", "message": "...", "details": [...]}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from projects.services.errors import ServiceError


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or [], **extra}}


def _flatten(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF validation errors (nested dicts/lists) as a flat list of {field, message}."""
    out: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}.{field}" if prefix and field else prefix or field)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not isinstance(value, exceptions.ErrorDetail):
                out += _flatten(value, f"{prefix}[{index}]")
            else:
                out += _flatten(value, prefix)
    else:
        entry: dict[str, Any] = {"message": str(detail), "code": getattr(detail, "code", "invalid")}
        if prefix:
            entry["field"] = prefix
        out.append(entry)
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        view = context.get("view")
        extra = dict(exc.extra)
        hook = getattr(view, "conflict_extra", None)
        if exc.status == status.HTTP_409_CONFLICT and callable(hook):
            extra.update(hook(exc))
        return Response(
            error_body(exc.code, exc.message, [p.as_dict() for p in exc.problems], **extra),
            status=exc.status,
        )
    if isinstance(exc, ObjectDoesNotExist | Http404):
        exc = exceptions.NotFound(str(exc) if isinstance(exc, Http404) and str(exc) else None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        fields = ", ".join(sorted({d["field"] for d in details if d.get("field")}))
        message = f"Invalid input: {fields}." if fields else "Invalid input."
        if len(details) == 1:
            d = details[0]
            message = f"{d['field']}: {d['message']}" if d.get("field") else d["message"]
        response.data = error_body("invalid", message, details)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
        response.data = error_body(code, str(detail))
    return response
