"""Reads of the export stage: the records an export is built from, streamed, and the history of
a project's exports.

An export may cover hundreds of thousands of documents, so nothing here holds a project: five
queries (documents, annotations, spans, relations, stances), each read through a server-side
cursor in chunks and all ordered by the document's external id, are walked in lockstep, one
document at a time. The number of queries never grows with the project, and memory holds one
document's records plus one chunk per query.

The order is byte order of the external id (``COLLATE "C"`` on PostgreSQL, ``BINARY`` on SQLite),
which is also Python's string order: that is what lets the streams be merged by comparing ids in
Python, and what makes an export's document order the same on every database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet, TextField
from django.db.models.functions import Cast, Collate

from .domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportScheme,
    ExportSpan,
    ExportStance,
)
from .ids import as_id
from .models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Document,
    Export,
    Label,
    Project,
    Relation,
    RelationType,
    Span,
    Stance,
    StanceTarget,
)
from .selectors import Lookahead

#: Rows fetched per round trip. Documents carry their whole text, so they come in smaller chunks.
DOCUMENT_CHUNK = 200
ROW_CHUNK = 5000

_BYTE_ORDER = {"postgresql": "C", "sqlite": "BINARY"}


def _by_bytes(field: str) -> Collate | F:
    """Order by ``field`` as bytes (= Python's str order), whatever the database's locale."""
    collation = _BYTE_ORDER.get(connection.vendor)
    return Collate(F(field), collation) if collation else F(field)


def export_scheme(project: Project) -> ExportScheme:
    """Names in scheme order, retired ones included (old spans may still carry them)."""
    definition = project.scheme if isinstance(project.scheme, dict) else {}
    return ExportScheme(
        version=project.scheme_version,
        labels=tuple(
            Label.objects.filter(project=project)
            .order_by("position", "pk")
            .values_list("name", flat=True)
        ),
        relation_types=tuple(
            RelationType.objects.filter(project=project)
            .order_by("position", "pk")
            .values_list("name", flat=True)
        ),
        stance_targets=tuple(
            StanceTarget.objects.filter(project=project)
            .order_by("position", "pk")
            .values_list("name", flat=True)
        ),
        stance_values=tuple(str(v) for v in definition.get("stance_values", [])),
        attributes=tuple(
            str(a["name"])
            for a in definition.get("span_attributes", [])
            if isinstance(a, dict) and "name" in a
        ),
    )


def export_document_count(project: Project) -> int:
    """The denominator of an export's progress: every document is read once."""
    return Document.objects.filter(project=project).count()


def _annotation_conditions(options: ExportOptions, prefix: str = "") -> dict[str, Any]:
    """Which annotations can matter for these options. Apart from leaving out what is deleted,
    only a narrowing of what ``shape_document`` keeps anyway (it sees every annotation
    otherwise), so the export is the same either way; it saves reading work that would be
    thrown away.

    Deleted annotations and documents never reach a file: the spans, relations and stances
    queries join annotations without their manager, so they say so here, and the annotation
    query says it of the document (an annotation that raced its document's deletion)."""
    conditions: dict[str, Any] = {
        f"{prefix}deleted_at__isnull": True,
        f"{prefix}document__deleted_at__isnull": True,
    }
    if not options.include_unfinished:
        conditions[f"{prefix}status"] = AnnotationStatus.SUBMITTED
    if options.annotations == "gold":
        conditions[f"{prefix}kind"] = AnnotationKind.GOLD
    elif options.annotations == "merged":
        conditions[f"{prefix}kind"] = AnnotationKind.ANNOTATOR
    return conditions


def export_documents(project: Project, options: ExportOptions) -> Iterator[ExportDocument]:
    """Every document of the project in external-id order, with every annotation that can
    matter for ``options``, not yet shaped (``shape_document`` chooses). Spans come sorted by
    (start, end, label, id), relations by (source, target, type), stances by target,
    annotations by annotator name with the gold last.

    Relations whose endpoints are not among the annotation's spans (a span deleted between two
    of the five queries) are left out, so a file never points at a span it does not contain.
    """
    conditions = _annotation_conditions(options)
    related = _annotation_conditions(options, prefix="annotation__")
    documents = (
        Document.objects.filter(project=project)
        .order_by(_by_bytes("external_id"))
        .values_list("external_id", "title", "text", "meta")
        .iterator(chunk_size=DOCUMENT_CHUNK)
    )
    heads = (
        Annotation.objects.filter(project=project, **conditions)
        .order_by(_by_bytes("document__external_id"))
        .values_list("document__external_id", "pk", "annotator__username", "kind", "status")
        .iterator(chunk_size=ROW_CHUNK)
    )
    spans = (
        Span.objects.filter(annotation__project=project, **related)
        .order_by(_by_bytes("annotation__document__external_id"))
        # as text: a few distinct attribute sets repeat over millions of spans, so decoding
        # each distinct text once (``_attributes``) beats decoding every row's JSON
        .annotate(attributes_text=Cast("attributes", TextField()))
        .values_list(
            "annotation__document__external_id",
            "annotation_id",
            "client_id",
            "start",
            "end",
            "label__name",
            "attributes_text",
        )
        .iterator(chunk_size=ROW_CHUNK)
    )
    relations: Iterator[tuple[Any, ...]] = iter(())
    if options.relations:
        relations = (
            Relation.objects.filter(annotation__project=project, **related)
            .order_by(_by_bytes("annotation__document__external_id"))
            .values_list(
                "annotation__document__external_id",
                "annotation_id",
                "source__client_id",
                "target__client_id",
                "type__name",
            )
            .iterator(chunk_size=ROW_CHUNK)
        )
    stances: Iterator[tuple[Any, ...]] = iter(())
    if options.stances:
        stances = (
            Stance.objects.filter(annotation__project=project, **related)
            .order_by(_by_bytes("annotation__document__external_id"))
            .values_list(
                "annotation__document__external_id", "annotation_id", "target__name", "value"
            )
            .iterator(chunk_size=ROW_CHUNK)
        )
    return _merged(documents, heads, spans, relations, stances)


def _merged(
    documents: Iterator[tuple[Any, ...]],
    heads: Iterator[tuple[Any, ...]],
    spans: Iterator[tuple[Any, ...]],
    relations: Iterator[tuple[Any, ...]],
    stances: Iterator[tuple[Any, ...]],
) -> Iterator[ExportDocument]:
    # The streams start (and their queries run) when the first document is asked for.
    first = next(documents, None)
    if first is None:
        return
    head_rows, span_rows = Lookahead(heads), Lookahead(spans)
    relation_rows, stance_rows = Lookahead(relations), Lookahead(stances)
    row: tuple[Any, ...] | None = first
    while row is not None:
        external_id, title, text, meta = row
        by_annotation: dict[int, list[ExportSpan]] = defaultdict(list)
        for _key, ann, client_id, start, end, label, attributes in span_rows.take(external_id):
            by_annotation[ann].append(
                ExportSpan(
                    id=client_id,
                    start=start,
                    end=end,
                    label=label,
                    text=text[start:end],
                    attributes=_attributes(attributes),
                )
            )
        edges: dict[int, list[ExportRelation]] = defaultdict(list)
        for _key, ann, source, target, rtype in relation_rows.take(external_id):
            edges[ann].append(ExportRelation(source=source, target=target, type=rtype))
        positions: dict[int, list[ExportStance]] = defaultdict(list)
        for _key, ann, target, value in stance_rows.take(external_id):
            positions[ann].append(ExportStance(target=target, value=value))
        annotations = []
        for _key, pk, annotator, kind, status in head_rows.take(external_id):
            own = sorted(by_annotation.get(pk, ()), key=_span_order)
            ids = {span.id for span in own}
            annotations.append(
                ExportAnnotation(
                    annotator=annotator,
                    gold=kind == AnnotationKind.GOLD,
                    status=status,
                    spans=tuple(own),
                    relations=tuple(
                        sorted(
                            (r for r in edges.get(pk, ()) if r.source in ids and r.target in ids),
                            key=_relation_order,
                        )
                    ),
                    stances=tuple(sorted(positions.get(pk, ()), key=_stance_order)),
                )
            )
        annotations.sort(key=_annotation_order)
        yield ExportDocument(
            external_id=external_id,
            title=title,
            text=text,
            meta=meta if isinstance(meta, Mapping) else {},
            annotations=tuple(annotations),
        )
        row = next(documents, None)


_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


@lru_cache(maxsize=4096)
def _attributes(text: str | None) -> Mapping[str, str]:
    """Span attributes from their JSON text, keys sorted, shared read-only between spans."""
    value = json.loads(text) if text else None
    if not value or not isinstance(value, dict):
        return _NO_ATTRIBUTES
    return MappingProxyType({str(k): value[k] for k in sorted(value)})


def _span_order(span: ExportSpan) -> tuple[int, int, str, str]:
    return (span.start, span.end, span.label, span.id)


def _relation_order(relation: ExportRelation) -> tuple[str, str, str]:
    return (relation.source, relation.target, relation.type)


def _stance_order(stance: ExportStance) -> str:
    return stance.target


def _annotation_order(annotation: ExportAnnotation) -> tuple[bool, str]:
    return (annotation.gold, annotation.annotator or "")


def agreement_summary(project: Project) -> dict[str, Any]:
    """The project's headline agreement figures (each ``{value, n, reason}``), quoted in the
    ``hf`` dataset card. From the cached report (computed here when it is not cached)."""
    from .selectors import agreement_for

    report = agreement_for(project)
    stance = report.get("stance") or {}
    return {
        "documents": report["documents"],
        "span_f1_exact_labelled": report["spans"]["exact_labelled"]["f1"],
        "span_f1_overlap_labelled": report["spans"]["overlap_labelled"]["f1"],
        "unitizing_alpha": report["unitizing"]["concatenated"]["alpha"],
        "relation_f1_exact_labelled": report["relations"]["exact_labelled"]["f1"],
        "stance_alpha": {
            target: figures["alpha"]["alpha"]
            for target, figures in sorted(stance.items())
            if isinstance(figures, dict) and isinstance(figures.get("alpha"), dict)
        },
    }


# --- history --------------------------------------------------------------------------------


def exports_of(project: Project) -> QuerySet[Export]:
    """A project's exports, newest first, with who asked (one query per page)."""
    return (
        Export.objects.filter(project=project)
        .select_related("requested_by", "project")
        .defer("manifest")
        .order_by("-created_at", "-pk")
    )


def export_get(project: Project, export_id: int | str) -> Export:
    """One export of this project, or Export.DoesNotExist (→ 404): an id of another project's
    export is not found here."""
    pk = as_id(export_id)
    if pk is None:
        raise Export.DoesNotExist
    return Export.objects.select_related("requested_by", "project").get(project=project, pk=pk)
