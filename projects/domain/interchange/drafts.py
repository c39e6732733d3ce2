"""Drafts: another tool's documents and annotations in the native record shape, each piece
remembering the file, line and field it came from, and their building through the native checks.

The drafts are built by the very code that builds a native upload
(:func:`projects.domain.importers._build_document`), so offsets, normalisation, labels,
attributes, relations and stances obey one set of rules whatever the source; the problems that
code finds are moved back onto the tool's own file, line and field (``annotator2/essay01.ann``,
line 7, ``T3.label``), which is what the person fixing the file sees.
"""

from __future__ import annotations

import dataclasses
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from projects.domain.importers import (
    DocumentIn,
    _archive_members,
    _build_document,
    _Context,
    _decode,
    _Member,
    _open_archive,
    _Where,
)
from projects.domain.problems import Problem
from projects.domain.scheme import SchemeSpec
from projects.domain.text import normalise

# --- where things came from ------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """A place in a tool's files: the file (``upload.zip/annotator1/essay01.ann``), the line if
    the format has lines, and the field there (``T3``, ``entities[2]``).

    ``subfields`` translates the native field a problem names under this record (``start``,
    ``label``, ``from``) into the tool's own; each value carries its separator (``.value.start``,
    ``[0]``). An empty value means "the record itself".
    """

    file: str
    line: int | None = None
    field: str | None = None
    # ``dataclasses.field``: the attribute named ``field`` above shadows the bare name here.
    subfields: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def locate(self, problem: Problem, rest: str | None) -> Problem:
        """The problem, moved here; ``rest`` is what followed the record in the native path."""
        name = self.field
        if rest:
            head, _, tail = rest.partition(".")
            mapped = self.subfields.get(head, f".{head}")
            if tail:
                mapped += f".{tail}"
            name = f"{self.field or ''}{mapped}".lstrip(".") or None
        return replace(problem, file=self.file, line=self.line, field=name)


# --- drafts ----------------------------------------------------------------------------------


@dataclass
class SpanDraft:
    start: int
    end: int
    label: str
    origin: Origin
    id: str | None = None
    #: The text the tool quotes for the span, checked against the document; None skips the
    #: check (the tool quotes nothing, or the parser has already compared it its own way).
    text: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    #: Where an attribute was given, when not on the span's own line (brat's ``A`` lines).
    attribute_origins: dict[str, Origin] = field(default_factory=dict)


@dataclass
class RelationDraft:
    source: str
    target: str
    type: str
    origin: Origin


@dataclass
class StanceDraft:
    target: str
    value: str
    origin: Origin


@dataclass
class AnnotationDraft:
    """One annotator's work on one document, as one tool recorded it.

    ``annotator`` is None when the file does not say who did the work; ``keep_if_empty`` says
    whether an annotation with nothing in it is still work (a Label Studio annotation submitted
    empty) or just an artefact (the empty ``.ann`` brat creates for every text).
    """

    annotator: str | None
    origin: Origin
    keep_if_empty: bool = False
    #: Only this tool's own exports carry these (brat's ``gold/`` folder with its sidecar).
    gold: bool = False
    status: str = "submitted"
    spans: list[SpanDraft] = field(default_factory=list)
    relations: list[RelationDraft] = field(default_factory=list)
    stances: list[StanceDraft] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.spans or self.relations or self.stances)


@dataclass
class DocumentDraft:
    """A document as read from a tool, before the shared checks; ``text`` is the text exactly as
    the tool held it, which is what its offsets count."""

    external_id: str
    text: str
    origin: Origin
    title: str | None = None
    meta: dict[str, object] = field(default_factory=dict)
    annotations: list[AnnotationDraft] = field(default_factory=list)


class DraftSet:
    """Documents collected from one upload, merged by id.

    The same id from several places (three brat annotator folders, doccano's one file per user,
    Label Studio's JSON-MIN row per annotation) is one document with several annotations, so long
    as the texts are identical: offsets from different texts could not be compared.
    """

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.documents: dict[str, DocumentDraft] = {}

    def __len__(self) -> int:
        return len(self.documents)

    def add(self, draft: DocumentDraft) -> DocumentDraft | None:
        """Merge ``draft`` in; returns the document it became part of, or None if refused."""
        existing = self.documents.get(draft.external_id)
        if existing is None:
            self.documents[draft.external_id] = draft
            return draft
        if existing.text != draft.text:
            how = (
                "they differ only in line endings or Unicode normal form, but offsets count "
                "the characters as they are, so the files must be identical"
                if normalise(existing.text) == normalise(draft.text)
                else "the same document must have the same text everywhere"
            )
            self.context.add(
                f"document {draft.external_id!r} has a different text here than in "
                f"{_place(existing.origin)}: {how}",
                code="mismatch",
                file=draft.origin.file,
                line=draft.origin.line,
                field=draft.origin.field,
            )
            return None
        for annotation in draft.annotations:
            self.add_annotation(existing, annotation)
        return existing

    def add_annotation(self, document: DocumentDraft, annotation: AnnotationDraft) -> None:
        """Attach an annotation, refusing a second one by the same annotator."""
        if annotation.annotator is not None:
            for other in document.annotations:
                if other.annotator == annotation.annotator and not (
                    other.empty and annotation.empty
                ):
                    self.context.add(
                        f"annotator {annotation.annotator!r} already has an annotation of "
                        f"document {document.external_id!r} in {_place(other.origin)}",
                        code="duplicate",
                        file=annotation.origin.file,
                        line=annotation.origin.line,
                        field=annotation.origin.field,
                    )
                    return
        document.annotations.append(annotation)


def _place(origin: Origin) -> str:
    return f"{origin.file} line {origin.line}" if origin.line is not None else origin.file


# --- building --------------------------------------------------------------------------------

_NATIVE_PATH = re.compile(
    r"annotations\[(?P<annotation>\d+)\]"
    r"(?:\.(?P<kind>spans|relations|stances)\[(?P<item>\d+)\])?"
    r"(?:\.(?P<rest>.+))?$"
)


def build_documents(
    context: _Context, drafts: Sequence[DocumentDraft], *, unattributed: str
) -> list[DocumentIn]:
    """Build every draft through the native checks and report problems in the tool's terms.

    ``unattributed`` says, for the error, where annotations without an annotator come from in
    this format (and so what to do about them).
    """
    if len(drafts) > context.limits.max_documents:
        context.too_many_documents()
        return []
    _attribute(context, drafts, unattributed)
    documents: list[DocumentIn] = []
    for draft in drafts:
        document = _build(context, draft)
        if document is not None:
            documents.append(document)
    return documents


def _attribute(context: _Context, drafts: Sequence[DocumentDraft], unattributed: str) -> None:
    """Give unattributed work to the ``annotator`` option's member, drop empty artefacts.

    Without the option, unattributed work is one error for the whole upload (naming the first
    place and how many there are), not one per document.
    """
    default = context.options.annotator
    orphans: list[AnnotationDraft] = []
    for draft in drafts:
        kept: list[AnnotationDraft] = []
        for annotation in draft.annotations:
            if annotation.empty and not annotation.keep_if_empty:
                continue
            if annotation.annotator is None and not annotation.gold:
                if default is None:
                    orphans.append(annotation)
                    continue
                annotation.annotator = default
            kept.append(annotation)
        draft.annotations = kept
    if orphans:
        first = orphans[0].origin
        more = f" (and {len(orphans) - 1} more)" if len(orphans) > 1 else ""
        context.add(
            f"annotations here name no annotator{more}: {unattributed}; choose the member "
            "they belong to with the annotator option",
            code="no_annotator",
            file=first.file,
            line=first.line,
            field=first.field,
        )
    if (
        default is not None
        and not orphans
        and not any(a.annotator == default for d in drafts for a in d.annotations)
    ):
        context.note(
            f"the annotator option ({default!r}) was not needed: every annotation in the file "
            "names its annotator",
            code="unused",
        )


def _build(context: _Context, draft: DocumentDraft) -> DocumentIn | None:
    record: dict[str, object] = {"id": draft.external_id, "text": draft.text, "meta": draft.meta}
    if draft.title is not None:
        record["title"] = draft.title
    annotations: list[dict[str, object]] = []
    for annotation in draft.annotations:
        annotations.append(
            {
                "annotator": annotation.annotator,
                "gold": annotation.gold,
                "status": annotation.status,
                "spans": [_span_record(span) for span in annotation.spans],
                "relations": [
                    {"from": r.source, "to": r.target, "type": r.type} for r in annotation.relations
                ],
                "stances": [{"target": s.target, "value": s.value} for s in annotation.stances],
            }
        )
    if annotations:
        record["annotations"] = annotations
    local = replace(context, problems=[])
    document = _build_document(local, _Where(draft.origin.file, draft.origin.line), record)
    for problem in local.problems:
        context.problems.append(_relocate(problem, draft))
    if document is None:
        return None
    return replace(
        document,
        annotations=tuple(
            replace(built, origin=source.origin.file)
            for built, source in zip(document.annotations, draft.annotations, strict=True)
        ),
    )


def _span_record(span: SpanDraft) -> dict[str, object]:
    record: dict[str, object] = {
        "start": span.start,
        "end": span.end,
        "label": span.label,
        "attributes": span.attributes,
    }
    if span.id is not None:
        record["id"] = span.id
    if span.text is not None:
        record["text"] = span.text
    return record


def _relocate(problem: Problem, draft: DocumentDraft) -> Problem:
    """Move a problem from the native record's field path to where the tool put the thing."""
    path = problem.field
    match = _NATIVE_PATH.match(path) if path else None
    if match is None:
        return draft.origin.locate(problem, path)
    annotation = draft.annotations[int(match["annotation"])]
    kind, rest = match["kind"], match["rest"]
    if kind is None:
        return annotation.origin.locate(problem, rest)
    items: Sequence[SpanDraft | RelationDraft | StanceDraft] = getattr(annotation, kind)
    index = int(match["item"])
    if index >= len(items):
        return annotation.origin.locate(problem, rest)
    item = items[index]
    if isinstance(item, SpanDraft) and rest and rest.startswith("attributes."):
        given = item.attribute_origins.get(rest.removeprefix("attributes."))
        if given is not None:
            return given.locate(problem, None)
    return item.origin.locate(problem, rest)


# --- the scheme's names ----------------------------------------------------------------------


def scheme_attribute(scheme: SchemeSpec | None, name: str) -> str:
    """The scheme's spelling of a span attribute named by another tool, matched ignoring case
    (brat's ``Stance`` is our ``stance``); an unknown name is kept, for validation to report."""
    if scheme is None:
        return name
    wanted = name.casefold()
    found = [a.name for a in scheme.span_attributes if a.name.casefold() == wanted]
    return found[0] if len(found) == 1 else name


def scheme_attribute_value(scheme: SchemeSpec | None, attribute: str, value: str) -> str:
    """A choice attribute's value in the scheme's spelling, matched ignoring case."""
    if scheme is None:
        return value
    spec = scheme.attribute(attribute)
    if spec is None or spec.kind != "choice":
        return value
    return _one_match(spec.values, value)


def scheme_stance_value(scheme: SchemeSpec | None, value: str) -> str:
    return value if scheme is None else _one_match(scheme.stance_values, value)


def scheme_stance_target(scheme: SchemeSpec | None, name: str) -> str | None:
    """The stance target a document-level choice is about, or None if it is about none.

    Tools name a question by a short tag (Label Studio's ``from_name``), our scheme by the full
    target sentence: a name matches a target equal to it (ignoring case and spacing), and the
    name ``stance`` matches when the scheme has exactly one target. Without a scheme the name is
    the target.
    """
    if scheme is None:
        return name
    wanted = " ".join(name.split()).casefold()
    for target in scheme.stance_targets:
        if " ".join(target.split()).casefold() == wanted:
            return target
    if wanted == "stance" and len(scheme.stance_targets) == 1:
        return scheme.stance_targets[0]
    return None


def _one_match(options: Sequence[str], value: str) -> str:
    if value in options:
        return value
    found = [option for option in options if option.casefold() == value.casefold()]
    return found[0] if len(found) == 1 else value


# --- reading uploads ---------------------------------------------------------------------------


def load_json_records(context: _Context, data: bytes) -> list[dict[str, object]] | None:
    """A JSON file holding a list of objects (or one object): decoded, or None if not."""
    text = _decode(context, data, context.filename)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except RecursionError:
        context.add("the JSON is nested too deeply", code="parse")
        return None
    except json.JSONDecodeError as error:
        context.add(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            code="parse",
            line=error.lineno,
        )
        return None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        context.add(f"expected a list of objects, not {type(value).__name__}", code="parse")
        return None
    bad = [i for i, item in enumerate(value) if not isinstance(item, dict)]
    for index in bad[:20]:
        context.add("each record must be a JSON object", code="parse", field=f"[{index}]")
    if bad:
        return None
    if len(value) > context.limits.max_documents * 50:
        # JSON-MIN has a row per annotation; far more rows than documents is not an export.
        context.too_many_documents()
        return None
    return value


def read_archive(context: _Context, data: bytes) -> tuple[zipfile.ZipFile, list[_Member]] | None:
    """Open an uploaded archive and list its usable members (the parsers read them)."""
    archive = _open_archive(context, data)
    if archive is None:
        return None
    return archive, _archive_members(context, archive)
