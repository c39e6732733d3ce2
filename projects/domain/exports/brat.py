"""brat standoff: a zip with a folder per annotator (``gold/`` for the adjudicated annotation)
holding ``<doc>.txt`` + ``<doc>.ann`` per document, plus ``annotation.conf`` and ``visual.conf`` at
the root, so brat opens the unpacked folder with the project's labels.

* ``.txt`` is the document text in UTF-8; ``.ann`` offsets are code points of it (brat reads the
  text as a Python ``str``, so code points are what it counts).
* ``T`` lines: ``T1<TAB>Claim 171 297<TAB>text``. brat's text field cannot hold a line break, so
  a span that crosses one is written as fragments split at the breaks (``0 12;13 40``), whose
  texts brat joins with a space; a span of line breaks only has no fragment: it cannot be a
  ``T`` line, so it is listed under ``left_out`` in ``metadata.jsonl`` (never dropped silently).
* ``R`` lines: ``R1<TAB>supports Arg1:T1 Arg2:T2``. ``A`` lines: ``A1<TAB>source T1 US_government``.
* Names in ``.ann`` and ``.conf`` files (labels, relation types, attribute names and values)
  cannot hold spaces there, so they are encoded: a space becomes ``_``, and ``_``, ``%`` and any
  character other than a letter, digit, ``-`` or ``.`` becomes ``%XX`` (its UTF-8 bytes). To
  decode, turn ``_`` into a space, then percent-decode. ``US government`` → ``US_government``.
* Document stances have no place in brat's model, and file names cannot carry every id; so
  ``metadata.jsonl`` at the root has one line per ``.ann`` file: its path (``ann``), the
  document's real ``id``, ``title``, ``meta``, ``split``, the annotation's ``annotator``,
  ``gold``, ``status`` and ``stances``, and ``spans`` mapping each ``T`` id to the span's id in
  the tool. brat ignores the file; with it a re-import is lossless.
* File names: a document id (or annotator name) keeps ASCII letters, digits, ``-``, ``_`` and
  ``.``; anything else (``/``, control characters, non-ASCII) becomes ``%XX``, as does a leading
  ``.``; so ``..`` or ``a/b`` can never leave the folder. A name that would be too long, or would
  clash with an earlier one on a case-insensitive disk, gets ``~`` and a hash of the original.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
from collections.abc import Iterable
from typing import Final

from projects.domain.exports.base import ExportContext, Tally, ZipSink, plain_json
from projects.domain.exports.records import ExportAnnotation, ExportDocument, ExportSpan

__all__ = ["GOLD_FOLDER", "METADATA_NAME", "brat_name", "file_stem", "fragments", "write_brat"]

GOLD_FOLDER: Final = "gold"
METADATA_NAME: Final = "metadata.jsonl"
_NAME_SAFE = frozenset("-.")
_FILE_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
#: Bytes of a file stem before the extension; common file systems allow 255 per name.
_MAX_STEM = 180
#: The characters at which Python's str.splitlines breaks a line: brat's own readers (and most
#: others) split the .ann file on some of them, so none may appear inside a T line's text.
_LINE_BREAK: Final = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
#: Colours for labels in scheme order (the export records carry no colours; these are stable).
_PALETTE = (
    "#8dd3c7",
    "#ffffb3",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#d9d9d9",
    "#bc80bd",
)


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


@functools.lru_cache(maxsize=4096)
def brat_name(value: str) -> str:
    """Encode a label, relation type or attribute name or value for brat (see module doc)."""
    return "".join(
        "_"
        if char == " "
        else char
        if (char.isalnum() and char.isascii()) or char in _NAME_SAFE
        else _percent(char)
        for char in value
    )


def file_stem(value: str) -> str:
    """A file name for a document id or annotator name (see module doc); never empty."""
    encoded = "".join(char if char in _FILE_SAFE else _percent(char) for char in value)
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if not encoded:
        encoded = "%00empty"
    if len(encoded) > _MAX_STEM:
        encoded = f"{encoded[: _MAX_STEM - 17]}~{_digest(value)}"
    return encoded


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


class _Names:
    """Unique file names for one folder level, first come first served, in stream order (which
    is deterministic); clashes, including ones only a case-insensitive disk would see, get a
    hash of the original name."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self._taken: set[str] = {name.casefold() for name in reserved}
        self._given: dict[str, str] = {}

    def get(self, value: str) -> str:
        known = self._given.get(value)
        if known is not None:
            return known
        name = file_stem(value)
        if name.casefold() in self._taken:
            name = f"{name[: _MAX_STEM - 17]}~{_digest(value)}"
        if name.casefold() in self._taken:
            raise ValueError(f"cannot find a unique file name for {value!r}")
        self._taken.add(name.casefold())
        self._given[value] = name
        return name

    def forget(self) -> None:
        """Document names need only be remembered while a document is written: ids are unique,
        so a later document can only clash by case or hashing, and those names stay taken."""
        self._given.clear()


def fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``[start, end)`` split at line breaks into non-empty pieces, for brat's T lines."""
    result: list[tuple[int, int]] = []
    piece_start = start
    for match in _LINE_BREAK.finditer(text, start, end):
        if match.start() > piece_start:
            result.append((piece_start, match.start()))
        piece_start = match.end()
    if end > piece_start:
        result.append((piece_start, end))
    return result


class _Conf:
    """What annotation.conf and visual.conf must declare: the scheme's names, plus every name
    and attribute value the stream actually used (brat needs attribute values enumerated)."""

    def __init__(self, context: ExportContext) -> None:
        scheme = context.scheme
        self.labels: dict[str, None] = dict.fromkeys(scheme.labels)
        self.relation_types: dict[str, None] = dict.fromkeys(scheme.relation_types)
        self.attributes: dict[str, set[str]] = {name: set() for name in scheme.attributes}

    def note(self, annotation: ExportAnnotation) -> None:
        for span in annotation.spans:
            self.labels.setdefault(span.label)
            for name, value in span.attributes.items():
                self.attributes.setdefault(name, set()).add(value)
        for relation in annotation.relations:
            self.relation_types.setdefault(relation.type)

    def annotation_conf(self) -> bytes:
        lines = [
            "# Written by stance-annotator. Names are encoded for brat: a space is written as",
            "# '_', and '_', '%' and characters other than letters, digits, '-' and '.' as %XX",
            "# (UTF-8). Decode: '_' -> space, then percent-decode.",
            "[entities]",
            *(brat_name(label) for label in self.labels),
            "",
            "[relations]",
            *(f"{brat_name(kind)}\tArg1:<ENTITY>, Arg2:<ENTITY>" for kind in self.relation_types),
            "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>",
            "",
            "[events]",
            "",
            "[attributes]",
            *(
                f"{brat_name(name)}\tArg:<ENTITY>, Value:"
                + "|".join(sorted(brat_name(value) for value in values))
                for name, values in self.attributes.items()
                if values
            ),
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def visual_conf(self) -> bytes:
        def display(name: str) -> str:
            return " ".join(name.replace("|", "/").split())

        lines = [
            "[labels]",
            *(f"{brat_name(label)} | {display(label)}" for label in self.labels),
            *(f"{brat_name(kind)} | {display(kind)}" for kind in self.relation_types),
            *(f"{brat_name(name)} | {display(name)}" for name in self.attributes),
            "",
            "[drawing]",
            "SPAN_DEFAULT\tfgColor:black, bgColor:lightgreen, borderColor:darken",
            "ARC_DEFAULT\tcolor:black, arrowHead:triangle-5",
            "ATTRIBUTE_DEFAULT\tglyph:*",
            *(
                f"{brat_name(label)}\tbgColor:{_PALETTE[index % len(_PALETTE)]}"
                for index, label in enumerate(self.labels)
            ),
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")


def _ann(
    text: str, annotation: ExportAnnotation
) -> tuple[str, dict[str, str], list[dict[str, object]]]:
    """The .ann content, the map of T ids to span ids, and the spans brat cannot show."""
    lines: list[str] = []
    left_out: list[dict[str, object]] = []
    t_ids: dict[str, str] = {}
    by_span: dict[str, str] = {}
    attribute_number = 0
    written: list[tuple[str, ExportSpan]] = []
    for span in annotation.spans:
        pieces = fragments(text, span.start, span.end)
        if not pieces:
            left_out.append(
                {"id": span.id, "start": span.start, "end": span.end, "label": span.label}
            )
            continue
        t_id = f"T{len(written) + 1}"
        written.append((t_id, span))
        t_ids[t_id] = span.id
        by_span.setdefault(span.id, t_id)
        offsets = ";".join(f"{start} {end}" for start, end in pieces)
        shown = " ".join(text[start:end] for start, end in pieces)
        lines.append(f"{t_id}\t{brat_name(span.label)} {offsets}\t{shown}")
    for t_id, span in written:
        for name, value in sorted(span.attributes.items()):
            attribute_number += 1
            lines.append(f"A{attribute_number}\t{brat_name(name)} {t_id} {brat_name(value)}")
    relation_number = 0
    for relation in annotation.relations:
        source, target = by_span.get(relation.source), by_span.get(relation.target)
        if source is None or target is None:
            continue
        relation_number += 1
        lines.append(f"R{relation_number}\t{brat_name(relation.type)} Arg1:{source} Arg2:{target}")
    return "".join(line + "\n" for line in lines), t_ids, left_out


def write_brat(
    documents: Iterable[ExportDocument], sink: ZipSink, context: ExportContext, tally: Tally
) -> None:
    conf = _Conf(context)
    folders = _Names(reserved=[GOLD_FOLDER])
    stems: dict[str, _Names] = {}
    # metadata.jsonl grows with the export, so it goes to a temporary file and into the archive
    # at the end (a zip cannot interleave two members).
    with tempfile.TemporaryFile() as metadata:
        for document in documents:
            text_bytes = document.text.encode("utf-8")
            for annotation in document.annotations:
                conf.note(annotation)
                folder = GOLD_FOLDER if annotation.gold else folders.get(annotation.annotator or "")
                names = stems.setdefault(folder, _Names())
                stem = f"{folder}/{names.get(document.external_id)}"
                names.forget()
                ann, t_ids, left_out = _ann(document.text, annotation)
                sink.add_bytes(f"{stem}.txt", text_bytes)
                sink.add_bytes(f"{stem}.ann", ann.encode("utf-8"))
                record = {
                    "ann": f"{stem}.ann",
                    "id": document.external_id,
                    "title": document.title,
                    "meta": plain_json(document.meta),
                    "split": document.split,
                    "annotator": None if annotation.gold else annotation.annotator,
                    "gold": annotation.gold,
                    "status": annotation.status,
                    "stances": [
                        {"target": stance.target, "value": stance.value}
                        for stance in annotation.stances
                    ],
                    "spans": t_ids,
                }
                if left_out:
                    record["left_out"] = left_out
                line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
                metadata.write(line.encode("utf-8"))
        sink.add_file(METADATA_NAME, metadata, metadata.tell(), compress=True)
    sink.add_bytes("annotation.conf", conf.annotation_conf())
    sink.add_bytes("visual.conf", conf.visual_conf())
