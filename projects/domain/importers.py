"""Parse uploaded files into plain document records, or explain everything that is wrong with them.

An import is all or nothing, so the parser reads the whole upload, collects every problem (each
naming the file, line and field) and raises :class:`ImportFailed` if there is any; only a clean
upload yields records. Nothing here touches a database: the service decides what to do with
documents whose ids already exist, using the ``file`` and ``line`` each record carries.

Limits are checked before the work they bound (bytes before decoding, declared zip sizes before
inflating, inflated bytes while inflating), so a hostile upload costs little.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import cast

from projects.domain.problems import ImportFailed, Problem
from projects.domain.scheme import SchemeSpec
from projects.domain.spans import (
    RelationIn,
    SpanIn,
    StanceIn,
    validate_relations,
    validate_span_content,
    validate_span_ids,
    validate_span_offsets,
    validate_stances,
)
from projects.domain.text import Normalised, normalise, normalise_with_map

__all__ = [
    "ANNOTATION_STATUSES",
    "DEFAULT_LIMITS",
    "DEFAULT_OPTIONS",
    "IMPORT_FORMATS",
    "SUPPORTED_EXTENSIONS",
    "AnnotationIn",
    "DocumentIn",
    "ImportLimits",
    "ImportOptions",
    "parse_upload",
]

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".jsonl", ".ndjson", ".json", ".csv", ".txt", ".zip")

#: ``auto`` recognises the format from the extension and, where one extension serves several
#: tools (``.jsonl``, ``.json``, ``.zip``), from the content; the others force one reading.
IMPORT_FORMATS: tuple[str, ...] = ("auto", "native", "brat", "doccano", "labelstudio")

#: Statuses an imported annotation may carry (an export with unfinished work re-imports).
ANNOTATION_STATUSES: tuple[str, ...] = ("in_progress", "submitted")

_BOM = b"\xef\xbb\xbf"
# PostgreSQL cannot store NUL in text or jsonb, and lone surrogates (legal as JSON escapes) cannot
# be encoded as UTF-8 at all: both must be refused here, not fail later inside a transaction.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """Upper bounds for one upload; the service builds these from settings."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_documents: int = 20_000
    max_document_chars: int = 1_000_000
    max_zip_entries: int = 20_000
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    #: Document ids become an indexed database column of bounded length.
    max_id_chars: int = 255


DEFAULT_LIMITS = ImportLimits()


@dataclass(frozen=True)
class ImportOptions:
    """How to read an upload beyond what its bytes say.

    ``annotator`` names the member who made annotations the file does not attribute to anyone (a
    brat pair outside any folder, a doccano file not named after a user). ``annotator_map``
    renames the annotators a file names (a Label Studio user id or email, a brat folder) to
    usernames in this project.
    """

    format: str = "auto"
    annotator: str | None = None
    annotator_map: Mapping[str, str] = field(default_factory=dict, hash=False)


DEFAULT_OPTIONS = ImportOptions()


@dataclass(frozen=True)
class AnnotationIn:
    """One annotator's (or the gold) annotation, with offsets already on the normalised text."""

    annotator: str | None
    gold: bool = False
    status: str = "submitted"
    spans: tuple[SpanIn, ...] = ()
    relations: tuple[RelationIn, ...] = ()
    stances: tuple[StanceIn, ...] = ()
    #: The file this annotation came from when it is not the document's own (a brat ``.ann``
    #: in an annotator's folder), so a problem found later can name it.
    origin: str | None = None


@dataclass(frozen=True)
class DocumentIn:
    """A document ready to store: ``text`` is already normalised and every span's ``text`` is
    ``text[start:end]``. ``meta`` is a plain dict that nothing in this module mutates after
    construction (the dataclass is frozen but a dict cannot be; callers should not mutate it
    either). ``file`` and ``line`` let the service name the source in its own problems."""

    external_id: str
    title: str
    text: str
    meta: Mapping[str, object] = field(default_factory=dict, hash=False)
    annotations: tuple[AnnotationIn, ...] = ()
    line: int | None = None
    file: str = ""


def parse_upload(
    filename: str,
    data: bytes,
    *,
    limits: ImportLimits = DEFAULT_LIMITS,
    scheme: SchemeSpec | None = None,
    options: ImportOptions = DEFAULT_OPTIONS,
    notes: list[Problem] | None = None,
) -> list[DocumentIn]:
    """Parse one uploaded file into documents, or raise ImportFailed.

    The format comes from ``options.format``, or (``auto``) from the extension and content. With
    a ``scheme``, pre-annotation labels, attributes, relations and stances are checked against
    it; without one only their shape and offsets are. ``notes`` receives what was read but
    deliberately left out (a Label Studio annotation the annotator cancelled, brat events): the
    import still succeeds, and the caller shows them.
    """
    if len(data) > limits.max_file_bytes:
        raise ImportFailed(
            [
                Problem(
                    f"the file is {len(data)} bytes, more than the limit of "
                    f"{limits.max_file_bytes} bytes",
                    file=filename,
                    code="too_large",
                )
            ]
        )
    extension = PurePosixPath(filename.replace("\\", "/").lower()).suffix
    context = _Context(filename, limits, scheme, [], options, [])
    if options.format not in IMPORT_FORMATS:
        raise context.fail_now(
            f"unknown format {options.format!r}; choose one of: {', '.join(IMPORT_FORMATS)}",
            code="unsupported",
        )
    parser = _choose_parser(context, extension)
    if parser is None:
        raise ImportFailed(context.problems)
    documents = parser(context, data)
    if not context.problems and not documents:
        context.add("the file contains no documents", code="empty")
    if options.annotator_map:
        renamed = _rename_annotators(context, [*documents, *context.flawed])
        documents, flawed = renamed[: len(documents)], renamed[len(documents) :]
    else:
        flawed = context.flawed
    if context.problems:
        raise ImportFailed(context.problems, documents=[*documents, *flawed])
    if notes is not None:
        notes.extend(context.notes)
    return documents


_Parser = Callable[["_Context", bytes], list[DocumentIn]]


def _choose_parser(context: _Context, extension: str) -> _Parser | None:
    """The parser for this upload, or None with the reason reported.

    Interchange formats live in :mod:`projects.domain.interchange`, which builds on this
    module; importing it here, at call time, keeps the import graph free of a cycle.
    """
    from projects.domain import interchange

    chosen = context.options.format
    if chosen == "auto":
        if extension in (".jsonl", ".ndjson"):
            return interchange.parse_jsonl_auto
        if extension == ".json":
            return interchange.parse_json
        if extension == ".zip":
            return interchange.parse_zip_auto
        parser = _PARSERS.get(extension)
    elif chosen == "native":
        parser = _PARSERS.get(extension)
    else:
        parser = interchange.PARSERS[chosen].get(extension)
        if parser is None:
            accepted = ", ".join(interchange.PARSERS[chosen])
            context.add(
                f"a {chosen} upload is one of: {accepted}, not {extension or '(no extension)'!r}",
                code="unsupported",
            )
            return None
    if parser is None:
        accepted = ", ".join(_PARSERS) if chosen == "native" else ", ".join(SUPPORTED_EXTENSIONS)
        context.add(
            f"unsupported file type {extension or '(no extension)'!r}; upload one of: {accepted}",
            code="unsupported",
        )
    return parser


def _rename_annotators(context: _Context, documents: list[DocumentIn]) -> list[DocumentIn]:
    """Apply ``annotator_map``; two names that become one user in one document are an error."""
    mapping = context.options.annotator_map
    used: set[str] = set()
    renamed: list[DocumentIn] = []
    for document in documents:
        seen: dict[str, str] = {}
        annotations: list[AnnotationIn] = []
        for annotation in document.annotations:
            name = annotation.annotator
            if name is not None and name in mapping:
                used.add(name)
                annotation = replace(annotation, annotator=mapping[name])
            new_name = annotation.annotator
            if new_name is not None:
                if new_name in seen:
                    context.add(
                        f"annotators {seen[new_name]!r} and {name!r} both become {new_name!r} "
                        f"in document {document.external_id!r}; one user has one annotation "
                        "per document",
                        code="duplicate",
                        line=document.line,
                        field="annotator_map",
                        file=annotation.origin or document.file,
                    )
                seen[new_name] = name or new_name
            annotations.append(annotation)
        renamed.append(replace(document, annotations=tuple(annotations)))
    for name in sorted(set(mapping) - used):
        context.note(f"annotator_map names {name!r}, but no annotation in the file is by {name!r}")
    return renamed


@dataclass(frozen=True)
class _Context:
    """What every parser needs, and the lists all of them report into."""

    filename: str
    limits: ImportLimits
    scheme: SchemeSpec | None
    problems: list[Problem]
    options: ImportOptions = DEFAULT_OPTIONS
    notes: list[Problem] = field(default_factory=list)
    #: documents with problems but a usable id, kept only so that the caller can add what the
    #: database knows about them (id taken, annotator not a member) to the same report
    flawed: list[DocumentIn] = field(default_factory=list)

    def add(
        self,
        message: str,
        *,
        code: str = "invalid",
        line: int | None = None,
        field: str | None = None,
        file: str | None = None,
    ) -> None:
        self.problems.append(Problem(message, file or self.filename, line, field, code))

    def note(
        self,
        message: str,
        *,
        code: str = "ignored",
        line: int | None = None,
        field: str | None = None,
        file: str | None = None,
    ) -> None:
        """Something read but deliberately not imported: reported, never an error."""
        self.notes.append(Problem(message, file or self.filename, line, field, code))

    def fail_now(self, message: str, *, code: str, file: str | None = None) -> ImportFailed:
        """For limits whose breach makes reading on pointless (or dangerous)."""
        self.add(message, code=code, file=file)
        return ImportFailed(self.problems)

    def too_many_documents(self, line: int | None = None, file: str | None = None) -> None:
        self.add(
            f"the file has more than {self.limits.max_documents} documents (the limit)",
            code="too_large",
            line=line,
            file=file,
        )


# --- shared pieces -------------------------------------------------------------------------------


def _decode(context: _Context, data: bytes, file: str) -> str | None:
    """UTF-8 only (BOM tolerated): guessing an encoding would silently corrupt text and offsets."""
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + skipped
        line = data.count(b"\n", 0, offset) + 1
        context.add(
            f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} "
            f"(line {line}) cannot be decoded; save the file as UTF-8",
            code="encoding",
            line=line,
            file=file,
        )
        return None


def _unstorable(value: str) -> str | None:
    """Describe the first character a database cannot store, if any."""
    if "\x00" not in value:
        try:  # C-speed checks for the usual case; the regex only finds where the fault is
            value.encode("utf-8")
        except UnicodeEncodeError:
            pass
        else:
            return None
    match = _UNSTORABLE.search(value)
    if match is None:
        return None
    char = match.group()
    what = "a NUL character" if char == "\x00" else f"a lone surrogate U+{ord(char):04X}"
    return f"contains {what} at position {match.start()}, which cannot be stored"


def _unstorable_in(value: object, path: str) -> Iterator[tuple[str, str]]:
    """Walk decoded JSON and yield (field, message) for every string that cannot be stored."""
    if isinstance(value, str):
        message = _unstorable(value)
        if message is not None:
            yield path, message
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _unstorable_in(key, path)
            yield from _unstorable_in(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_in(item, f"{path}[{index}]")


@dataclass(frozen=True)
class _Where:
    """Where a record came from, for its problems and for the DocumentIn it becomes."""

    file: str
    line: int | None

    def problem(self, message: str, field: str | None = None, code: str = "invalid") -> Problem:
        return Problem(message, self.file, self.line, field, code)

    def locate(self, problems: Sequence[Problem]) -> list[Problem]:
        return [replace(p, file=self.file, line=self.line) for p in problems]


def _build_document(
    context: _Context,
    where: _Where,
    record: Mapping[str, object],
) -> DocumentIn | None:
    """Validate one document record (the native JSON shape) and build it, or report why not.

    Returns None when this record has problems (already reported into ``context``).
    """
    problems: list[Problem] = []
    limits = context.limits

    raw_id = record.get("id")
    external_id = ""
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        external_id = str(raw_id)
    elif isinstance(raw_id, str):
        external_id = raw_id
    if raw_id is None:
        problems.append(where.problem("a document needs an id", "id"))
    elif not external_id.strip():
        problems.append(where.problem("id must be a non-empty string or an integer", "id"))
    elif external_id != external_id.strip():
        problems.append(where.problem(f"id {external_id!r} has leading or trailing spaces", "id"))
    elif len(external_id) > limits.max_id_chars:
        problems.append(
            where.problem(
                f"id is {len(external_id)} characters long, more than {limits.max_id_chars}",
                "id",
                "too_large",
            )
        )
    elif (message := _unstorable(external_id)) is not None:
        problems.append(where.problem(f"id {message}", "id", "encoding"))

    raw_text = record.get("text")
    normalised: Normalised | None = None
    if not isinstance(raw_text, str) or not raw_text.strip():
        problems.append(where.problem("text must be a non-empty string", "text"))
    elif len(raw_text) > limits.max_document_chars:
        problems.append(
            where.problem(
                f"text is {len(raw_text)} characters long, more than the limit of "
                f"{limits.max_document_chars}",
                "text",
                "too_large",
            )
        )
    elif (message := _unstorable(raw_text)) is not None:
        problems.append(where.problem(f"text {message}", "text", "encoding"))
    else:
        normalised = normalise_with_map(raw_text)
        if len(normalised.text) > limits.max_document_chars:
            problems.append(
                where.problem(
                    f"text is {len(normalised.text)} characters long once normalised, more than "
                    f"the limit of {limits.max_document_chars}",
                    "text",
                    "too_large",
                )
            )
            normalised = None

    raw_title = record.get("title")
    title = external_id
    if raw_title is not None and not isinstance(raw_title, str):
        problems.append(where.problem("title must be a string", "title"))
    elif isinstance(raw_title, str) and raw_title.strip():
        if (message := _unstorable(raw_title)) is not None:
            problems.append(where.problem(f"title {message}", "title", "encoding"))
        title = normalise(raw_title)

    raw_meta = record.get("meta")
    meta: dict[str, object] = {}
    if isinstance(raw_meta, dict):
        meta = raw_meta
        for path, message in _unstorable_in(raw_meta, "meta"):
            problems.append(where.problem(message, path, "encoding"))
    elif raw_meta is not None:
        problems.append(where.problem("meta must be an object", "meta"))

    annotations: tuple[AnnotationIn, ...] = ()
    raw_annotations = record.get("annotations")
    if raw_annotations is not None and not isinstance(raw_annotations, list):
        problems.append(where.problem("annotations must be a list", "annotations"))
    elif raw_annotations:
        annotations = _build_annotations(
            context, where, raw_annotations, raw_text, normalised, problems
        )

    if problems:
        context.problems.extend(problems)
        if not any(p.field == "id" for p in problems):
            context.flawed.append(
                DocumentIn(
                    external_id=external_id,
                    title=title,
                    text=normalised.text if normalised else "",
                    meta={},
                    annotations=annotations,
                    line=where.line,
                    file=where.file,
                )
            )
        return None
    assert normalised is not None  # every path that leaves it None also reports a problem
    return DocumentIn(
        external_id=external_id,
        title=title,
        text=normalised.text,
        meta=meta,
        annotations=annotations,
        line=where.line,
        file=where.file,
    )


def _build_annotations(
    context: _Context,
    where: _Where,
    raw_annotations: list[object],
    raw_text: object,
    normalised: Normalised | None,
    problems: list[Problem],
) -> tuple[AnnotationIn, ...]:
    """Validate pre-annotations on the original text, then carry them onto the normalised text.

    Offsets are only checked when the text itself is usable; otherwise every span would repeat
    the text's own problem.
    """
    original = raw_text if isinstance(raw_text, str) and normalised is not None else None
    annotations: list[AnnotationIn] = []
    annotators: dict[str, int] = {}
    gold_at: int | None = None
    for index, raw in enumerate(raw_annotations):
        path = f"annotations[{index}]"
        if not isinstance(raw, dict):
            problems.append(where.problem("each annotation must be an object", path))
            continue
        annotator = raw.get("annotator")
        gold = raw.get("gold", False)
        if not isinstance(gold, bool):
            problems.append(where.problem("gold must be true or false", f"{path}.gold"))
            gold = False
        if annotator is not None and (not isinstance(annotator, str) or not annotator.strip()):
            problems.append(
                where.problem("annotator must be a non-empty string or null", f"{path}.annotator")
            )
            annotator = None
        elif gold and annotator is not None:
            problems.append(
                where.problem(
                    "a gold annotation has no annotator: set annotator to null",
                    f"{path}.annotator",
                )
            )
        elif not gold and annotator is None:
            problems.append(
                where.problem("annotator is required unless gold is true", f"{path}.annotator")
            )
        elif isinstance(annotator, str):
            if annotator in annotators:
                problems.append(
                    where.problem(
                        f"annotator {annotator!r} already has annotations[{annotators[annotator]}]"
                        " in this document",
                        f"{path}.annotator",
                        "duplicate",
                    )
                )
            else:
                annotators[annotator] = index
        if gold:
            if gold_at is not None:
                problems.append(
                    where.problem(
                        f"a document has at most one gold annotation; annotations[{gold_at}] "
                        "is gold already",
                        f"{path}.gold",
                        "duplicate",
                    )
                )
            else:
                gold_at = index
        status = raw.get("status", "submitted")
        if status not in ANNOTATION_STATUSES:
            problems.append(
                where.problem(
                    f"status must be one of {', '.join(ANNOTATION_STATUSES)}, not {status!r}",
                    f"{path}.status",
                )
            )
        spans = _build_spans(context, where, raw.get("spans"), path, original, normalised, problems)
        spans_by_id = {
            span.id: span.label
            for span in spans
            if isinstance(span.id, str) and isinstance(span.label, str)
        }
        relations = tuple(
            RelationIn(
                source=cast(str, item.get("from")),
                target=cast(str, item.get("to")),
                type=cast(str, item.get("type")),
            )
            for item in _objects(where, raw.get("relations"), f"{path}.relations", problems)
        )
        problems.extend(
            where.locate(
                validate_relations(
                    spans_by_id, relations, context.scheme, field_prefix=f"{path}.relations"
                )
            )
        )
        stances = tuple(
            StanceIn(target=cast(str, item.get("target")), value=cast(str, item.get("value")))
            for item in _objects(where, raw.get("stances"), f"{path}.stances", problems)
        )
        problems.extend(
            where.locate(validate_stances(stances, context.scheme, field_prefix=f"{path}.stances"))
        )
        annotations.append(
            AnnotationIn(
                annotator=annotator if isinstance(annotator, str) else None,
                gold=gold,
                status=str(status),
                spans=spans,
                relations=relations,
                stances=stances,
            )
        )
    return tuple(annotations)


def _objects(
    where: _Where, value: object, path: str, problems: list[Problem]
) -> list[Mapping[str, object]]:
    """The entries of an optional list of objects.

    If any entry is not an object, each such entry is reported and the whole list is left out of
    further checks: skipping just the bad entries would shift the indices in every later field
    path, and a placeholder would bury the real problem under follow-on ones.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(where.problem("must be a list", path))
        return []
    bad = [index for index, item in enumerate(value) if not isinstance(item, dict)]
    for index in bad:
        problems.append(where.problem("must be an object", f"{path}[{index}]"))
    return [] if bad else cast("list[Mapping[str, object]]", value)


def _build_spans(
    context: _Context,
    where: _Where,
    value: object,
    path: str,
    original: str | None,
    normalised: Normalised | None,
    problems: list[Problem],
) -> tuple[SpanIn, ...]:
    """Check spans against the original text, remap them, and give id-less spans fresh ids."""
    prefix = f"{path}.spans"
    spans: list[SpanIn] = []
    for index, item in enumerate(_objects(where, value, prefix, problems)):
        span_path = f"{prefix}[{index}]"
        raw_id = item.get("id")
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            raw_id = str(raw_id)
        attributes = item.get("attributes")
        if attributes is None:
            attributes = {}
        elif not isinstance(attributes, dict):
            problems.append(
                where.problem("attributes must be an object", f"{span_path}.attributes")
            )
            attributes = {}
        span = SpanIn(
            start=cast(int, item.get("start")),
            end=cast(int, item.get("end")),
            label=cast(str, item.get("label")),
            id=cast("str | None", raw_id),
            text=cast("str | None", item.get("text")),
            attributes=cast("dict[str, str]", attributes),
        )
        if original is not None and normalised is not None:
            offset_problems = validate_span_offsets(original, span, field=span_path)
            problems.extend(where.locate(offset_problems))
            if not offset_problems:
                span = _remap(where, span, span_path, normalised, problems)
        problems.extend(where.locate(validate_span_content(span, context.scheme, field=span_path)))
        spans.append(span)
    problems.extend(where.locate(validate_span_ids(spans, field_prefix=prefix)))

    taken = {span.id for span in spans if isinstance(span.id, str)}
    counter = 0
    result: list[SpanIn] = []
    for span in spans:
        if span.id is None:
            counter += 1
            while f"s{counter}" in taken:
                counter += 1
            span = replace(span, id=f"s{counter}")
        result.append(span)
    return tuple(result)


def _remap(
    where: _Where, span: SpanIn, path: str, normalised: Normalised, problems: list[Problem]
) -> SpanIn:
    """Move a span onto the normalised text, or report the end that has no exact position."""
    start = normalised.remap(span.start)
    end = normalised.remap(span.end)
    for name, offset, mapped in (("start", span.start, start), ("end", span.end, end)):
        if mapped is None:
            problems.append(
                where.problem(
                    f"{name} {offset} falls inside a character sequence that normalisation "
                    "merges (a CRLF line break, or a letter and its combining accent); move it "
                    "to the edge of that sequence",
                    f"{path}.{name}",
                    "remap",
                )
            )
    if start is None or end is None:
        return span
    return replace(span, start=start, end=end, text=normalised.text[start:end])


def _check_duplicate_ids(context: _Context, documents: Sequence[DocumentIn]) -> None:
    """Within one upload an id must be unique; the service checks against the database."""
    first: dict[str, DocumentIn] = {}
    for document in documents:
        earlier = first.get(document.external_id)
        if earlier is None:
            first[document.external_id] = document
            continue
        if earlier.line is not None and document.line is not None:
            message = (
                f"document id {document.external_id!r} appears on line {earlier.line} "
                f"and again on line {document.line}"
            )
        else:
            message = (
                f"document id {document.external_id!r} comes from both {earlier.file} "
                f"and {document.file}"
            )
        context.add(message, code="duplicate", line=document.line, field="id", file=document.file)


# --- formats -------------------------------------------------------------------------------------


def _parse_jsonl(context: _Context, data: bytes) -> list[DocumentIn]:
    """Native JSONL: one document object per line; every line is checked, blank lines skipped."""
    return _build_jsonl(context, _jsonl_records(context, data))


def _jsonl_records(context: _Context, data: bytes) -> list[tuple[int, dict[str, object]]]:
    """Every line's JSON object with its line number; bad lines are reported, not returned.

    Shared with the JSONL exports of other tools, which are told apart by their records' keys.
    """
    text = _decode(context, data, context.filename)
    if text is None:
        return []
    records: list[tuple[int, dict[str, object]]] = []
    count = 0
    # Split on "\n" only: str.splitlines() would also split on U+2028 and friends, which JSON
    # allows unescaped inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        count += 1
        if count > context.limits.max_documents:
            context.too_many_documents(number)
            break
        where = _Where(context.filename, number)
        try:
            record = json.loads(line)
        except RecursionError:
            context.problems.append(where.problem("the JSON is nested too deeply", code="parse"))
            continue
        except ValueError as error:
            detail = (
                f"{error.msg} (column {error.colno})"
                if isinstance(error, json.JSONDecodeError)
                else str(error)
            )
            context.problems.append(where.problem(f"not valid JSON: {detail}", code="parse"))
            continue
        if not isinstance(record, dict):
            context.problems.append(
                where.problem(
                    f"each line must be a JSON object, not {type(record).__name__}", code="parse"
                )
            )
            continue
        records.append((number, record))
    return records


def _build_jsonl(
    context: _Context, records: Sequence[tuple[int, Mapping[str, object]]]
) -> list[DocumentIn]:
    documents: list[DocumentIn] = []
    for number, record in records:
        document = _build_document(context, _Where(context.filename, number), record)
        if document is not None:
            documents.append(document)
    _check_duplicate_ids(context, documents)
    return documents


_RESERVED_COLUMNS = ("id", "title", "text")


def _parse_csv(context: _Context, data: bytes) -> list[DocumentIn]:
    """CSV with a header: ``id`` and ``text`` required, ``title`` optional, the rest is meta.

    Quoted fields may contain newlines, so a row's line is where it *starts*.
    """
    text = _decode(context, data, context.filename)
    if text is None:
        return []
    # The csv module refuses fields over a process-wide limit (128 KiB by default); a field can
    # never be longer than the file, so raise the limit that far (never lower it).
    if csv.field_size_limit() < context.limits.max_file_bytes:
        csv.field_size_limit(context.limits.max_file_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as error:
        context.add(f"the header is not valid CSV: {error}", code="parse", line=1)
        return []
    names = [name.strip() for name in header]
    columns: dict[str, int] = {}
    for position, name in enumerate(names):
        key = name.lower() if name.lower() in _RESERVED_COLUMNS else name
        if not key:
            continue
        if key in columns:
            context.add(
                f"column {key!r} appears twice in the header", code="duplicate", line=1, field=key
            )
        columns[key] = position
    for required in ("id", "text"):
        if required not in columns:
            found = ", ".join(repr(n) for n in names if n) or "nothing"
            context.add(
                f"the header has no {required!r} column (found: {found})", line=1, field=required
            )
    if context.problems:
        return []

    documents: list[DocumentIn] = []
    count = 0
    previous_end = reader.line_num
    while True:
        start_line = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            context.add(f"not valid CSV: {error}", code="parse", line=start_line)
            break
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        where = _Where(context.filename, start_line)
        if len(row) != len(names):
            context.problems.append(
                where.problem(
                    f"the row has {len(row)} fields but the header has {len(names)}", code="parse"
                )
            )
            continue
        count += 1
        if count > context.limits.max_documents:
            context.too_many_documents(start_line)
            break
        meta: dict[str, object] = {}
        for position, name in enumerate(names):
            if name.lower() in _RESERVED_COLUMNS:
                continue
            if not name:
                if row[position].strip():
                    context.problems.append(
                        where.problem(
                            f"column {position + 1} has a value but no name in the header",
                            f"column {position + 1}",
                        )
                    )
                continue
            meta[name] = row[position]
        record: dict[str, object] = {
            "id": row[columns["id"]],
            "text": row[columns["text"]],
            "title": row[columns["title"]] if "title" in columns else None,
            "meta": meta,
        }
        document = _build_document(context, where, record)
        if document is not None:
            documents.append(document)
    _check_duplicate_ids(context, documents)
    return documents


def _stem(path: str) -> str:
    """``folder/name.txt`` -> ``folder/name``: the id keeps folders, which keep ids unique."""
    return path[: -len(".txt")] if path.lower().endswith(".txt") else path


def _parse_txt(context: _Context, data: bytes) -> list[DocumentIn]:
    """A single plain-text document, named after the file."""
    text = _decode(context, data, context.filename)
    if text is None:
        return []
    name = PurePosixPath(context.filename.replace("\\", "/")).name
    external_id = _stem(name)
    where = _Where(context.filename, None)
    document = _build_document(context, where, {"id": external_id, "text": text})
    return [document] if document is not None else []


def _safe_entry_path(name: str) -> str | None:
    """The entry's path inside the archive, or None if it could escape (absolute, ``..``)."""
    path = name.replace("\\", "/")
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def _is_noise(path: str) -> bool:
    """macOS resource forks and dotfiles (.DS_Store) are archive noise, not documents."""
    parts = path.split("/")
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)


def _parse_zip(context: _Context, data: bytes) -> list[DocumentIn]:
    """A zip of ``.txt`` files, one document each; folders become part of the id."""
    archive = _open_archive(context, data)
    if archive is None:
        return []
    documents: list[DocumentIn] = []
    with archive:
        inflater = _Inflater(context, archive)
        count = 0
        for member in _archive_members(context, archive):
            if not member.path.lower().endswith(".txt"):
                context.add(
                    f"entry {member.path!r} is not a .txt file; an archive may only hold .txt "
                    "files (or be a brat or doccano export)",
                    code="unsupported",
                    file=member.file,
                )
                continue
            count += 1
            if count > context.limits.max_documents:
                context.too_many_documents()
                break
            content = inflater.read(member)
            if content is None:
                continue
            text = _decode(context, content, member.file)
            if text is None:
                continue
            stem = _stem(member.path)
            record = {"id": stem, "title": PurePosixPath(stem).name, "text": text}
            document = _build_document(context, _Where(member.file, None), record)
            if document is not None:
                documents.append(document)
    _check_duplicate_ids(context, documents)
    return documents


@dataclass(frozen=True)
class _Member:
    """A file inside an uploaded archive whose path is safe to use."""

    path: str
    #: How problems name it: the upload's name, then the path inside.
    file: str
    info: zipfile.ZipInfo


def _open_archive(context: _Context, data: bytes) -> zipfile.ZipFile | None:
    """Open the upload as a zip, refusing archives whose entry count or declared size is over
    the limits before anything is inflated."""
    limits = context.limits
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError) as error:
        context.add(f"not a valid zip archive: {error}", code="parse")
        return None
    entries = archive.infolist()
    message = None
    if len(entries) > limits.max_zip_entries:
        message = (
            f"the archive has {len(entries)} entries, more than the limit of "
            f"{limits.max_zip_entries}"
        )
    elif (declared := sum(entry.file_size for entry in entries)) > limits.max_uncompressed_bytes:
        message = (
            f"the archive would unpack to {declared} bytes, more than the limit of "
            f"{limits.max_uncompressed_bytes}"
        )
    if message is not None:
        archive.close()
        raise context.fail_now(message, code="too_large")
    return archive


def _archive_members(context: _Context, archive: zipfile.ZipFile) -> list[_Member]:
    """The archive's files, minus folders and noise; unsafe paths are reported, never opened."""
    members: list[_Member] = []
    for entry in archive.infolist():
        if entry.is_dir():
            continue
        path = _safe_entry_path(entry.filename)
        entry_file = f"{context.filename}/{path or entry.filename}"
        if path is None:
            context.add(
                f"refusing entry {entry.filename!r}: absolute paths and '..' are not allowed",
                code="unsafe_path",
                file=entry_file,
            )
            continue
        if not path or _is_noise(path):
            continue
        members.append(_Member(path, entry_file, entry))
    return members


class _Inflater:
    """Reads archive members while counting every inflated byte against the limit, so an
    archive whose declared sizes lie still cannot unpack past it."""

    def __init__(self, context: _Context, archive: zipfile.ZipFile) -> None:
        self.context = context
        self.archive = archive
        self.inflated = 0

    def read(self, member: _Member) -> bytes | None:
        """The member's bytes, or None with the reason reported."""
        context = self.context
        limit = context.limits.max_uncompressed_bytes
        if member.info.flag_bits & 0x1:
            context.add("the entry is encrypted", code="unsupported", file=member.file)
            return None
        chunks: list[bytes] = []
        try:
            with self.archive.open(member.info) as stream:
                while chunk := stream.read(_CHUNK):
                    self.inflated += len(chunk)
                    if self.inflated > limit:
                        # The declared sizes lied (or were summed past): stop inflating now.
                        raise context.fail_now(
                            f"the archive unpacks to more than {limit} bytes (the limit)",
                            code="too_large",
                            file=member.file,
                        )
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as error:
            context.add(f"the entry cannot be read: {error}", code="parse", file=member.file)
            return None
        return b"".join(chunks)


_PARSERS = {
    ".jsonl": _parse_jsonl,
    ".ndjson": _parse_jsonl,
    ".csv": _parse_csv,
    ".txt": _parse_txt,
    ".zip": _parse_zip,
}
