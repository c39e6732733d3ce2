"""Streaming: the writers consume documents one at a time and hold none of them.

20,000 documents go through each streaming format from a generator; Python's peak allocation
while writing must stay far below what holding the documents would take (about 23 MB for these,
measured below). pyarrow's own buffers are outside tracemalloc's view, so for ``hf`` this checks
the Python side: that rows are flushed in row groups rather than collected.
"""

from __future__ import annotations

import tempfile
import tracemalloc
import weakref
from collections.abc import Iterator

import pytest

from projects.domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportSpan,
)
from projects.domain.exports.writer import write_export

from .conftest import SCHEME

COUNT = 20_000
TEXT = "The spokesman said there had been setbacks, but progress in Geneva. "
#: Far below holding the documents, well above one row group or write buffer.
PEAK_LIMIT = 6 * 1024 * 1024


def documents(count: int) -> Iterator[ExportDocument]:
    for number in range(count):
        text = f"{number}: {TEXT}"
        spans = (
            ExportSpan("s1", 0, 3, "Claim", text[0:3], {"source": "US"}),
            ExportSpan("s2", 4, 7, "Critique", text[4:7]),
        )
        yield ExportDocument(
            external_id=f"doc-{number:06d}",
            title=f"Document {number}",
            text=text,
            meta={"n": number},
            annotations=(
                ExportAnnotation(
                    "annotator1",
                    False,
                    "submitted",
                    spans,
                    (ExportRelation("s1", "s2", "supports"),),
                ),
            ),
        )


def peak_while_writing(format: str, count: int) -> tuple[int, dict[str, object]]:
    options = ExportOptions(format=format, splits=(("train", 0.9), ("test", 0.1)))
    with tempfile.TemporaryFile() as out:
        # Imports, the tokeniser's tables and pyarrow's first allocations are not the stream.
        write_export(
            documents(2), out, options=options, scheme=SCHEME, project="p", tool_version="t"
        )
    with tempfile.TemporaryFile() as out:
        tracemalloc.start()
        try:
            summary = write_export(
                documents(count), out, options=options, scheme=SCHEME, project="p", tool_version="t"
            )
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak, dict(summary.counts)


def test_holding_the_documents_would_take_far_more_than_the_limit() -> None:
    tracemalloc.start()
    try:
        held = list(documents(COUNT // 10))
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(held) == COUNT // 10
    assert size * 10 > 3 * PEAK_LIMIT


@pytest.mark.parametrize("format", ["jsonl", "csv", "conll", "hf"])
def test_twenty_thousand_documents_stream_in_bounded_memory(format: str) -> None:
    peak, counts = peak_while_writing(format, COUNT)
    assert counts["documents"] == COUNT and counts["spans"] == 2 * COUNT
    assert peak < PEAK_LIMIT, f"{format}: peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("format", ["jsonl", "csv", "conll", "brat", "spacy", "hf"])
def test_no_writer_keeps_a_document_after_taking_the_next(format: str) -> None:
    alive: set[int] = set()
    most = 0

    def tracked() -> Iterator[ExportDocument]:
        nonlocal most
        for document in documents(500):
            alive.add(id(document))
            weakref.finalize(document, alive.discard, id(document))
            most = max(most, len(alive))
            yield document
            del document

    with tempfile.TemporaryFile() as out:
        write_export(
            tracked(),
            out,
            options=ExportOptions(format=format),
            scheme=SCHEME,
            project="p",
            tool_version="t",
        )
    assert most <= 2
