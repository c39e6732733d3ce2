"""doccano's sequence-labelling exports (JSONL), as its ``data_export`` pipeline writes them.

Shapes (checked against doccano's ``backend/data_export``: ``ExportedExample.to_dict``,
``ExportedSpan.to_tuple``/``to_dict``, ``ExportedRelation.to_dict``, the ``Spans``/``Relations``
label collections and ``celery_tasks.export_dataset``):

- a project without relations writes ``{"id": 7, "text": "…", "label": [[0, 2, "ORG"]],
  "Comments": [], …metadata}``; older versions and doccano's own import examples use ``labels``
- a project with relations writes ``{"id": 7, "text": "…", "entities": [{"id": 11, "label":
  "ORG", "start_offset": 0, "end_offset": 2}], "relations": [{"id": 3, "from_id": 11,
  "to_id": 12, "type": "supports"}], "Comments": []}``
- the download is always a zip: ``all.jsonl`` when the project shares annotations
  (collaborative), otherwise ``<username>.jsonl`` for every member, each listing every example
  (with an empty label list where that member labelled nothing)

Reading rules: the example ``id`` is the document id (doccano spreads the document's own
metadata over the record, so an ``id`` the documents had when imported into doccano wins, as
it does in doccano's export); every other unknown key is metadata. Offsets are code points
(doccano's Python backend stores them so). A member file's name is the annotator; ``all.jsonl``
alone, or a lone ``.jsonl`` upload, names nobody. An example a member labelled nothing in is
not an annotation by them (doccano writes every example into every member's file). Comments and
document categories have no place here and are noted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from projects.domain.importers import (
    DocumentIn,
    _Context,
    _Inflater,
    _jsonl_records,
)
from projects.domain.interchange.drafts import (
    AnnotationDraft,
    DocumentDraft,
    DraftSet,
    Origin,
    RelationDraft,
    SpanDraft,
    build_documents,
    read_archive,
)

__all__ = ["build_json", "build_jsonl", "parse_jsonl", "parse_zip"]

#: Keys doccano writes itself (besides the document's metadata, which it spreads alongside).
_OWN_KEYS = frozenset(
    {"id", "text", "data", "entities", "label", "labels", "relations", "Comments", "cats"}
)
_SPAN_KEYS = ("entities", "label", "labels")
_TUPLE_SUBFIELDS = {"start": "[0]", "end": "[1]", "label": "[2]"}
_DICT_SUBFIELDS = {"start": ".start_offset", "end": ".end_offset", "label": ".label", "id": ".id"}
_RELATION_SUBFIELDS = {"from": ".from_id", "to": ".to_id", "type": ".type"}
_UNATTRIBUTED = (
    "a doccano file names its annotator only inside doccano's export zip (one <username>.jsonl "
    "per member); a lone .jsonl, or all.jsonl from a collaborative project, names nobody"
)


def parse_jsonl(context: _Context, data: bytes) -> list[DocumentIn]:
    """A single doccano ``.jsonl`` (unzipped from the export)."""
    return build_jsonl(context, _jsonl_records(context, data))


def build_jsonl(
    context: _Context, records: Sequence[tuple[int, Mapping[str, object]]]
) -> list[DocumentIn]:
    drafts = DraftSet(context)
    ignored: Counter[str] = Counter()
    for number, record in records:
        _read(context, drafts, record, Origin(context.filename, number), None, ignored)
    _note(context, ignored)
    return build_documents(context, list(drafts.documents.values()), unattributed=_UNATTRIBUTED)


def build_json(context: _Context, records: Sequence[Mapping[str, object]]) -> list[DocumentIn]:
    """doccano records in a JSON list (doccano writes JSON for other project types only, but a
    team may have converted its JSONL)."""
    drafts = DraftSet(context)
    ignored: Counter[str] = Counter()
    for index, record in enumerate(records):
        origin = Origin(context.filename, None, f"[{index}]")
        _read(context, drafts, record, origin, None, ignored)
    _note(context, ignored)
    return build_documents(context, list(drafts.documents.values()), unattributed=_UNATTRIBUTED)


def parse_zip(context: _Context, data: bytes) -> list[DocumentIn]:
    """doccano's export zip: one ``.jsonl`` per member, or ``all.jsonl`` alone."""
    opened = read_archive(context, data)
    if opened is None:
        return []
    archive, members = opened
    drafts = DraftSet(context)
    ignored: Counter[str] = Counter()
    with archive:
        files = [m for m in members if m.path.lower().endswith(".jsonl")]
        skipped = [m.path for m in members if not m.path.lower().endswith(".jsonl")]
        if skipped:
            context.note(
                "files other than .jsonl were skipped (doccano's span exports are JSONL): "
                + ", ".join(repr(p) for p in skipped[:5])
                + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
            )
        collaborative = len(files) == 1 and PurePosixPath(files[0].path).name == "all.jsonl"
        inflater = _Inflater(context, archive)
        for member in sorted(files, key=lambda m: m.path):
            content = inflater.read(member)
            if content is None:
                continue
            annotator = None if collaborative else PurePosixPath(member.path).stem
            # Problems in this member name it (the records list is shared with the upload's).
            local = _Context(
                member.file,
                context.limits,
                context.scheme,
                context.problems,
                context.options,
                context.notes,
            )
            for number, record in _jsonl_records(local, content):
                origin = Origin(member.file, number)
                _read(context, drafts, record, origin, annotator, ignored)
            if len(drafts) > context.limits.max_documents:
                context.too_many_documents(file=member.file)
                return []
    _note(context, ignored)
    return build_documents(context, list(drafts.documents.values()), unattributed=_UNATTRIBUTED)


def _read(
    context: _Context,
    drafts: DraftSet,
    record: Mapping[str, object],
    origin: Origin,
    annotator: str | None,
    ignored: Counter[str],
) -> None:
    """One exported example: the document, and this file's member's annotation of it."""
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or raw_id == "":
        context.add(
            "a doccano record needs its id (doccano writes one on every exported line)",
            file=origin.file,
            line=origin.line,
            field=_join(origin.field, "id"),
        )
        return
    text = record.get("text", record.get("data"))
    if not isinstance(text, str):
        context.add(
            "a doccano record needs its text as a string in 'text'",
            file=origin.file,
            line=origin.line,
            field=_join(origin.field, "text"),
        )
        return
    for key in ("Comments", "cats"):
        if record.get(key):
            ignored[key] += 1
    draft = DocumentDraft(
        external_id=str(raw_id),
        text=text,
        origin=Origin(origin.file, origin.line, origin.field),
        meta={k: v for k, v in record.items() if k not in _OWN_KEYS},
    )
    annotation = AnnotationDraft(annotator, Origin(origin.file, origin.line, origin.field))
    key = next((k for k in _SPAN_KEYS if k in record), None)
    if key is not None:
        _spans(context, record[key], key, origin, annotation)
    relations = record.get("relations")
    if relations is not None:
        _relations(context, relations, origin, annotation)
    draft.annotations.append(annotation)
    drafts.add(draft)


def _spans(
    context: _Context, value: object, key: str, origin: Origin, annotation: AnnotationDraft
) -> None:
    if not isinstance(value, list):
        context.add(
            f"{key} must be a list of spans",
            file=origin.file,
            line=origin.line,
            field=_join(origin.field, key),
        )
        return
    for index, item in enumerate(value):
        path = _join(origin.field, f"{key}[{index}]")
        if isinstance(item, list) and len(item) == 3:
            where = Origin(origin.file, origin.line, path, _TUPLE_SUBFIELDS)
            annotation.spans.append(SpanDraft(item[0], item[1], item[2], where))
        elif isinstance(item, dict) and {"start_offset", "end_offset", "label"} <= item.keys():
            where = Origin(origin.file, origin.line, path, _DICT_SUBFIELDS)
            raw_id = item.get("id")
            span_id = str(raw_id) if isinstance(raw_id, int | str) else None
            annotation.spans.append(
                SpanDraft(
                    item["start_offset"], item["end_offset"], item["label"], where, id=span_id
                )
            )
        else:
            context.add(
                "a doccano span is [start, end, label] or {start_offset, end_offset, label}",
                file=origin.file,
                line=origin.line,
                field=path,
            )


def _relations(
    context: _Context, value: object, origin: Origin, annotation: AnnotationDraft
) -> None:
    if not isinstance(value, list):
        context.add(
            "relations must be a list",
            file=origin.file,
            line=origin.line,
            field=_join(origin.field, "relations"),
        )
        return
    for index, item in enumerate(value):
        path = _join(origin.field, f"relations[{index}]")
        if not isinstance(item, dict):
            context.add(
                "a doccano relation is {from_id, to_id, type}",
                file=origin.file,
                line=origin.line,
                field=path,
            )
            continue
        source, target = item.get("from_id"), item.get("to_id")
        annotation.relations.append(
            RelationDraft(
                str(source) if isinstance(source, int) else source,  # type: ignore[arg-type]
                str(target) if isinstance(target, int) else target,  # type: ignore[arg-type]
                item.get("type"),  # type: ignore[arg-type]
                Origin(origin.file, origin.line, path, _RELATION_SUBFIELDS),
            )
        )


def _join(prefix: str | None, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _note(context: _Context, ignored: Counter[str]) -> None:
    if ignored["Comments"]:
        context.note(f"comments on {ignored['Comments']} example(s) were not imported")
    if ignored["cats"]:
        context.note(
            f"document categories (cats) on {ignored['cats']} example(s) were not imported: "
            "this tool records stances towards the scheme's targets instead"
        )
