"""Personas as fixtures: a project with a lead, a reviewer, two annotators and a consumer, an
outsider, and a second project with its own members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

# Django-dependent imports happen inside the fixtures, so tests/domain runs without Django
# (``pytest tests/domain -p no:django``).


@dataclass
class World:
    project: Any
    lead: Any
    reviewer: Any
    annotator: Any
    annotator2: Any
    consumer: Any
    outsider: Any
    documents: list[Any]
    other_project: Any
    other_lead: Any
    other_documents: list[Any]

    def persona(self, name: str) -> Any:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: Any) -> None:
    """PBKDF2 at production strength costs ~0.3 s per user; tests make hundreds."""
    if (
        "settings" in request.fixturenames
        or request.node.get_closest_marker("django_db")
        or "db" in request.fixturenames
        or "world" in request.fixturenames
    ):
        settings = request.getfixturevalue("settings")
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(db: Any) -> World:
    from projects.models import Role

    from .factories import add_member, assign, make_documents, make_project, make_user

    lead = make_user("lead")
    project = make_project(lead=lead, name="Alpha")
    reviewer, annotator, annotator2 = make_user("reviewer"), make_user("ann1"), make_user("ann2")
    consumer, outsider = make_user("consumer"), make_user("outsider")
    add_member(project, reviewer, Role.REVIEWER)
    add_member(project, annotator, Role.ANNOTATOR)
    add_member(project, annotator2, Role.ANNOTATOR)
    add_member(project, consumer, Role.CONSUMER)
    documents = make_documents(project, 3)
    for doc in documents[:2]:
        assign(project, doc, annotator)
        assign(project, doc, annotator2)
    other_lead = make_user("other_lead")
    other_project = make_project(lead=other_lead, name="Beta")
    other_documents = make_documents(other_project, 2)
    return World(
        project,
        lead,
        reviewer,
        annotator,
        annotator2,
        consumer,
        outsider,
        documents,
        other_project,
        other_lead,
        other_documents,
    )


def client_for(user: Any) -> Any:
    """An API client logged in as ``user`` (None: anonymous)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
