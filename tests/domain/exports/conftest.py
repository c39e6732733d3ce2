"""Records and helpers shared by the export writer tests: no database, no Django."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from projects.domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportScheme,
    ExportSpan,
    ExportStance,
)
from projects.domain.exports.writer import ExportSummary, write_export
from projects.domain.importers import DocumentIn, parse_upload

DEMO_DIR = Path(__file__).resolve().parents[3] / "projects" / "demo_data"

SCHEME = ExportScheme(
    version=3,
    labels=("Claim", "Justification", "Critique"),
    relation_types=("supports", "attacks"),
    stance_targets=("The US decision not to sponsor a UN resolution critical of China",),
    stance_values=("favor", "against", "neutral"),
    attributes=("source", "stance"),
)


def export_documents(parsed: Iterable[DocumentIn]) -> list[ExportDocument]:
    """What the selector makes of imported documents: records in the guaranteed orders."""
    result = []
    for document in sorted(parsed, key=lambda d: d.external_id):
        annotations = []
        for annotation in document.annotations:
            spans = sorted(
                (
                    ExportSpan(
                        id=str(s.id),
                        start=s.start,
                        end=s.end,
                        label=s.label,
                        text=document.text[s.start : s.end],
                        attributes=dict(s.attributes),
                    )
                    for s in annotation.spans
                ),
                key=lambda s: (s.start, s.end, s.label, s.id),
            )
            relations = sorted(
                (ExportRelation(r.source, r.target, r.type) for r in annotation.relations),
                key=lambda r: (r.source, r.target, r.type),
            )
            stances = sorted(
                (ExportStance(s.target, s.value) for s in annotation.stances),
                key=lambda s: s.target,
            )
            annotations.append(
                ExportAnnotation(
                    annotator=annotation.annotator,
                    gold=annotation.gold,
                    status=annotation.status,
                    spans=tuple(spans),
                    relations=tuple(relations),
                    stances=tuple(stances),
                )
            )
        annotations.sort(key=lambda a: (a.gold, a.annotator or ""))
        result.append(
            ExportDocument(
                external_id=document.external_id,
                title=document.title,
                text=document.text,
                meta=dict(document.meta),
                annotations=tuple(annotations),
            )
        )
    return result


def write(
    documents: Iterable[ExportDocument],
    format: str = "jsonl",
    *,
    scheme: ExportScheme = SCHEME,
    agreement: Any = None,
    **options: Any,
) -> tuple[bytes, ExportSummary]:
    out = io.BytesIO()
    summary = write_export(
        documents,
        out,
        options=ExportOptions(format=format, **options),
        scheme=scheme,
        project="demo",
        tool_version="stance-annotator 0.1.0",
        agreement=agreement,
    )
    return out.getvalue(), summary


def span(
    doc_text: str, span_id: str, fragment: str, label: str, occurrence: int = 0, **attributes: str
) -> ExportSpan:
    """A span over the ``occurrence``-th place ``fragment`` appears in the text."""
    start = -1
    for _ in range(occurrence + 1):
        start = doc_text.index(fragment, start + 1)
    return ExportSpan(span_id, start, start + len(fragment), label, fragment, attributes)


#: Emoji (one code point, two UTF-16 units), a ZWJ family, CJK, a combining accent that NFC
#: cannot compose (q + U+0307), an NFC-composed é, line breaks, doubled spaces, and text that a
#: spreadsheet would run as a formula.
UNICODE_TEXT = unicodedata.normalize(
    "NFC",
    "Café owners 🙂 said: the family 👨\u200d👩\u200d👧 agrees.\n"
    "中国人民 welcome q\u0307uiet talks  (really).\n\n"
    "=SUM(A1) is not a claim, nor is -1 or @here.",
)


def unicode_document(split: str = "train") -> ExportDocument:
    text = UNICODE_TEXT
    first = (
        span(text, "e1", "🙂", "Claim", source="café owners"),
        span(text, "e2", "family 👨\u200d👩\u200d👧", "Justification"),
        span(text, "e3", "👨\u200d👩\u200d👧 agrees.\n中国人民", "Critique"),  # crosses a line
        span(text, "e4", "人民", "Claim", stance="favor"),  # inside a CJK run
        span(text, "e5", "q\u0307uiet", "Claim"),  # starts on a base + combining mark
        span(text, "e6", "talks  ", "Justification"),  # ends on whitespace
        span(text, "e7", "=SUM(A1)", "Claim", source="=cmd|' /C calc'!A0"),
        span(text, "e8", "-1 or @here", "Critique", source="@evil"),
    )
    first = tuple(sorted(first, key=lambda s: (s.start, s.end, s.label, s.id)))
    gold = (
        span(text, "g1", "Café owners 🙂 said", "Claim"),
        span(text, "g2", "owners", "Justification"),  # nested in g1
        span(text, "g3", "🙂 said: the", "Critique"),  # overlaps g1
    )
    return ExportDocument(
        external_id="unicode/../doc 1",
        title="Ünïcode",
        text=text,
        meta={"z": 1, "a": {"nested": ["x", "ÿ"]}},
        annotations=(
            ExportAnnotation(
                annotator="annotator1",
                gold=False,
                status="submitted",
                spans=first,
                relations=(
                    ExportRelation("e2", "e1", "supports"),
                    ExportRelation("e8", "e7", "attacks"),
                ),
                stances=(
                    ExportStance(
                        "The US decision not to sponsor a UN resolution critical of China",
                        "neutral",
                    ),
                ),
            ),
            ExportAnnotation(
                annotator=None,
                gold=True,
                status="submitted",
                spans=gold,
                relations=(ExportRelation("g2", "g1", "supports"),),
            ),
        ),
        split=split,
    )


@pytest.fixture
def demo_documents() -> list[ExportDocument]:
    data = (DEMO_DIR / "seed-annotated.jsonl").read_bytes()
    return export_documents(parse_upload("seed-annotated.jsonl", data))


@pytest.fixture
def unicode_doc() -> ExportDocument:
    return unicode_document()
