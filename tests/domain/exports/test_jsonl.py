"""Native JSONL: what the importer reads back is what was exported, byte for byte."""

from __future__ import annotations

import json
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.exports.jsonl import document_record
from projects.domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportRelation,
    ExportSpan,
    ExportStance,
)
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


# --- the writer is document_record through json, byte for byte ---------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_attributes = st.dictionaries(st.text(max_size=8), _json_values, max_size=3) | st.dictionaries(
    st.sampled_from(["source", "stance"]), st.text(max_size=8), max_size=2
)


@st.composite
def _documents(draw: st.DrawFn) -> ExportDocument:
    text = draw(st.text(min_size=1, max_size=40))
    # the selector shares one mapping between spans with the same attributes: so do these
    shared = draw(st.lists(_attributes.map(MappingProxyType), min_size=1, max_size=3))
    annotations = []
    for number in range(draw(st.integers(min_value=0, max_value=3))):
        spans = []
        for index in range(draw(st.integers(min_value=0, max_value=4))):
            start = draw(st.integers(min_value=0, max_value=len(text) - 1))
            end = draw(st.integers(min_value=start + 1, max_value=len(text)))
            attributes = draw(st.sampled_from(shared) | _attributes)
            spans.append(
                ExportSpan(
                    f"s{index}", start, end, draw(st.text(max_size=6)), text[start:end], attributes
                )
            )
        ids = [s.id for s in spans] or ["s0"]
        relations = tuple(
            ExportRelation(draw(st.sampled_from(ids)), draw(st.sampled_from(ids)), t)
            for t in draw(st.lists(st.text(max_size=6), max_size=2))
        )
        stances = tuple(
            ExportStance(t, v)
            for t, v in draw(
                st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2)
            ).items()
        )
        gold = number == 2
        annotations.append(
            ExportAnnotation(
                None if gold else draw(st.text(max_size=6)),
                gold,
                draw(st.sampled_from(["submitted", "in_progress"])),
                tuple(spans),
                relations,
                stances,
            )
        )
    return ExportDocument(
        draw(st.text(max_size=10)),
        draw(st.text(max_size=10)),
        text,
        draw(st.dictionaries(st.text(max_size=5), _json_values, max_size=4)),
        tuple(annotations),
    )


@settings(max_examples=300, deadline=None)
@given(
    documents=st.lists(_documents(), max_size=3),
    relations=st.booleans(),
    stances=st.booleans(),
)
def test_every_line_is_the_document_record_through_json(
    documents: list[ExportDocument], relations: bool, stances: bool
) -> None:
    """Any text (control characters, U+2028, astral planes), integers past 64 bits, floats
    (written by json however they are spelled), shared and nested attributes."""
    data, _ = write(documents, "jsonl", relations=relations, stances=stances)
    expected = "".join(
        json.dumps(
            document_record(document, relations=relations, stances=stances),
            ensure_ascii=False,
            separators=(", ", ": "),
        )
        + "\n"
        for document in documents
    )
    assert data == expected.encode("utf-8")
