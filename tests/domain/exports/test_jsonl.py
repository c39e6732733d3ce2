"""Native JSONL: what the importer reads back is what was exported, byte for byte."""

from __future__ import annotations

import json

from projects.domain.exports.records import ExportDocument
from projects.domain.importers import parse_upload

from .conftest import DEMO_DIR, export_documents, unicode_document, write


def test_demo_round_trip_import_export_import_export_is_byte_identical(
    demo_documents: list[ExportDocument],
) -> None:
    first, _ = write(demo_documents, "jsonl")
    reimported = export_documents(parse_upload("export.jsonl", first))
    second, _ = write(reimported, "jsonl")
    assert first == second
    assert reimported == demo_documents


def test_demo_export_carries_every_span_relation_and_stance_of_the_import(
    demo_documents: list[ExportDocument],
) -> None:
    source = json.loads((DEMO_DIR / "seed-annotated.jsonl").read_text(encoding="utf-8"))
    data, summary = write(demo_documents, "jsonl")
    [exported] = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert exported["id"] == source["id"]
    assert exported["text"] == source["text"]
    assert exported["meta"] == source["meta"]
    for ours, theirs in zip(exported["annotations"], source["annotations"], strict=True):
        assert ours["annotator"] == theirs["annotator"]
        assert sorted(ours["spans"], key=lambda s: s["id"]) == sorted(
            theirs["spans"], key=lambda s: s["id"]
        )
        assert sorted(ours["relations"], key=str) == sorted(theirs["relations"], key=str)
        assert ours["stances"] == theirs["stances"]
    assert summary.counts["spans"] == sum(len(a["spans"]) for a in source["annotations"])


def test_unicode_round_trips_losslessly_through_the_importer() -> None:
    document = unicode_document()
    data, _ = write([document], "jsonl")
    [back] = export_documents(parse_upload("export.jsonl", data))
    assert back == document
    # The emoji is one code point: offsets are code points, not UTF-16 units.
    smile = next(s for s in document.annotations[0].spans if s.text == "🙂")
    assert smile.end - smile.start == 1


def test_gold_is_written_with_a_null_annotator_and_gold_true() -> None:
    data, _ = write([unicode_document()], "jsonl")
    record = json.loads(data)
    assert [(a["annotator"], a["gold"]) for a in record["annotations"]] == [
        ("annotator1", False),
        (None, True),
    ]


def test_one_line_per_document_with_keys_in_a_fixed_order_and_raw_unicode() -> None:
    data, _ = write([unicode_document()], "jsonl")
    text = data.decode("utf-8")
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "🙂" in text and "中国人民" in text
    record = json.loads(text)
    assert list(record) == ["id", "title", "text", "meta", "split", "annotations"]
    assert list(record["annotations"][0]) == [
        "annotator",
        "gold",
        "status",
        "spans",
        "relations",
        "stances",
    ]
    assert list(record["annotations"][0]["spans"][0]) == [
        "id",
        "start",
        "end",
        "label",
        "text",
        "attributes",
    ]
    assert list(record["meta"]) == ["a", "z"]  # sorted, whatever order the database gave


def test_relations_and_stances_left_out_are_absent_not_empty() -> None:
    data, _ = write([unicode_document()], "jsonl", relations=False, stances=False)
    record = json.loads(data)
    for annotation in record["annotations"]:
        assert "relations" not in annotation and "stances" not in annotation
    # ...and such a file still imports.
    assert parse_upload("export.jsonl", data)
