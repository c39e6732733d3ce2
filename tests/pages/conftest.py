"""Helpers for the page tests: a document with two annotators' spans, imported the way a lead
would import it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from projects.models import Document
from projects.services import documents as document_services

TEXT = "Officials said the plan was final. Critics called it a grave mistake."
ANN1_SPAN = "Officials said the plan was final"
ANN2_SPAN = "Critics called it a grave mistake"


def _span(sid: str, fragment: str, label: str) -> dict[str, Any]:
    start = TEXT.index(fragment)
    return {
        "id": sid,
        "start": start,
        "end": start + len(fragment),
        "label": label,
        "text": fragment,
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """The world fixture makes seven users; the production hasher takes ~0.3 s for each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def annotated_document(world: Any) -> Document:
    """A document of the world's project that both annotators have annotated."""
    line = {
        "id": "annotated-1",
        "title": "Annotated",
        "text": TEXT,
        "annotations": [
            {
                "annotator": world.annotator.username,
                "status": "submitted",
                "spans": [_span("a1", ANN1_SPAN, "Claim")],
            },
            {
                "annotator": world.annotator2.username,
                "status": "in_progress",
                "spans": [_span("b1", ANN2_SPAN, "Critique")],
            },
        ],
    }
    result = document_services.documents_import(
        project=world.project,
        filename="annotated.jsonl",
        data=json.dumps(line).encode(),
        actor_id=world.lead.pk,
    )
    return Document.objects.get(pk=result.document_ids[0])
