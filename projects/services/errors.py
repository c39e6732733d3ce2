"""Errors that services raise and every caller (API, pages, commands) turns into a message."""

from __future__ import annotations

from collections.abc import Sequence

from projects.domain.problems import Problem


class ServiceError(Exception):
    """An expected failure with a message a user can act on. ``code`` is machine-readable,
    ``status`` the HTTP status the API answers with."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        problems: Sequence[Problem] = (),
        code: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)
        if code:
            self.code = code
        self.extra = extra or {}


class ValidationFailed(ServiceError):
    status = 400
    code = "invalid"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unavailable(ServiceError):
    """A service the request needs (the task broker) cannot be reached; nothing was changed."""

    status = 503
    code = "unavailable"
