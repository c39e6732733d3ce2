"""Importing documents through the API: each format, one transaction, errors that name the
file, line and field."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from projects.models import Annotation, Document, Relation, Span, Stance

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


def test_one_attempt_names_every_problem_not_one_stage_at_a_time(world: World) -> None:
    """An unknown label used to hide an unknown annotator and a duplicate id in the same file
    until the label was fixed; every problem now comes back in one answer."""
    assert upload(world, "first.jsonl", jsonl(1)[0].encode()).status_code == 201
    lines = [
        jsonl(1)[0],  # n0 is already in the project
        json.dumps(
            {
                "id": "x",
                "text": "Some text here.",
                "annotations": [
                    {"annotator": "stranger", "spans": [{"start": 0, "end": 4, "label": "Nope"}]}
                ],
            }
        ),
    ]
    before = snapshot(world.project)
    r = upload(world, "mixed.jsonl", "\n".join(lines).encode())
    assert r.status_code == 400
    details = r.json()["error"]["details"]
    assert [(d["line"], d["code"]) for d in details] == [
        (2, "unknown_label"),
        (1, "duplicate"),
        (2, "unknown_user"),
    ], details
    assert "stranger" in details[2]["message"] and "'n0'" in details[1]["message"]
    assert snapshot(world.project) == before


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
    assert skip.json() == {
        "created": 1,
        "skipped": ["n0"],
        "annotations": 0,
        "spans": 0,
        "notes": [],
    }
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


# --- brat, doccano and Label Studio --------------------------------------------------------------


def upload_to(project: Any, lead: Any, name: str, data: bytes, **extra: Any) -> Any:
    f = io.BytesIO(data)
    f.name = name
    return client_for(lead).post(
        f"/api/v1/projects/{project.pk}/documents/import/",
        {"file": f, **extra},
        format="multipart",
    )


def snapshot(project: Any) -> dict[str, int]:
    return {
        "documents": Document.objects.filter(project=project).count(),
        "annotations": Annotation.objects.filter(project=project).count(),
        "spans": Span.objects.filter(annotation__project=project).count(),
        "relations": Relation.objects.filter(annotation__project=project).count(),
        "stances": Stance.objects.filter(annotation__project=project).count(),
    }


@pytest.fixture
def aaec_project(world: World) -> Any:
    from tests.domain.interchange.files import AAEC_SCHEME

    from ..factories import add_member, make_project, make_user

    project = make_project(lead=world.lead, name="Essays", scheme=AAEC_SCHEME)
    for name in ("annotator1", "annotator2", "annotator3"):
        add_member(project, make_user(name), "annotator")
    return project


def test_a_brat_zip_brings_every_annotator_folder_with_relations_and_attributes(
    world: World, aaec_project: Any
) -> None:
    from tests.domain.interchange.files import AAEC_DIR, folder_zip

    r = upload_to(aaec_project, world.lead, "aaec.zip", folder_zip(AAEC_DIR))
    assert r.status_code == 201, r.content
    t_lines = r_lines = a_lines = 0
    for ann in AAEC_DIR.glob("annotator*/*.ann"):
        lines = ann.read_text(encoding="utf-8").splitlines()
        t_lines += sum(line.startswith("T") for line in lines)
        r_lines += sum(line.startswith("R") for line in lines)
        a_lines += sum(line.startswith("A") for line in lines)
    assert r.json() | {"notes": None} == {
        "created": 2,
        "skipped": [],
        "annotations": 6,
        "spans": t_lines,
        "notes": None,
    }
    assert snapshot(aaec_project)["relations"] == r_lines
    stored = Span.objects.filter(annotation__project=aaec_project).select_related(
        "annotation__document"
    )
    assert sum(1 for s in stored if s.attributes.get("stance") in ("for", "against")) == a_lines
    for span in stored:
        text = span.annotation.document.text
        assert 0 <= span.start < span.end <= len(text)
    essay = Document.objects.get(project=aaec_project, external_id="essay335")
    third = Annotation.objects.get(document=essay, annotator__username="annotator3")
    claim = Span.objects.get(annotation=third, client_id="T2")
    assert essay.text[claim.start : claim.end] == (
        "All this inventions will try to take control of the Earth"
    )
    assert claim.attributes == {"stance": "for"}


def test_a_brat_zip_with_one_bad_t_line_imports_nothing_and_says_where(
    world: World, aaec_project: Any
) -> None:
    from tests.domain.interchange.files import AAEC_DIR, zipped

    entries = {
        p.relative_to(AAEC_DIR).as_posix(): p.read_bytes() for p in AAEC_DIR.glob("annotator*/*")
    }
    ann = entries["annotator2/essay335.ann"].decode()
    assert "\tIT discoveries" in ann.splitlines()[0]
    entries["annotator2/essay335.ann"] = ann.replace(
        "\tIT discoveries", "\tIt discoveries"
    ).encode()
    before = snapshot(aaec_project)
    r = upload_to(aaec_project, world.lead, "aaec.zip", zipped(entries))
    assert r.status_code == 400
    [detail] = r.json()["error"]["details"]
    assert detail | {"message": None} == {
        "code": "mismatch",
        "file": "aaec.zip/annotator2/essay335.ann",
        "line": 1,
        "field": "T1.text",
        "message": None,
    }
    assert snapshot(aaec_project) == before


def test_a_doccano_export_zip_imports_its_members_and_reports_what_it_left_out(
    world: World,
) -> None:
    from tests.domain.interchange.files import DOCCANO_DIR, folder_zip

    before = snapshot(world.project)
    r = upload_to(
        world.project, world.lead, "doccano.zip", folder_zip(DOCCANO_DIR / "relation-project")
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["created"], body["annotations"], body["spans"]) == (2, 4, 7)
    assert [n["code"] for n in body["notes"]] == ["ignored"]
    assert "comments" in body["notes"][0]["message"]
    assert snapshot(world.project)["relations"] == before["relations"] + 3
    ann1 = Annotation.objects.get(
        document__project=world.project, document__external_id="1", annotator=world.annotator
    )
    assert sorted(ann1.relations.values_list("source__client_id", "target__client_id")) == [
        ("12", "11"),
        ("13", "11"),
    ]


def test_a_doccano_file_of_a_stranger_imports_nothing_and_names_them(world: World) -> None:
    from tests.domain.interchange.files import zipped

    record = json.dumps({"id": 9, "text": "Trams are quiet.", "label": [[0, 5, "Claim"]]})
    before = snapshot(world.project)
    r = upload_to(world.project, world.lead, "d.zip", zipped({"carol.jsonl": record}))
    assert r.status_code == 400
    [detail] = r.json()["error"]["details"]
    assert (detail["code"], detail["file"]) == ("unknown_user", "d.zip/carol.jsonl")
    assert "'carol'" in detail["message"] and "annotator_map" in detail["message"]
    assert snapshot(world.project) == before
    again = upload_to(
        world.project,
        world.lead,
        "d.zip",
        zipped({"carol.jsonl": record}),
        annotator_map="carol=ann2",
    )
    assert again.status_code == 201, again.content


def test_doccano_all_jsonl_takes_its_annotator_from_the_option(world: World) -> None:
    from tests.domain.interchange.files import DOCCANO_DIR, zipped

    data = zipped({"all.jsonl": (DOCCANO_DIR / "collaborative" / "all.jsonl").read_bytes()})
    refused = upload_to(world.project, world.lead, "all.zip", data)
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["code"] == "no_annotator"
    r = upload_to(world.project, world.lead, "all.zip", data, annotator="ann1")
    assert r.status_code == 201, r.content
    assert Annotation.objects.filter(
        document__project=world.project, document__external_id="1", annotator=world.annotator
    ).exists()


def test_a_label_studio_export_maps_emails_and_mapped_ids_to_members(world: World) -> None:
    from tests.domain.interchange.files import LS_JSON

    world.annotator.email = "Alice@Example.org"
    world.annotator.save()
    data = LS_JSON.read_bytes()
    before = snapshot(world.project)
    refused = upload_to(world.project, world.lead, LS_JSON.name, data)
    assert refused.status_code == 400
    [detail] = refused.json()["error"]["details"]
    assert "annotator '7' (a Label Studio user id" in detail["message"]
    assert detail["file"] == LS_JSON.name
    assert snapshot(world.project) == before
    r = upload_to(world.project, world.lead, LS_JSON.name, data, annotator_map="7=ann2")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["created"], body["annotations"]) == (2, 3)
    assert len(body["notes"]) == 3
    cars = Document.objects.get(project=world.project, external_id="cars-1")
    alice = Annotation.objects.get(document=cars, annotator=world.annotator)
    assert list(alice.stances.values_list("value", flat=True)) == ["neutral"]
    claim = alice.spans.get(client_id="r-claim")
    assert cars.text[claim.start : claim.end] == "Cities should ban cars 🚗 from their centres"
    assert claim.attributes == {"stance": "favor", "source": "city council"}
    assert Annotation.objects.filter(document=cars, annotator=world.annotator2).exists()


def test_the_format_option_is_checked_and_forces_a_reading(world: World) -> None:
    bad = upload_to(world.project, world.lead, "d.jsonl", b"{}", format="excel")
    assert bad.status_code == 400
    doc = json.dumps({"id": "f1", "text": "Read me as native.", "label": "news"})
    forced = upload_to(world.project, world.lead, "d.jsonl", doc.encode(), format="native")
    assert forced.status_code == 201, forced.content
    bad_map = upload_to(world.project, world.lead, "d.jsonl", doc.encode(), annotator_map="x")
    assert bad_map.status_code == 400
    assert bad_map.json()["error"]["details"][0]["field"] == "annotator_map"
