"""Importing documents through the API: each format, one transaction, errors that name the
file, line and field."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from projects.models import Annotation, Document, Span

from ..conftest import World, client_for
from ..factories import DEMO_DIR


def upload(world: World, name: str, data: bytes, user: Any = None, **extra: Any) -> Any:
    f = io.BytesIO(data)
    f.name = name
    return client_for(user or world.lead).post(
        f"/api/v1/projects/{world.project.pk}/documents/import/",
        {"file": f, **extra},
        format="multipart",
    )


def count(world: World) -> int:
    return Document.objects.filter(project=world.project).count()


def jsonl(n: int) -> list[str]:
    return [
        json.dumps({"id": f"n{i}", "title": f"T{i}", "text": f"Text number {i}."}) for i in range(n)
    ]


def test_jsonl_without_annotations_imports_every_document(world: World) -> None:
    before = count(world)
    r = upload(world, "docs.jsonl", "\n".join(jsonl(4)).encode())
    assert r.status_code == 201, r.content
    assert r.json()["created"] == 4
    assert count(world) == before + 4


def test_jsonl_with_annotations_keeps_spans_relations_and_stances(world: World) -> None:
    from projects.models import Membership

    for name in ("annotator1", "annotator2"):
        from ..factories import make_user

        Membership.objects.create(project=world.project, user=make_user(name), role="annotator")
    r = upload(world, "seed-annotated.jsonl", (DEMO_DIR / "seed-annotated.jsonl").read_bytes())
    assert r.status_code == 201, r.content
    assert r.json()["annotations"] == 2
    source = json.loads((DEMO_DIR / "seed-annotated.jsonl").read_text())
    doc = Document.objects.get(project=world.project, external_id=source["id"])
    for ann in source["annotations"]:
        stored = Annotation.objects.get(document=doc, annotator__username=ann["annotator"])
        assert stored.spans.count() == len(ann["spans"])
        assert stored.relations.count() == len(ann["relations"])
        assert stored.stances.count() == len(ann["stances"])
        for span in ann["spans"]:
            s = Span.objects.get(annotation=stored, client_id=span["id"])
            assert doc.text[s.start : s.end] == span["text"]


def test_a_jsonl_file_whose_line_3_of_10_is_malformed_imports_nothing_and_says_line_3(
    world: World,
) -> None:
    lines = jsonl(10)
    lines[2] = '{"id": "broken", "text": '
    before = count(world)
    r = upload(world, "docs.jsonl", "\n".join(lines).encode())
    assert r.status_code == 400
    error = r.json()["error"]
    assert "line 3" in error["message"]
    assert [d["line"] for d in error["details"]] == [3]
    assert error["details"][0]["file"] == "docs.jsonl"
    assert count(world) == before


def test_annotations_by_a_non_member_are_refused_and_nothing_is_imported(world: World) -> None:
    doc = {
        "id": "x",
        "text": "Some text here.",
        "annotations": [
            {"annotator": "stranger", "spans": [{"start": 0, "end": 4, "label": "Claim"}]}
        ],
    }
    before = count(world)
    r = upload(world, "a.jsonl", json.dumps(doc).encode())
    assert r.status_code == 400
    assert "stranger" in r.json()["error"]["message"]
    assert count(world) == before


def test_csv_puts_extra_columns_in_meta(world: World) -> None:
    data = 'id,title,text,outlet\nc1,First,"Line one\nline two",VOA\nc2,Second,Other text,AP\n'
    r = upload(world, "docs.csv", data.encode())
    assert r.status_code == 201, r.content
    doc = Document.objects.get(project=world.project, external_id="c1")
    assert doc.meta == {"outlet": "VOA"} and doc.text == "Line one\nline two"


def test_txt_and_zip_of_txt_use_the_file_name_as_id(world: World) -> None:
    assert upload(world, "lonely.txt", b"One text.\r\nWith CRLF.").status_code == 201
    doc = Document.objects.get(project=world.project, external_id="lonely")
    assert doc.text == "One text.\nWith CRLF."
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "Alpha.")
        z.writestr("sub/b.txt", "Beta.")
    r = upload(world, "many.zip", buf.getvalue())
    assert r.status_code == 201, r.content
    assert set(
        Document.objects.filter(project=world.project, external_id__in=["a", "sub/b"]).values_list(
            "external_id", flat=True
        )
    ) == {"a", "sub/b"}


def test_invalid_utf8_is_refused_with_its_line(world: World) -> None:
    data = b'{"id": "a", "text": "fine"}\n{"id": "b", "text": "bad \xff byte"}\n'
    r = upload(world, "bad.jsonl", data)
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["line"] == 2
    assert r.json()["error"]["details"][0]["code"] == "encoding"


def test_an_over_size_file_is_refused(world: World, settings: Any) -> None:
    settings.IMPORT_MAX_FILE_BYTES = 100
    before = count(world)
    r = upload(world, "big.jsonl", "\n".join(jsonl(20)).encode())
    assert r.status_code == 400
    assert "limit" in r.json()["error"]["message"]
    assert count(world) == before


def test_duplicate_ids_in_a_file_are_refused(world: World) -> None:
    lines = [*jsonl(3), json.dumps({"id": "n1", "text": "again"})]
    r = upload(world, "dup.jsonl", "\n".join(lines).encode())
    assert r.status_code == 400
    assert {d["code"] for d in r.json()["error"]["details"]} == {"duplicate"}


def test_reimporting_an_existing_id_fails_or_skips_but_never_duplicates(world: World) -> None:
    assert upload(world, "one.jsonl", jsonl(2)[0].encode()).status_code == 201
    again = upload(world, "one.jsonl", "\n".join(jsonl(2)).encode())
    assert again.status_code == 400
    assert again.json()["error"]["details"][0]["line"] == 1
    skip = upload(world, "one.jsonl", "\n".join(jsonl(2)).encode(), on_duplicate="skip")
    assert skip.status_code == 201
    assert skip.json() | {} == {"created": 1, "skipped": ["n0"], "annotations": 0, "spans": 0}
    assert Document.objects.filter(project=world.project, external_id="n0").count() == 1


def test_pre_annotation_offsets_on_crlf_text_are_remapped(world: World) -> None:
    text = "First line.\r\nThe claim is here."
    start = text.index("claim")
    doc = {
        "id": "crlf",
        "text": text,
        "annotations": [
            {
                "annotator": "ann1",
                "spans": [
                    {"id": "s", "start": start, "end": start + 5, "label": "Claim", "text": "claim"}
                ],
            }
        ],
    }
    r = upload(world, "crlf.jsonl", json.dumps(doc).encode())
    assert r.status_code == 201, r.content
    span = Span.objects.get(annotation__document__external_id="crlf")
    stored = Document.objects.get(external_id="crlf").text
    assert stored[span.start : span.end] == "claim"
    assert span.start == start - 1


@pytest.mark.parametrize("role", ["annotator", "reviewer", "consumer"])
def test_only_leads_import(world: World, role: str) -> None:
    user = {"annotator": world.annotator, "reviewer": world.reviewer, "consumer": world.consumer}[
        role
    ]
    assert upload(world, "d.jsonl", jsonl(1)[0].encode(), user=user).status_code == 403
