"""The one access helper. Every page and API endpoint resolves its project through
``project_access``: non-members get 404 (nothing leaks about which projects exist), members
whose role is too low get 403."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .ids import as_id
from .models import Membership, Project, Role
from .models.query import only_row

EVERY_ROLE = frozenset(Role)
LEADS = frozenset({Role.LEAD})
REVIEWERS = frozenset({Role.LEAD, Role.REVIEWER})
# who may open documents: consumers only download exports
READERS = frozenset({Role.LEAD, Role.REVIEWER, Role.ANNOTATOR})
# who may have an annotation of their own: annotators (on assigned documents) and leads
ANNOTATORS = frozenset({Role.LEAD, Role.ANNOTATOR})


@dataclass(frozen=True)
class ProjectAccess:
    project: Project
    role: Role
    user_id: int

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    @property
    def sees_all_annotations(self) -> bool:
        """Blind mode is enforced here, in one place: annotators see only their own work."""
        return self.role in REVIEWERS or not self.project.blind

    @property
    def only_assigned_documents(self) -> bool:
        return self.role == Role.ANNOTATOR


def project_access(
    user: AbstractBaseUser | AnonymousUser,
    project_ref: int | str,
    *,
    allow: frozenset[Role] = EVERY_ROLE,
) -> ProjectAccess:
    """Resolve a project by id or slug for ``user``, or raise 404/403.

    One query: the membership joined with its project.
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    project_id = as_id(project_ref)
    lookup = (
        {"project_id": project_id} if project_id is not None else {"project__slug": project_ref}
    )
    # a soft-deleted project is gone for everyone, its leads included (staff restore it)
    membership = only_row(
        Membership.objects.select_related("project").filter(
            user_id=user.pk, project__deleted_at__isnull=True, **lookup
        )
    )
    if membership is None:
        raise Http404("No such project.")
    role = checked_role(membership.role, allow)
    return ProjectAccess(project=membership.project, role=role, user_id=user.pk)


def checked_role(raw: str, allow: frozenset[Role]) -> Role:
    """The member's role, or 403 when it may not do this (shared with the one-query
    project-and-document lookup of the annotation endpoints, ``selectors.document_access``)."""
    role = Role(raw)
    if role not in allow:
        allowed = ", ".join(sorted(r.value for r in allow))
        raise PermissionDenied(
            f"Your role in this project ({role.value}) cannot do this; it needs: {allowed}."
        )
    return role
