"""doccano import: its export zip (a file per member, or all.jsonl) and lone JSONL files, as
doccano's data_export pipeline writes them."""

from __future__ import annotations

import json

from projects.domain.problems import Problem
from projects.domain.scheme import SchemeSpec

from .conftest import DOCCANO_DIR, failure, folder_zip, parse, zipped

RELATION_PROJECT = DOCCANO_DIR / "relation-project"
ALL_JSONL = DOCCANO_DIR / "collaborative" / "all.jsonl"


def line(record: dict[str, object]) -> str:
    """One line as doccano's pandas writer puts it (compact, non-ASCII kept)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def test_the_export_zip_gives_one_annotation_per_member_who_labelled_the_example(
    scheme: SchemeSpec,
) -> None:
    notes: list[Problem] = []
    documents = parse("doccano.zip", folder_zip(RELATION_PROJECT), scheme=scheme, notes=notes)
    assert [d.external_id for d in documents] == ["1", "2"]
    cars, homework = documents
    # admin.jsonl lists both examples with empty labels: doccano writes every example into every
    # member's file, so that is not an annotation by admin.
    assert [a.annotator for a in cars.annotations] == ["ann1", "ann2"]
    assert [a.annotator for a in homework.annotations] == ["ann1", "ann2"]
    assert cars.meta == {"source": "city/council"}  # pandas wrote it as "city\/council"
    ann1 = cars.annotations[0]
    assert [(s.id, s.label, s.text) for s in ann1.spans] == [
        ("11", "Claim", "Cities should ban cars 🚗 from their centres"),
        ("12", "Justification", "Air quality improves within weeks"),
        ("13", "Critique", "但是 shops in the centre may lose customers"),
    ]
    assert [(r.source, r.target, r.type) for r in ann1.relations] == [
        ("12", "11", "supports"),
        ("13", "11", "attacks"),
    ]
    assert [(r.source, r.target, r.type) for r in homework.annotations[1].relations] == [
        ("23", "22", "attacks")
    ]
    assert [a.origin for a in homework.annotations] == [
        "doccano.zip/ann1.jsonl",
        "doccano.zip/ann2.jsonl",
    ]
    [note] = notes
    assert "comments on 1 example" in note.message


def test_all_jsonl_of_a_collaborative_project_names_nobody_until_the_annotator_option_does(
    scheme: SchemeSpec,
) -> None:
    data = zipped({"all.jsonl": ALL_JSONL.read_bytes()})
    [found] = failure("export.zip", data, scheme=scheme)
    assert (found.code, found.file, found.line) == ("no_annotator", "export.zip/all.jsonl", 1)
    assert "annotator option" in found.message
    cars, homework = parse("export.zip", data, scheme=scheme, annotator="ann1")
    assert [(s.start, s.end, s.label) for s in cars.annotations[0].spans] == [
        (0, 43, "Claim"),
        (80, 121, "Critique"),
    ]
    assert cars.annotations[0].annotator == "ann1"
    assert homework.annotations == ()


def test_a_lone_jsonl_is_recognised_by_its_keys_and_its_offsets_are_code_points(
    scheme: SchemeSpec,
) -> None:
    data = (RELATION_PROJECT / "ann2.jsonl").read_bytes()
    cars, homework = parse("ann2.jsonl", data, scheme=scheme, annotator="ann2")
    [span] = cars.annotations[0].spans
    assert (
        span.text
        == cars.text[span.start : span.end]
        == "Cities should ban cars 🚗 from their centres"
    )
    assert [s.text for s in homework.annotations[0].spans] == [
        "Homework helps pupils practise",
        "It takes time away from play",
    ]


def test_the_older_labels_key_and_doccano_records_in_a_json_list_are_read(
    scheme: SchemeSpec,
) -> None:
    records = [{"id": 3, "text": "Buses are cheap.", "labels": [[0, 5, "Claim"]]}]
    jsonl = "\n".join(line(r) for r in records).encode()
    as_list = json.dumps(records).encode()
    for name, data in (("old.jsonl", jsonl), ("old.json", as_list)):
        [document] = parse(name, data, scheme=scheme, annotator="ann1")
        assert [(s.label, s.text) for s in document.annotations[0].spans] == [("Claim", "Buses")]


def test_problems_name_the_member_file_line_and_doccano_field(scheme: SchemeSpec) -> None:
    good = {"id": 1, "text": "Trams are quiet.", "entities": [], "relations": []}
    bad = {
        "id": 2,
        "text": "Trams are quiet.",
        "entities": [
            {"id": 1, "label": "Claim", "start_offset": 0, "end_offset": 5},
            {"id": 2, "label": "Opinion", "start_offset": 6, "end_offset": 9},
            {"id": 3, "label": "Claim", "start_offset": 10, "end_offset": 99},
        ],
        "relations": [{"id": 1, "from_id": 1, "to_id": 7, "type": "supports"}],
    }
    data = zipped({"ann1.jsonl": line(good) + "\n" + line(bad)})
    problems = failure("d.zip", data, scheme=scheme)
    assert {(p.code, p.file, p.line, p.field) for p in problems} == {
        ("unknown_label", "d.zip/ann1.jsonl", 2, "entities[1].label"),
        ("out_of_range", "d.zip/ann1.jsonl", 2, "entities[2].end_offset"),
        ("unknown_span", "d.zip/ann1.jsonl", 2, "relations[0].to_id"),
    }


def test_tuple_spans_and_records_without_an_id_are_located_too(scheme: SchemeSpec) -> None:
    data = "\n".join(
        [
            line({"text": "No id here.", "label": []}),
            line({"id": 5, "text": "Short.", "label": [[0, 60, "Claim"], [0, 2]]}),
        ]
    ).encode()
    problems = failure("x.jsonl", data, scheme=scheme, annotator="ann1")
    assert {(p.line, p.field) for p in problems} >= {
        (1, "id"),
        (2, "label[0][1]"),
        (2, "label[1]"),
    }


def test_one_example_with_different_texts_in_two_member_files_is_refused() -> None:
    first = line({"id": 1, "text": "Bikes are fast.", "label": []})
    second = line({"id": 1, "text": "Bikes are slow.", "label": []})
    problems = failure("d.zip", zipped({"ann1.jsonl": first, "ann2.jsonl": second}))
    [found] = [p for p in problems if p.code == "mismatch"]
    assert (found.file, found.line) == ("d.zip/ann2.jsonl", 1)
    assert "d.zip/ann1.jsonl line 1" in found.message


def test_document_categories_are_noted_and_other_zip_members_skipped() -> None:
    record = {"id": 1, "text": "Bikes are fast.", "entities": [], "cats": ["sports"]}
    notes: list[Problem] = []
    parse("d.zip", zipped({"ann1.jsonl": line(record), "label_config.json": "{}"}), notes=notes)
    messages = [n.message for n in notes]
    assert any("cats" in m for m in messages)
    assert any("'label_config.json'" in m for m in messages)
