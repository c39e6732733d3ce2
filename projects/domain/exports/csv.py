"""CSV: one row per span, for spreadsheets and quick pandas work.

Columns: ``document_id, split, annotator, gold, span_id, start, end, label, text``, then one column
per scheme span attribute in scheme order (``source, stance`` in the demo scheme). ``annotator``
is ``gold`` for the adjudicated annotation, whose ``gold`` column is ``true`` (so a user who is
really called "gold" stays distinguishable). Relations and document stances have no place in a
row per span: use ``jsonl``, ``brat`` or ``hf`` for them. An annotation without spans has no row.

Dialect: RFC 4180. Comma-separated, ``\\r\\n`` line endings (the RFC's, and what Excel writes),
fields quoted only when they hold a comma, a quote or a line break, quotes doubled, UTF-8
without a byte-order mark.

Formula injection (OWASP, "CSV Injection"): a text cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return would be run as a formula by a spreadsheet, so it gets a ``'``
in front. A cell that already begins with ``'`` gets one too, which makes the rule reversible: a
reader drops one leading ``'`` from any text cell that has one and gets the original back. Only
the offsets are written as bare numbers; they are never negative.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from projects.domain.exports.base import ExportContext, Tally
from projects.domain.exports.records import ExportDocument

__all__ = ["FIXED_COLUMNS", "header", "neutralise", "write_csv"]

FIXED_COLUMNS: tuple[str, ...] = (
    "document_id",
    "split",
    "annotator",
    "gold",
    "span_id",
    "start",
    "end",
    "label",
    "text",
)
GOLD_NAME = "gold"
_DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r", "'")
#: Rows are formatted in memory in batches of about this many characters, then written.
_FLUSH_AT = 256 * 1024


def neutralise(value: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would take for a formula (see the module doc)."""
    return "'" + value if value.startswith(_DANGEROUS_FIRST) else value


def header(attributes: Iterable[str]) -> list[str]:
    """The header row; an attribute whose name is also a fixed column is ``attribute:<name>``."""
    return [
        *FIXED_COLUMNS,
        *(f"attribute:{name}" if name in FIXED_COLUMNS else name for name in attributes),
    ]


def write_csv(
    documents: Iterable[ExportDocument], out: BinaryIO, context: ExportContext, tally: Tally
) -> None:
    attributes = context.scheme.attributes
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(name) for name in header(attributes)])
    for document in documents:
        document_id = neutralise(document.external_id)
        split = neutralise(document.split)
        for annotation in document.annotations:
            annotator = GOLD_NAME if annotation.gold else neutralise(annotation.annotator or "")
            gold = "true" if annotation.gold else "false"
            for span in annotation.spans:
                writer.writerow(
                    [
                        document_id,
                        split,
                        annotator,
                        gold,
                        neutralise(span.id),
                        span.start,
                        span.end,
                        neutralise(span.label),
                        neutralise(span.text),
                        *(neutralise(span.attributes.get(name, "")) for name in attributes),
                    ]
                )
        if buffer.tell() >= _FLUSH_AT:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
