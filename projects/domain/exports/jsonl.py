"""Native JSONL (FORMATS.md, "Native JSONL"): one document per line, re-importable losslessly.

Keys come in a fixed order (the order of FORMATS.md's example) and ``meta`` and span attributes
are written with sorted keys, so the bytes do not depend on the order a database returned a JSON
object's keys in. ``split`` is an addition to the import shape: the importer ignores it, and a
re-export recomputes the same value from the id and seed. When the options leave relations or
stances out, their keys are left out too, so "not exported" never reads as "none made".

A line is exactly ``json.dumps(document_record(…), ensure_ascii=False, separators=(", ", ": "))``
(:func:`document_record` is the definition; tests/domain/exports/test_jsonl.py holds the writer
to it on generated records). Writing it is most of an export's time, so :func:`write_jsonl`
builds the same text faster: the document's own fields through the encoder ``json`` itself uses
for strings, ``meta`` through ``json``, and the annotations through ujson, whose output equals
``json``'s for strings, integers, booleans, null, lists and dicts, but not for every float
(``1e-05`` is ``1e-5`` there). Span attributes are the one free-form value in an annotation:
a document whose attributes hold a float has its annotations written by ``json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import partial
from json.encoder import encode_basestring
from typing import BinaryIO

import ujson

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
    _add_relations_and_stances(record, annotation, relations=relations, stances=stances)
    return record


def _add_relations_and_stances(
    record: dict[str, object], annotation: ExportAnnotation, *, relations: bool, stances: bool
) -> None:
    """The keys after ``spans``, shared by the record and the fast line; left out when the
    options leave them out, so "not exported" never reads as "none made"."""
    if relations:
        record["relations"] = [
            {"from": relation.source, "to": relation.target, "type": relation.type}
            for relation in annotation.relations
        ]
    if stances:
        record["stances"] = [
            {"target": stance.target, "value": stance.value} for stance in annotation.stances
        ]


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
    attributes = _PlainAttributes()
    for document in documents:
        line = _line(document, options.relations, options.stances, attributes)
        out.write(line.encode("utf-8"))
        out.write(b"\n")


# ensure_ascii=False keeps the text readable and smaller; JSON still escapes the control
# characters, and U+2028/2029 stay raw, which the importer handles (it splits on \n only).
_dumps = partial(json.dumps, ensure_ascii=False, separators=(", ", ": "))
_fast_dumps = partial(
    ujson.dumps, ensure_ascii=False, escape_forward_slashes=False, separators=(", ", ": ")
)


def _line(
    document: ExportDocument, relations: bool, stances: bool, attributes: _PlainAttributes
) -> str:
    """``_dumps(document_record(document, …))``, built faster (see the module's docstring)."""
    floatless = True
    records = []
    for annotation in document.annotations:
        spans = []
        for span in annotation.spans:
            plain, plain_floatless = attributes.get(span.attributes)
            floatless = floatless and plain_floatless
            spans.append(
                {
                    "id": span.id,
                    "start": span.start,
                    "end": span.end,
                    "label": span.label,
                    "text": span.text,
                    "attributes": plain,
                }
            )
        record: dict[str, object] = {
            "annotator": None if annotation.gold else annotation.annotator,
            "gold": annotation.gold,
            "status": annotation.status,
            "spans": spans,
        }
        _add_relations_and_stances(record, annotation, relations=relations, stances=stances)
        records.append(record)
    return "".join(
        (
            '{"id": ',
            encode_basestring(document.external_id),
            ', "title": ',
            encode_basestring(document.title),
            ', "text": ',
            encode_basestring(document.text),
            ', "meta": ',
            _dumps(plain_json(document.meta)),
            ', "split": ',
            encode_basestring(document.split),
            ', "annotations": ',
            (_fast_dumps if floatless else _dumps)(records),
            "}",
        )
    )


class _PlainAttributes:
    """Span attributes as the dict :func:`annotation_record` writes (keys sorted), and whether
    they are free of floats. The selector shares one mapping between every span with the same
    attributes, so each is converted once; the memo holds what it has seen (which keeps the ids
    it is keyed by from being reused) and is emptied when it grows, so memory stays flat."""

    LIMIT = 4096

    def __init__(self) -> None:
        self._seen: dict[int, tuple[Mapping[str, object], dict[str, object], bool]] = {}

    def get(self, attributes: Mapping[str, object]) -> tuple[dict[str, object], bool]:
        if not attributes:
            return {}, True
        hit = self._seen.get(id(attributes))
        if hit is None or hit[0] is not attributes:
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            plain = dict(sorted(attributes.items()))
            hit = (attributes, plain, _floatless(plain))
            self._seen[id(attributes)] = hit
        return hit[1], hit[2]


def _floatless(value: object) -> bool:
    """Only strings, integers, booleans, null, lists and dicts with string keys inside: what
    ujson writes exactly as ``json`` does. A float (or anything else) goes to ``json``."""
    if value is None or isinstance(value, str | int):
        return True
    if isinstance(value, dict):
        return all(isinstance(key, str) and _floatless(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_floatless(item) for item in value)
    return False
