from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.views import APIView

from projects.models import Role
from projects.permissions import EVERY_ROLE, ProjectAccess, project_access


class ProjectView(APIView):
    """Every project-scoped endpoint resolves its project once, through the one access
    helper, with the roles its method allows (``roles`` maps HTTP method → roles)."""

    roles: dict[str, frozenset[Role]] = {}
    access: ProjectAccess

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.resolve(request, self.roles.get(request.method or "GET", EVERY_ROLE), kwargs)

    def resolve(self, request: Request, allow: frozenset[Role], kwargs: dict[str, Any]) -> None:
        """Sets ``self.access`` (and whatever else a subclass's URL names) or raises 404/403."""
        self.access = project_access(request.user, kwargs["project_id"], allow=allow)


def version_of(request: Request) -> int | None:
    """The client's annotation version, from the body or (for DELETE) the query string."""
    raw = None
    if isinstance(request.data, dict):
        raw = request.data.get("version")
    if raw is None:
        raw = request.query_params.get("version")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        from rest_framework.exceptions import ValidationError

        raise ValidationError({"version": ["must be an integer"]}) from None
    return value
