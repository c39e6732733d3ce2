"""Logs an operator can follow across processes: a request id on every line (web requests, and
the Celery tasks they queue), and one JSON object per line when ``LOG_FORMAT=json``."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

__all__ = [
    "JsonFormatter",
    "RequestIdFilter",
    "RequestIdMiddleware",
    "bind_request_id",
    "request_id",
    "unbind_request_id",
]

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# An id from the proxy is kept only if it is short and plain: it goes into every log line.
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id() -> str:
    """The id of the request (or task) being handled in this context, ``-`` outside one."""
    return _request_id.get()


class RequestIdMiddleware:
    """Every request gets an id (the proxy's ``X-Request-ID`` if it sent a sane one), returned
    in the response header and put on every log line written while it is handled, so one
    user's report ("it failed at 14:02") leads to the exact lines across web processes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
        # Left set until the response is closed (request_finished): Django logs "Not Found"
        # and "Internal Server Error" after the middleware has returned, and those lines
        # need the id most.
        _request_id.set(rid)
        response = self.get_response(request)
        response.headers["X-Request-ID"] = rid
        return response


@receiver(request_finished)
def _forget_request_id(**_: object) -> None:
    _request_id.set("-")


def bind_request_id(value: str) -> contextvars.Token[str]:
    """For Celery tasks: log lines of a task carry the id of the request that queued it."""
    return _request_id.set(value if _ACCEPTABLE_ID.match(value or "") else uuid.uuid4().hex)


def unbind_request_id(token: contextvars.Token[str]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and the exception
    with its traceback when there is one. Log shippers read it without a parsing rule."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        task = getattr(record, "task_name", None)
        if task:
            entry["task"] = task
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
