"""``import_documents`` reads brat, doccano and Label Studio exports, with the same options as
the API (format, annotator, annotator map), and prints what it left out."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from projects.models import Annotation, Document
from tests.domain.interchange.files import DOCCANO_DIR, LS_JSON, zipped


@pytest.mark.django_db
def test_import_documents_reads_a_doccano_export_with_the_annotator_option(
    tmp_path: Path, world: Any
) -> None:
    export = tmp_path / "export.zip"
    export.write_bytes(
        zipped({"all.jsonl": (DOCCANO_DIR / "collaborative" / "all.jsonl").read_bytes()})
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_documents", str(export), project=world.project.slug, stderr=err)
    assert "annotator option" in err.getvalue()
    out = StringIO()
    call_command(
        "import_documents",
        str(export),
        project=world.project.slug,
        format="doccano",
        annotator="ann1",
        stdout=out,
    )
    assert "imported 2 documents, 1 annotations, 2 spans" in out.getvalue()
    assert Annotation.objects.filter(
        document__project=world.project, annotator=world.annotator, document__external_id="1"
    ).exists()


@pytest.mark.django_db
def test_import_documents_maps_label_studio_users_and_prints_notes(
    tmp_path: Path, world: Any
) -> None:
    world.annotator.email = "alice@example.org"
    world.annotator.save()
    path = tmp_path / LS_JSON.name
    path.write_bytes(LS_JSON.read_bytes())
    out = StringIO()
    call_command(
        "import_documents",
        str(path),
        project=world.project.slug,
        annotator_map="7=ann2",
        stdout=out,
    )
    assert "imported 2 documents, 3 annotations" in out.getvalue()
    assert "note:" in out.getvalue() and "cancelled" in out.getvalue()
    assert Document.objects.filter(project=world.project, external_id="homework-1").exists()


@pytest.mark.django_db
def test_import_documents_refuses_a_malformed_annotator_map(tmp_path: Path, world: Any) -> None:
    path = tmp_path / "x.txt"
    path.write_text("hello")
    with pytest.raises(CommandError, match="not name=username"):
        call_command(
            "import_documents", str(path), project=world.project.slug, annotator_map="nope"
        )
