"""Management commands: the demo loader and the import command."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from projects.models import Annotation, AuditEvent, Document, Membership, Project, Span

from ..factories import DEMO_DIR


def counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count() for m in (Project, Document, Membership, Annotation, Span)
    }


@pytest.mark.django_db
def test_the_demo_loads_twice_without_duplicating_anything() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    first = counts()
    call_command("load_demo", stdout=StringIO())
    assert counts() == first
    assert first == {"Project": 1, "Document": 1, "Membership": 3, "Annotation": 2, "Span": 18}
    text = out.getvalue()
    assert "annotator1" in text and "demo-password-2026" in text


@pytest.mark.django_db
def test_the_demo_annotator_sees_their_spans_through_the_api() -> None:
    from rest_framework.test import APIClient

    call_command("load_demo", stdout=StringIO())
    client = APIClient()
    token = client.post(
        "/api/v1/auth/tokens/",
        {"username": "annotator1", "password": "demo-password-2026"},
        format="json",
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    doc = client.get("/api/v1/projects/demo/queue/").json()["results"][0]["document"]
    mine = client.get(f"/api/v1/projects/demo/documents/{doc}/annotation/").json()
    source = json.loads((DEMO_DIR / "seed-annotated.jsonl").read_text())
    expected = next(a for a in source["annotations"] if a["annotator"] == "annotator1")
    assert [(s["start"], s["end"], s["label"], s["text"]) for s in mine["spans"]] == sorted(
        (s["start"], s["end"], s["label"], s["text"]) for s in expected["spans"]
    )
    # blind: annotator1 sees only their own annotation
    all_visible = client.get(f"/api/v1/projects/demo/documents/{doc}/annotations/").json()
    assert [a["annotator"] for a in all_visible] == ["annotator1"]


@pytest.mark.django_db
def test_import_documents_reports_problems_and_imports_nothing(tmp_path: Path, world: Any) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "ok"}\n{"id": "b"}\n')
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_documents", str(bad), project=world.project.slug, stderr=err)
    assert "line 2" in err.getvalue() and "text" in err.getvalue()
    assert not Document.objects.filter(external_id="a").exists()
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "a", "text": "ok"}\n')
    out = StringIO()
    call_command("import_documents", str(good), project=world.project.slug, stdout=out)
    assert "imported 1 documents" in out.getvalue()
    assert AuditEvent.objects.filter(action="documents.import").exists()


@pytest.mark.django_db
def test_import_documents_names_an_unknown_project(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("hello")
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command("import_documents", str(f), project="nope")
