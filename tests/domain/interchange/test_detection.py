"""Which tool wrote an upload, the explicit format override, and renaming annotators."""

from __future__ import annotations

import json

import pytest

from projects.domain.interchange import parse_annotator_map
from projects.domain.problems import Problem

from .conftest import AAEC_DIR, LS_JSON, failure, folder_zip, parse, zipped

NATIVE = json.dumps({"id": "n1", "text": "Native text.", "annotations": []})
DOCCANO = json.dumps({"id": 1, "text": "Doccano text.", "label": [[0, 7, "Claim"]]})


def test_a_jsonl_file_is_native_or_doccano_by_its_keys() -> None:
    [native] = parse("a.jsonl", NATIVE.encode())
    assert native.external_id == "n1"
    [doccano] = parse("b.jsonl", DOCCANO.encode(), annotator="ann1")
    assert doccano.annotations[0].spans[0].text == "Doccano"
    plain = json.dumps({"id": "p", "text": "No annotations at all."})
    assert parse("c.jsonl", plain.encode())[0].external_id == "p"


def test_a_jsonl_file_mixing_native_and_doccano_lines_is_ambiguous() -> None:
    [found] = failure("m.jsonl", f"{NATIVE}\n{DOCCANO}\n".encode())
    assert (found.code, found.line) == ("ambiguous", 2)
    assert "choose the format" in found.message


def test_the_format_option_overrides_detection() -> None:
    # Read as native, doccano's "label" key is just an unknown key: the text comes in alone.
    [document] = parse("b.jsonl", DOCCANO.encode(), format="native")
    assert document.annotations == ()
    # Read as doccano, a native line has no spans (and its "annotations" key is metadata).
    [document] = parse("a.jsonl", NATIVE.encode(), format="doccano")
    assert document.meta == {"annotations": []}


def test_a_doccano_reading_that_fails_on_doccano_fields_says_how_it_was_detected() -> None:
    odd = json.dumps({"id": "x", "text": "A native record with a label column.", "label": "news"})
    problems = failure("odd.jsonl", odd.encode())
    assert [p.code for p in problems] == ["invalid", "detected"]
    assert "choose the format native" in problems[1].message


def test_a_zip_is_brat_doccano_or_texts_by_what_it_holds() -> None:
    brat = parse("b.zip", folder_zip(AAEC_DIR))
    assert len(brat[0].annotations) == 3
    doccano = parse("d.zip", zipped({"ann1.jsonl": DOCCANO}))
    assert doccano[0].annotations[0].annotator == "ann1"
    texts = parse("t.zip", zipped({"x/a.txt": "Plain."}))
    assert texts[0].external_id == "x/a"
    [found] = failure("m.zip", zipped({"ann1.jsonl": DOCCANO, "a.txt": "Plain."}))
    assert found.code == "ambiguous"


def test_a_json_file_is_label_studio_or_doccano_and_anything_else_is_refused() -> None:
    assert parse(LS_JSON.name, LS_JSON.read_bytes())[0].external_id == "cars-1"
    records = json.dumps([json.loads(DOCCANO)])
    assert parse("d.json", records.encode(), annotator="ann1")[0].external_id == "1"
    [found] = failure("x.json", json.dumps([{"name": "not an export"}]).encode())
    assert found.code == "ambiguous"
    [found] = failure("x.json", b'{"broken": ')
    assert (found.code, found.line) == ("parse", 1)


@pytest.mark.parametrize(
    ("name", "chosen", "needle"),
    [
        ("a.jsonl", "brat", "a brat upload is one of: .zip"),
        ("a.csv", "labelstudio", "a labelstudio upload is one of: .json"),
        ("a.json", "native", "upload one of: .jsonl, .ndjson, .csv, .txt, .zip"),
        ("a.zip", "excel", "unknown format 'excel'"),
    ],
)
def test_a_format_that_cannot_read_the_file_says_what_it_reads(
    name: str, chosen: str, needle: str
) -> None:
    [found] = failure(name, b"{}", format=chosen)
    assert found.code == "unsupported" and needle in found.message


def test_the_annotator_map_renames_and_refuses_two_names_becoming_one() -> None:
    data = folder_zip(AAEC_DIR)
    notes: list[Problem] = []
    mapping = {"annotator1": "alice", "annotator3": "carol", "nobody": "dave"}
    documents = parse("a.zip", data, annotator_map=mapping, notes=notes)
    assert [a.annotator for a in documents[0].annotations] == ["alice", "annotator2", "carol"]
    assert [n.message for n in notes] == [
        "annotator_map names 'nobody', but no annotation in the file is by 'nobody'"
    ]
    problems = failure("a.zip", data, annotator_map={"annotator1": "bob", "annotator2": "bob"})
    assert {(p.code, p.field) for p in problems} == {("duplicate", "annotator_map")}
    assert "'annotator1' and 'annotator2' both become 'bob'" in problems[0].message


def test_the_annotator_map_is_json_or_pairs() -> None:
    assert parse_annotator_map('{"7": "alice", "a@b.org": "bob"}') == (
        {"7": "alice", "a@b.org": "bob"},
        [],
    )
    assert parse_annotator_map("7=alice, a@b.org = bob\n9=carol") == (
        {"7": "alice", "a@b.org": "bob", "9": "carol"},
        [],
    )
    assert parse_annotator_map("  ") == ({}, [])
    _, problems = parse_annotator_map("7=alice, bob, 7=carl")
    assert [(p.code, p.field) for p in problems] == [
        ("invalid", "annotator_map"),
        ("duplicate", "annotator_map"),
    ]
    _, problems = parse_annotator_map('{"7": 3}')
    assert problems[0].field == "annotator_map"
