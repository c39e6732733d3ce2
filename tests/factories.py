"""Factories as plain keyword functions: each makes one thing through the services, the way the
app itself would, so tests exercise the real invariants."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from projects.models import Document, Membership, Project, Role
from projects.services import documents as document_services
from projects.services import projects as project_services

DEMO_DIR = Path(__file__).resolve().parent.parent / "projects" / "demo_data"
PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


def demo_scheme() -> dict[str, Any]:
    return json.loads((DEMO_DIR / "scheme.json").read_text())


def make_user(username: str | None = None, **extra: Any) -> Any:
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def make_project(
    *,
    lead: Any = None,
    name: str | None = None,
    scheme: dict[str, Any] | None = None,
    **options: Any,
) -> Project:
    lead = lead or make_user()
    return project_services.project_create(
        name=name or f"Project {next(_seq)}",
        created_by_id=lead.pk,
        scheme=demo_scheme() if scheme is None else scheme,
        **options,
    )


def add_member(project: Project, user: Any, role: str | Role) -> Membership:
    return Membership.objects.create(project=project, user=user, role=role)


def make_documents(
    project: Project, n: int = 1, *, text: str | None = None, prefix: str = "doc"
) -> list[Document]:
    start = next(_seq)
    lines = [
        json.dumps(
            {
                "id": f"{prefix}-{start}-{i}",
                "title": f"Document {i}",
                "text": text
                or f"Officials said on Monday that the decision number {i} "
                "was final. Critics disagreed strongly.",
            }
        )
        for i in range(n)
    ]
    result = document_services.documents_import(
        project=project, filename="docs.jsonl", data="\n".join(lines).encode(), actor_id=None
    )
    return list(Document.objects.filter(pk__in=result.document_ids).order_by("pk"))


def assign(project: Project, document: Document, user: Any) -> None:
    document_services.assignment_create(
        project=project,
        document_id=document.pk,
        annotator_id=user.pk,
        actor_id=project.created_by_id,
    )
