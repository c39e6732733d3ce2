"""Native JSONL (FORMATS.md, "Native JSONL"): one document per line, re-importable losslessly.

Keys come in a fixed order (the order of FORMATS.md's example) and ``meta`` and span attributes
are written with sorted keys, so the bytes do not depend on the order a database returned a JSON
object's keys in. ``split`` is an addition to the import shape: the importer ignores it, and a
re-export recomputes the same value from the id and seed. When the options leave relations or
stances out, their keys are left out too, so "not exported" never reads as "none made".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

from projects.domain.exports.base import ExportContext, Tally, plain_json
from projects.domain.exports.records import ExportAnnotation, ExportDocument

__all__ = ["annotation_record", "document_record", "write_jsonl"]


def annotation_record(
    annotation: ExportAnnotation, *, relations: bool, stances: bool
) -> dict[str, object]:
    record: dict[str, object] = {
        "annotator": None if annotation.gold else annotation.annotator,
        "gold": annotation.gold,
        "status": annotation.status,
        "spans": [
            {
                "id": span.id,
                "start": span.start,
                "end": span.end,
                "label": span.label,
                "text": span.text,
                "attributes": dict(sorted(span.attributes.items())),
            }
            for span in annotation.spans
        ],
    }
    if relations:
        record["relations"] = [
            {"from": relation.source, "to": relation.target, "type": relation.type}
            for relation in annotation.relations
        ]
    if stances:
        record["stances"] = [
            {"target": stance.target, "value": stance.value} for stance in annotation.stances
        ]
    return record


def document_record(
    document: ExportDocument, *, relations: bool, stances: bool
) -> dict[str, object]:
    return {
        "id": document.external_id,
        "title": document.title,
        "text": document.text,
        "meta": plain_json(document.meta),
        "split": document.split,
        "annotations": [
            annotation_record(annotation, relations=relations, stances=stances)
            for annotation in document.annotations
        ],
    }


def write_jsonl(
    documents: Iterable[ExportDocument], out: BinaryIO, context: ExportContext, tally: Tally
) -> None:
    options = context.options
    for document in documents:
        record = document_record(document, relations=options.relations, stances=options.stances)
        # ensure_ascii=False keeps the text readable and smaller; JSON still escapes the control
        # characters, and U+2028/2029 stay raw, which the importer handles (it splits on \n only).
        line = json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
        out.write(line.encode("utf-8"))
        out.write(b"\n")
