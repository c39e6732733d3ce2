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

On PostgreSQL, outside a transaction (a worker, the CLI), the same records come another way:
one ``COPY (SELECT …) TO STDOUT`` on a connection of their own, PostgreSQL grouping each
document's annotations, spans, relations and stances into one JSON value (``_copy_sql``). The
server then works while Python writes (a ``COPY`` streams; a cursor waits for each fetch), the
five streams need no merging, and the whole export reads one snapshot. Inside a transaction
(a request, a test) a second connection would not see uncommitted rows, so the five streams
serve there, and on SQLite. Both give the same records (tests/exports/test_copy_read.py).
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
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _copied_documents(project, options)
    return _streamed_documents(project, options)


def _streamed_documents(project: Project, options: ExportOptions) -> Iterator[ExportDocument]:
    """The five queries, each through a server-side cursor, merged here by external id."""
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


# --- the COPY read (PostgreSQL) ---------------------------------------------------------------

#: One row per document in byte order of its external id: the document's columns and its
#: annotations as JSON, ``[[annotator, kind, status, spans, relations, stances], …]`` in the
#: order ``export_documents`` promises (``COLLATE "C"`` is Python's string order), each of the
#: three lists ordered the same way, or null when empty. The documents are sorted in a subquery
#: of their own, so the per-document subqueries run as rows stream out rather than all before
#: a sort; the outer ORDER BY costs nothing (the rows already come in that order) and makes
#: the order a guarantee. Attributes travel as their JSON text: ``_attributes`` decodes each
#: distinct text once.
_COPY_QUERY = """
SELECT o.external_id, o.title, o.text, o.meta::text, (
    SELECT json_agg(json_build_array(
        u.{username}, a.kind, a.status,
        (SELECT json_agg(json_build_array(s.client_id, s.start, s."end", l.name,
                                          s.attributes::text)
                         ORDER BY s.start, s."end", l.name COLLATE "C", s.client_id COLLATE "C")
         FROM {span} s JOIN {label} l ON l.id = s.label_id
         WHERE s.annotation_id = a.id),
        {relations},
        {stances}
    ) ORDER BY a.kind = %(gold)s, coalesce(u.{username}, '') COLLATE "C")
    FROM {annotation} a LEFT JOIN {user} u ON u.id = a.annotator_id
    WHERE a.document_id = o.id AND a.project_id = %(project)s AND a.deleted_at IS NULL{narrowing}
)::text
FROM (
    SELECT d.id, d.external_id, d.title, d.text, d.meta FROM {document} d
    WHERE d.project_id = %(project)s AND d.deleted_at IS NULL
    ORDER BY d.external_id COLLATE "C"
) o
ORDER BY o.external_id COLLATE "C"
"""
_COPY_RELATIONS = """(SELECT json_agg(json_build_array(rs.client_id, rt.client_id, t.name)
                 ORDER BY rs.client_id COLLATE "C", rt.client_id COLLATE "C", t.name COLLATE "C")
         FROM {relation} r JOIN {span} rs ON rs.id = r.source_id
         JOIN {span} rt ON rt.id = r.target_id JOIN {relation_type} t ON t.id = r.type_id
         WHERE r.annotation_id = a.id)"""
_COPY_STANCES = """(SELECT json_agg(json_build_array(st.name, x.value) ORDER BY st.name COLLATE "C")
         FROM {stance} x JOIN {stance_target} st ON st.id = x.target_id
         WHERE x.annotation_id = a.id)"""


def copy_query(project: Project, options: ExportOptions) -> tuple[str, dict[str, Any]]:
    """The SELECT the COPY read runs, with its parameters: the rows an export reads on
    PostgreSQL (bench/exports.py times a plain COPY of the same query). The annotation filter
    is ``_annotation_conditions`` in SQL."""
    user = Annotation._meta.get_field("annotator").related_model
    assert user is not None and not isinstance(user, str)
    tables = {
        name: connection.ops.quote_name(model._meta.db_table)
        for name, model in (
            ("document", Document),
            ("annotation", Annotation),
            ("span", Span),
            ("label", Label),
            ("relation", Relation),
            ("relation_type", RelationType),
            ("stance", Stance),
            ("stance_target", StanceTarget),
            ("user", user),
        )
    }
    params: dict[str, Any] = {"project": project.pk, "gold": AnnotationKind.GOLD}
    narrowing = ""
    if not options.include_unfinished:
        narrowing += " AND a.status = %(status)s"
        params["status"] = AnnotationStatus.SUBMITTED
    if options.annotations in ("gold", "merged"):
        narrowing += " AND a.kind = %(kind)s"
        params["kind"] = (
            AnnotationKind.GOLD if options.annotations == "gold" else AnnotationKind.ANNOTATOR
        )
    query = _COPY_QUERY.format(
        username=connection.ops.quote_name(user._meta.get_field("username").column),
        relations=_COPY_RELATIONS.format(**tables) if options.relations else "NULL",
        stances=_COPY_STANCES.format(**tables) if options.stances else "NULL",
        narrowing=narrowing,
        **tables,
    )
    return query, params


def _copied_documents(project: Project, options: ExportOptions) -> Iterator[ExportDocument]:
    return _assembled(_copy_rows(*copy_query(project, options)))


def _copy_rows(query: str, params: Mapping[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``COPY (query) TO STDOUT``, on a connection of their own (a COPY holds its
    connection until the last row, and the export writes its progress meanwhile), closed when
    the stream ends or is dropped. Started by the first ``next``, like the cursors."""
    import psycopg

    with connection.Database.connect(**connection.get_connection_params(), autocommit=True) as raw:
        # COPY takes no parameters: they are quoted into the statement by psycopg
        statement = psycopg.ClientCursor(raw).mogrify(
            f"COPY ({query}) TO STDOUT (FORMAT BINARY)", params
        )
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(["text"] * 5)
            yield from copy.rows()


def _assembled(rows: Iterator[tuple[Any, ...]]) -> Iterator[ExportDocument]:
    """The COPY rows as records. The SQL has ordered everything already; what is left is
    the same filtering ``_merged`` does (relations between the annotation's own spans)."""
    loads = json.loads
    gold_kind = AnnotationKind.GOLD
    for external_id, title, text, meta_text, payload in rows:
        annotations = []
        for annotator, kind, status, span_rows, relation_rows, stance_rows in (
            loads(payload) if payload else ()
        ):
            spans = tuple(
                ExportSpan(client_id, start, end, label, text[start:end], _attributes(attributes))
                for client_id, start, end, label, attributes in span_rows or ()
            )
            relations: tuple[ExportRelation, ...] = ()
            if relation_rows:
                ids = {span.id for span in spans}
                relations = tuple(
                    ExportRelation(source, target, rtype)
                    for source, target, rtype in relation_rows
                    if source in ids and target in ids
                )
            annotations.append(
                ExportAnnotation(
                    annotator,
                    kind == gold_kind,
                    status,
                    spans,
                    relations,
                    tuple(ExportStance(target, value) for target, value in stance_rows or ()),
                )
            )
        meta = loads(meta_text)
        yield ExportDocument(
            external_id,
            title,
            text,
            meta if isinstance(meta, Mapping) else {},
            tuple(annotations),
        )


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
