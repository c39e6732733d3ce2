"""CoNLL: token-level BIO tags, one block per (document, annotation).

The file explains itself in its header (:data:`HEADER`, written first); in short:

* Tab-separated columns ``TOKEN START END TAG_1 … TAG_k``: ``START``/``END`` are the token's
  ``[start, end)`` code-point offsets in the document text, so a consumer can map tags back onto
  the text without re-tokenising.
* Tokens come from :mod:`projects.domain.exports.tokenize`: whitespace, punctuation and every
  span boundary split tokens, so every span starts and ends on a token edge.
* A block starts with a ``-DOCSTART-`` line and comment lines (``# key = value``) naming the
  document, annotator, split and number of tag columns, then a blank line; a blank line ends
  every sentence. Comment lines start with ``# `` (a hash and a space), which no token line can,
  as tokens never contain whitespace.
* Layering: spans are taken longest first (ties: earlier start, then label, then id) and each
  goes into the first tag column where it overlaps no span already there; a column is added when
  none fits. So the first column holds a maximal set of non-overlapping spans and overlapping or
  nested spans (of any label) go to further columns. Every block has at least one column.
* Sentences end at a line break, and after ``.``, ``!`` or ``?`` followed by whitespace and a
  token beginning with an upper-case letter or a digit; never inside a span (so an ``I-`` tag
  never follows a blank line).
* Tokens never include whitespace, so a span that begins or ends with whitespace is tagged on its
  tokens only (its trimmed extent); a span of whitespace alone has no token and is listed in a
  ``# untagged = <id> <start> <end> <label>`` comment of its block instead of being dropped.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import BinaryIO

from projects.domain.exports.base import MANIFEST_VERSION, ExportContext, Tally
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan
from projects.domain.exports.tokenize import Piece, tokens

__all__ = ["HEADER", "layer_spans", "write_conll"]

HEADER = f"""\
# stance-annotator CoNLL export, format version {MANIFEST_VERSION}
# columns (tab-separated): TOKEN START END TAG_1 ... TAG_k
#   START, END: the token's [start, end) offsets in Unicode code points of the document text
#   TAG_i: BIO tags (B-<label>, I-<label>, O); the number of tag columns k is per block
# layering: spans are placed longest first (ties: earlier start, label, id) into the first tag
#   column where they overlap no span already placed; a new column is opened when none fits
# tokens: split at whitespace, at each punctuation mark, around each CJK character, and at
#   every span boundary, so every span begins and ends on a token edge
# blocks: one per document and annotation, starting with -DOCSTART- and "# key = value" lines
#   (id, title, annotator, gold, status, split, tag_columns); a blank line ends each sentence
# spans that begin or end with whitespace are tagged on their tokens (whitespace is never a
#   token); a span of whitespace only is listed as "# untagged = id start end label"
"""

_LINE_BREAK = re.compile("\n")
_FULL_STOP = re.compile("[.!?]")
_FLUSH_AT = 256 * 1024


def _layer_order(span: ExportSpan) -> tuple[int, int, str, str]:
    return (-(span.end - span.start), span.start, span.label, span.id)


def layer_spans(spans: Iterable[ExportSpan]) -> list[list[ExportSpan]]:
    """Greedy layering (see the module doc): the layers, each free of overlaps."""
    layers: list[list[ExportSpan]] = []
    for span in sorted(spans, key=_layer_order):
        for layer in layers:
            if all(span.end <= other.start or other.end <= span.start for other in layer):
                layer.append(span)
                break
        else:
            layers.append([span])
    return layers


def _tags(
    pieces: Sequence[Piece],
    layer: Sequence[ExportSpan],
    first_at: Mapping[int, int],
    last_at: Mapping[int, int],
) -> list[str]:
    """BIO tags of one layer over the tokens (whose edges include every span edge);
    ``first_at``/``last_at`` map a token's start/end offset to its index."""
    starts = list(first_at)  # dicts keep the token order, so these are sorted
    ends = list(last_at)
    tags = ["O"] * len(pieces)
    for span in layer:
        first = first_at.get(span.start)
        last = last_at.get(span.end)
        if first is None or last is None:
            # Whitespace at an edge: the tokens inside the span, found by bisection.
            first = bisect.bisect_left(starts, span.start)
            last = bisect.bisect_right(ends, span.end) - 1
            if first > last:
                continue
        tags[first] = f"B-{span.label}"
        for index in range(first + 1, last + 1):
            tags[index] = f"I-{span.label}"
    return tags


def _comment(key: str, value: object) -> str:
    # A value with a line break would end the comment early: escape it as JSON would.
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    return f"# {key} = {text}\n"


def _block(document: ExportDocument, annotation: ExportAnnotation) -> str:
    text = document.text
    boundaries = [edge for span in annotation.spans for edge in (span.start, span.end)]
    pieces = tokens(text, boundaries)
    first_at = {start: index for index, (start, _end) in enumerate(pieces)}
    last_at = {end: index for index, (_start, end) in enumerate(pieces)}
    layers = layer_spans(annotation.spans) or [[]]
    columns = [_tags(pieces, layer, first_at, last_at) for layer in layers]
    lines = [
        "-DOCSTART-\n",
        _comment("id", document.external_id),
        _comment("title", document.title),
        _comment("annotator", "gold" if annotation.gold else annotation.annotator),
        _comment("gold", "true" if annotation.gold else "false"),
        _comment("status", annotation.status),
        _comment("split", document.split),
        _comment("tag_columns", len(columns)),
    ]
    for span in annotation.spans:
        if not text[span.start : span.end].strip():
            lines.append(_comment("untagged", f"{span.id} {span.start} {span.end} {span.label}"))
    lines.append("\n")
    cells = [
        f"{text[start:end]}\t{start}\t{end}\t{tags}\n"
        for (start, end), tags in zip(
            pieces, ("\t".join(tags) for tags in zip(*columns, strict=True)), strict=True
        )
    ]
    for index in _sentence_ends(text, pieces, columns, first_at):
        cells[index] += "\n"
    lines.extend(cells)
    lines.append("\n")
    return "".join(lines)


def _sentence_ends(
    text: str,
    pieces: Sequence[Piece],
    columns: Sequence[Sequence[str]],
    first_at: Mapping[int, int],
) -> set[int]:
    """Indices of the tokens after which a sentence ends (see the module doc). Found from the
    few line breaks and full stops in the text rather than by testing every token."""
    if not pieces:
        return set()
    starts = [start for start, _end in pieces]
    last = len(pieces) - 1
    ends: set[int] = set()
    for match in _LINE_BREAK.finditer(text, pieces[0][1], pieces[-1][0]):
        before = bisect.bisect_right(starts, match.start()) - 1
        if pieces[before][1] <= match.start():  # in the gap after the token, not inside a span
            ends.add(before)
    for match in _FULL_STOP.finditer(text):
        index = first_at.get(match.start())
        if index is None or index == last or pieces[index][1] != match.end():
            continue
        following = pieces[index + 1][0]
        if following > match.end() and (text[following].isupper() or text[following].isdigit()):
            ends.add(index)
    # A sentence may not end before a token that continues a span in any column.
    return {index for index in ends if all(column[index + 1][0] != "I" for column in columns)}


def write_conll(
    documents: Iterable[ExportDocument], out: BinaryIO, context: ExportContext, tally: Tally
) -> None:
    buffer = io.StringIO()
    buffer.write(HEADER)
    buffer.write("\n")
    for document in documents:
        for annotation in document.annotations:
            buffer.write(_block(document, annotation))
        if buffer.tell() >= _FLUSH_AT:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
