"""Reads shared by pages, the API and (later) exports: querysets in, plain dicts out.

Blind mode is enforced here, not in templates: every read of annotations goes through
``ProjectAccess.sees_all_annotations``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from itertools import groupby
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .domain import agreement
from .domain.agreement.serialize import to_jsonable
from .ids import as_id
from .models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Assignment,
    AssignmentStatus,
    Document,
    Label,
    Membership,
    Project,
    Relation,
    RelationType,
    Role,
    Span,
    Stance,
    StanceTarget,
)
from .models.prepared import Prepared, columns, instance
from .models.query import only_row
from .permissions import ProjectAccess, checked_role, project_access


def projects_of_user(user_id: int) -> QuerySet[Membership]:
    """The caller's memberships with their projects and document counts, in one query."""
    return (
        Membership.objects.filter(user_id=user_id, project__deleted_at__isnull=True)
        .select_related("project")
        .annotate(
            document_count=Count(
                "project__documents",
                filter=Q(project__documents__deleted_at__isnull=True),
                distinct=True,
            )
        )
        .order_by("project__name", "project_id")
    )


def scheme_payload(project: Project) -> dict[str, Any]:
    """The scheme as the API and the workspace see it: the canonical definition plus the ids
    of label, relation type and stance target rows (needed to rename and to address them)."""
    labels = list(Label.objects.filter(project=project))
    rtypes = list(RelationType.objects.filter(project=project))
    targets = list(StanceTarget.objects.filter(project=project))
    definition = dict(project.scheme)
    rtype_descriptions = {
        rt.get("name"): rt.get("description", "")
        for rt in definition.get("relation_types", [])
        if isinstance(rt, dict)
    }
    return {
        "version": project.scheme_version,
        "name": definition.get("name", ""),
        "span_labels": [
            {
                "id": lab.pk,
                "name": lab.name,
                "color": lab.color,
                "hotkey": lab.hotkey,
                "description": lab.description,
                "retired": lab.retired,
            }
            for lab in labels
        ],
        "relation_types": [
            {
                "id": rt.pk,
                "name": rt.name,
                "hotkey": rt.hotkey,
                "directed": rt.directed,
                "from_labels": rt.from_labels,
                "to_labels": rt.to_labels,
                "description": rtype_descriptions.get(rt.name, ""),
            }
            for rt in rtypes
        ],
        "span_attributes": definition.get("span_attributes", []),
        "stance_targets": [{"id": t.pk, "name": t.name} for t in targets],
        "stance_values": definition.get("stance_values", []),
    }


# --- documents ----------------------------------------------------------------------------


def documents_for(access: ProjectAccess) -> QuerySet[Document]:
    """Documents the caller may open: annotators only their assigned ones."""
    qs = Document.objects.filter(project=access.project)
    if access.only_assigned_documents:
        qs = qs.filter(assignments__annotator_id=access.user_id)
    return qs.order_by("pk")


def _count_of_assignments(**conditions: Any) -> Any:
    return Coalesce(
        Subquery(
            Assignment.objects.filter(document=OuterRef("pk"), **conditions)
            .order_by()
            .values("document")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )


def document_list(
    access: ProjectAccess,
    *,
    status: str | None = None,
    annotator: int | None = None,
    search: str | None = None,
    label: str | None = None,
) -> QuerySet[Document]:
    """Documents with their assignment counts. Filters are subqueries, so they never multiply
    rows or skew the counts."""
    qs = documents_for(access).defer("text")
    wanted: dict[str, Any] = {}
    if annotator is not None:
        wanted["annotator_id"] = annotator
    if status:
        wanted["status"] = status
        if access.only_assigned_documents:
            wanted["annotator_id"] = access.user_id
    if wanted:
        qs = qs.filter(
            pk__in=Assignment.objects.filter(project=access.project, **wanted).values("document_id")
        )
    if search:
        qs = qs.filter(Q(title__icontains=search) | Q(external_id__icontains=search))
    if label:
        # only spans the caller may see count: in blind mode, an annotator's own
        spans = Span.objects.filter(
            label__name=label,
            annotation__project=access.project,
            annotation__deleted_at__isnull=True,
        )
        if not access.sees_all_annotations:
            spans = spans.filter(annotation__annotator_id=access.user_id)
        qs = qs.filter(pk__in=spans.values("annotation__document_id"))
    return qs.annotate(
        assigned_count=_count_of_assignments(),
        submitted_count=_count_of_assignments(status=AssignmentStatus.SUBMITTED),
    )


def document_get(access: ProjectAccess, document_id: int | str) -> Document:
    """One document the caller may open, or Document.DoesNotExist (→ 404)."""
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        raise Document.DoesNotExist from None
    return documents_for(access).get(pk=pk)


def _document_access_query(with_text: bool) -> Prepared:
    skip = () if with_text else ("text",)

    def build(document: int, project: int, user: int) -> QuerySet[Document]:
        return (
            Document.objects.filter(
                pk=document,
                project_id=project,
                project__deleted_at__isnull=True,
                project__memberships__user_id=user,
            )
            .annotate(
                member_role=F("project__memberships__role"),
                assigned=Exists(
                    Assignment.objects.filter(document_id=OuterRef("pk"), annotator_id=user)
                ),
            )
            .order_by()
            .values_list(
                "member_role",
                "assigned",
                *columns(Document, skip=skip),
                *columns(Project, "project__"),
            )[:1]
        )

    return Prepared(build, document=0, project=0, user=0)


_DOCUMENT_ACCESS = {True: _document_access_query(True), False: _document_access_query(False)}


def document_access(
    user: AbstractBaseUser | AnonymousUser,
    project_ref: int | str,
    document_id: int | str,
    *,
    allow: frozenset[Role],
    with_text: bool = True,
) -> tuple[ProjectAccess, Document]:
    """``project_access`` and ``document_get`` in one query: the membership, its project and
    the document, with whether the caller is assigned to it.

    Every annotation request (each span saved, each page loaded) starts here, so it is one
    round trip instead of two, and its SQL is built once per process. When the row is not
    there (not a member, project or document gone, not assigned) or the project is named by
    its slug, the two separate lookups run to give exactly their answers (404 or 403, in
    their order).
    """
    project_id = as_id(project_ref)
    try:
        pk = int(document_id)
    except (TypeError, ValueError):
        pk = None
    if user.is_authenticated and pk is not None and project_id is not None:
        skip = () if with_text else ("text",)
        rows = _DOCUMENT_ACCESS[with_text](document=pk, project=project_id, user=user.pk)
        if rows and (rows[0][1] or rows[0][0] != Role.ANNOTATOR):
            member_role, _assigned, *values = rows[0]
            n = len(values) - len(Project._meta.concrete_fields)
            document = instance(Document, values[:n], skip)
            document.project = instance(Project, values[n:])
            role = checked_role(member_role, allow)
            return ProjectAccess(project=document.project, role=role, user_id=user.pk), document
    access = project_access(user, project_ref, allow=allow)
    return access, document_get(access, pk if pk is not None else document_id)


# --- annotations --------------------------------------------------------------------------


def _visible(access: ProjectAccess, document: Document) -> QuerySet[Annotation]:
    """Blind mode lives here: an annotator sees only their own annotation; reviewers and
    leads everyone's and the gold."""
    qs = Annotation.objects.filter(document=document)
    if not access.sees_all_annotations:
        qs = qs.filter(annotator_id=access.user_id, kind=AnnotationKind.ANNOTATOR)
    return qs


def annotations_visible(access: ProjectAccess, document: Document) -> list[Annotation]:
    """Model instances with their spans, relations and stances, for the pages."""
    return list(
        _visible(access, document)
        .select_related("annotator")
        .prefetch_related(
            Prefetch(
                "spans",
                queryset=Span.objects.select_related("label").order_by("start", "end", "pk"),
            ),
            Prefetch(
                "relations",
                queryset=Relation.objects.select_related("source", "target", "type").order_by("pk"),
            ),
            Prefetch(
                "stances",
                queryset=Stance.objects.select_related("target").order_by(
                    "target__position", "target_id"
                ),
            ),
        )
        .order_by("kind", "annotator__username")
    )


def span_payload(span: Span, text: str) -> dict[str, Any]:
    return {
        "id": span.client_id,
        "start": span.start,
        "end": span.end,
        "label": span.label.name,
        "text": text[span.start : span.end],
        "attributes": span.attributes,
    }


def relation_payload(relation: Relation) -> dict[str, Any]:
    return {
        "id": relation.client_id,
        "from": relation.source.client_id,
        "to": relation.target.client_id,
        "type": relation.type.name,
    }


def stance_payload(stance: Stance) -> dict[str, Any]:
    return {"target_id": stance.target_id, "target": stance.target.name, "value": stance.value}


def empty_annotation_payload(document: Document, annotator: str) -> dict[str, Any]:
    """The annotation a caller has before their first change (version 0)."""
    return {
        "id": None,
        "document": document.pk,
        "annotator": annotator,
        "gold": False,
        "status": "not_started",
        "version": 0,
        "skip_reason": "",
        "submitted_at": None,
        "updated_at": None,
        "spans": [],
        "relations": [],
        "stances": [],
    }


_HEAD_AND_SPAN_COLUMNS = (
    "pk",
    "annotator__username",
    "kind",
    "status",
    "version",
    "skip_reason",
    "submitted_at",
    "updated_at",
    "spans__client_id",
    "spans__start",
    "spans__end",
    "spans__label__name",
    "spans__attributes",
)
_HEAD_AND_SPAN_ORDER = (
    "kind",
    "annotator__username",
    "pk",
    "spans__start",
    "spans__end",
    "spans__pk",
)
_RELATION_COLUMNS = (
    "annotation_id",
    "client_id",
    "source__client_id",
    "target__client_id",
    "type__name",
)
_STANCE_COLUMNS = ("annotation_id", "target_id", "target__name", "value")
_STANCE_ORDER = ("annotation_id", "target__position", "target_id")


def annotation_payloads(
    annotations: QuerySet[Annotation], document: Document, *, with_text: bool = True
) -> list[dict[str, Any]]:
    """Annotations of one document with their spans (each with its text), relations and
    stances: three queries of plain rows whatever their number, no model instances. The
    annotations come with their spans in one query (an outer join: a row per span).
    ``with_text=False`` leaves out each span's text: the workspace page, which has the article
    itself, never reads it, and it was a sixth of a long article's page."""
    rows = annotations.order_by(*_HEAD_AND_SPAN_ORDER).values_list(*_HEAD_AND_SPAN_COLUMNS)
    heads, spans = _heads_and_spans(rows, document.text if with_text else None)
    if not heads:
        return []
    ids = [h[0] for h in heads]
    relation_rows = (
        Relation.objects.filter(annotation_id__in=ids)
        .order_by("annotation_id", "pk")
        .values_list(*_RELATION_COLUMNS)
    )
    stance_rows = (
        Stance.objects.filter(annotation_id__in=ids)
        .order_by(*_STANCE_ORDER)
        .values_list(*_STANCE_COLUMNS)
    )
    return _assemble(document, heads, spans, relation_rows, stance_rows)


def _heads_and_spans(
    rows: Iterable[tuple[Any, ...]], text: str | None
) -> tuple[list[tuple[Any, ...]], dict[int, list[dict[str, Any]]]]:
    """``text`` None: spans without their text."""
    heads: list[tuple[Any, ...]] = []
    spans: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        pk = row[0]
        if not heads or heads[-1][0] != pk:
            heads.append(row[:8])
        cid, start, end, label, attributes = row[8:]
        if cid is not None:  # None: an annotation without spans (the outer join's one row)
            span = {"id": cid, "start": start, "end": end, "label": label}
            if text is not None:
                span["text"] = text[start:end]
            span["attributes"] = attributes
            spans[pk].append(span)
    return heads, spans


def _assemble(
    document: Document,
    heads: list[tuple[Any, ...]],
    spans: dict[int, list[dict[str, Any]]],
    relation_rows: Iterable[tuple[Any, ...]],
    stance_rows: Iterable[tuple[Any, ...]],
) -> list[dict[str, Any]]:
    relations: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ann, cid, source, target, rtype in relation_rows:
        relations[ann].append({"id": cid, "from": source, "to": target, "type": rtype})
    stances: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ann, target_id, target, value in stance_rows:
        stances[ann].append({"target_id": target_id, "target": target, "value": value})
    return [
        {
            "id": pk,
            "document": document.pk,
            "annotator": annotator,
            "gold": kind == AnnotationKind.GOLD,
            "status": status,
            "version": version,
            "skip_reason": skip_reason,
            "submitted_at": submitted_at,
            "updated_at": updated_at,
            "spans": spans.get(pk, []),
            "relations": relations.get(pk, []),
            "stances": stances.get(pk, []),
        }
        for pk, annotator, kind, status, version, skip_reason, submitted_at, updated_at in heads
    ]


# The caller's own annotation (the annotation page, every document opened): the same three
# queries as ``annotation_payloads``, with their SQL built once per process.
_OWN_HEAD_AND_SPANS = Prepared(
    lambda document, user: (
        Annotation.objects.filter(
            document_id=document, annotator_id=user, kind=AnnotationKind.ANNOTATOR
        )
        .order_by(*_HEAD_AND_SPAN_ORDER)
        .values_list(*_HEAD_AND_SPAN_COLUMNS)
    ),
    document=0,
    user=0,
)
_OWN_RELATIONS = Prepared(
    lambda annotation: (
        Relation.objects.filter(annotation_id=annotation)
        .order_by("pk")
        .values_list(*_RELATION_COLUMNS)
    ),
    annotation=0,
)
_OWN_STANCES = Prepared(
    lambda annotation: (
        Stance.objects.filter(annotation_id=annotation)
        .order_by(*_STANCE_ORDER)
        .values_list(*_STANCE_COLUMNS)
    ),
    annotation=0,
)


def own_annotation_payload(
    access: ProjectAccess, document: Document, annotator: str, *, with_text: bool = True
) -> dict[str, Any]:
    rows = _OWN_HEAD_AND_SPANS(document=document.pk, user=access.user_id)
    heads, spans = _heads_and_spans(rows, document.text if with_text else None)
    if not heads:
        return empty_annotation_payload(document, annotator)
    pk = heads[0][0]
    return _assemble(
        document, heads, spans, _OWN_RELATIONS(annotation=pk), _OWN_STANCES(annotation=pk)
    )[0]


def visible_annotation_payloads(
    access: ProjectAccess, document: Document, annotation_id: int | None = None
) -> list[dict[str, Any]]:
    qs = _visible(access, document)
    if annotation_id is not None:
        qs = qs.filter(pk=annotation_id)
    return annotation_payloads(qs, document)


def annotation_fresh(
    annotation_id: int | None, document: Document, annotator: str
) -> dict[str, Any]:
    """The current state of one annotation, re-read (what a 409 answer carries). "Nothing
    yet" is a current state too: a first write refused as stale either never made the row
    (``annotation_id`` None) or rolled back the row it made."""
    if annotation_id is None:
        return empty_annotation_payload(document, annotator)
    found = annotation_payloads(Annotation.objects.filter(pk=annotation_id), document)
    return found[0] if found else empty_annotation_payload(document, annotator)


# --- assignments and progress -------------------------------------------------------------


def queue_of(access: ProjectAccess) -> QuerySet[Assignment]:
    """The caller's assignments in a stable order: open work first, each group by document."""
    return (
        Assignment.objects.filter(
            project=access.project, annotator_id=access.user_id, document__deleted_at__isnull=True
        )
        .select_related("document")
        .defer("document__text", "document__meta")
        .order_by("document_id")
    )


def progress_by_annotator(project: Project) -> list[dict[str, Any]]:
    """Per annotator: assigned, in progress, submitted, skipped. One GROUP BY query plus one for
    the names."""
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(AssignmentStatus.values, 0)
    )
    for row in (
        Assignment.objects.filter(project=project, document__deleted_at__isnull=True)
        .values("annotator_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["annotator_id"]][row["status"]] = row["n"]
    members = (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
    rows = []
    for m in members:
        if m.role not in ("annotator", "lead") and m.user_id not in counts:
            continue
        c = counts.get(m.user_id, dict.fromkeys(AssignmentStatus.values, 0))
        total = sum(c.values())
        rows.append(
            {
                "user_id": m.user_id,
                "username": m.user.username,
                "role": m.role,
                "total": total,
                **c,
                "done": c["submitted"] + c["skipped"],
            }
        )
    return rows


def assignments_list(
    project: Project,
    *,
    annotator: int | None = None,
    status: str | None = None,
    documents: Iterable[int] | None = None,
) -> QuerySet[Assignment]:
    qs = (
        Assignment.objects.filter(project=project, document__deleted_at__isnull=True)
        .select_related("annotator", "document")
        .defer("document__text", "document__meta")
    )
    if annotator is not None:
        qs = qs.filter(annotator_id=annotator)
    if status:
        qs = qs.filter(status=status)
    if documents is not None:
        qs = qs.filter(document_id__in=list(documents))
    return qs.order_by("document_id", "annotator_id")


# --- review: agreement --------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementFilters:
    """What the agreement page and API may narrow the figures to."""

    labels: tuple[str, ...] = ()
    annotators: tuple[str, ...] = ()
    submitted_from: datetime | None = None
    submitted_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A task argument (JSON only crosses the broker)."""
        return {
            "labels": sorted(self.labels),
            "annotators": sorted(self.annotators),
            "from": self.submitted_from.isoformat() if self.submitted_from else None,
            "until": self.submitted_until.isoformat() if self.submitted_until else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgreementFilters:
        return cls(
            labels=tuple(data.get("labels") or ()),
            annotators=tuple(data.get("annotators") or ()),
            submitted_from=datetime.fromisoformat(data["from"]) if data.get("from") else None,
            submitted_until=datetime.fromisoformat(data["until"]) if data.get("until") else None,
        )

    def cache_part(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


def parse_moment(raw: str) -> datetime | None:
    """A filter date: an ISO date (local midnight) or date-time; None when it is not one,
    including well-formed but impossible dates such as 2026-02-31."""
    moment = parse_datetime(raw)
    if moment is None:
        try:
            day = parse_date(raw)
        except ValueError:
            day = None
        if day is None:
            return None
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    return moment


def _submitted_annotations(project: Project, filters: AgreementFilters) -> QuerySet[Annotation]:
    # ``objects`` leaves deleted annotations out; the document condition also covers an
    # annotation that outlived its document's deletion by racing it (the join is there anyway)
    qs = Annotation.objects.filter(
        project=project,
        kind=AnnotationKind.ANNOTATOR,
        status=AnnotationStatus.SUBMITTED,
        document__deleted_at__isnull=True,
    )
    if filters.annotators:
        qs = qs.filter(annotator__username__in=filters.annotators)
    if filters.submitted_from:
        qs = qs.filter(submitted_at__gte=filters.submitted_from)
    if filters.submitted_until:
        qs = qs.filter(submitted_at__lt=filters.submitted_until)
    return qs


def agreement_inputs(
    project: Project,
    filters: AgreementFilters = AgreementFilters(),
    *,
    attribute_names: Sequence[str] = (),
    document_id: int | None = None,
) -> tuple[Iterator[agreement.AnnotatedDocument], Iterator[agreement.DocumentStance]]:
    """Submitted annotations as the pure measures read them, grouped by document.

    Three streamed queries (annotations, spans, relations) walked in lockstep by document id,
    plus one for stances and two for the label and relation type names: memory holds one
    document at a time, and the number of queries does not grow with the project. Span
    attributes come out of the database as text columns, one per scheme attribute, rather than
    as JSON decoded row by row (which cost more than the query itself on large projects).
    """
    annotations = _submitted_annotations(project, filters)
    if document_id is not None:
        annotations = annotations.filter(document_id=document_id)
    heads = (
        annotations.order_by("document_id", "annotator__username")
        .values_list("pk", "document_id", "document__length", "annotator__username")
        .iterator(chunk_size=2000)
    )
    spans_qs = Span.objects.filter(annotation__in=annotations)
    relations_qs = Relation.objects.filter(annotation__in=annotations)
    if filters.labels:
        spans_qs = spans_qs.filter(label__name__in=filters.labels)
        relations_qs = relations_qs.filter(
            source__label__name__in=filters.labels, target__label__name__in=filters.labels
        )
    names = list(attribute_names)
    attribute_columns = {f"attr_{i}": KT(f"attributes__{name}") for i, name in enumerate(names)}
    # Labels, relation types and relation endpoints are looked up in Python (a handful of
    # names; the document's own spans) rather than joined: the joins cost more on the server
    # than the lookups do here, and the narrower rows sort in memory.
    label_names = dict(Label.objects.filter(project=project).values_list("pk", "name"))
    type_names = dict(RelationType.objects.filter(project=project).values_list("pk", "name"))
    spans = (
        spans_qs.order_by("annotation__document_id", "annotation_id", "start", "end", "pk")
        .annotate(**attribute_columns)
        .values_list(
            "annotation__document_id",
            "annotation_id",
            "pk",
            "start",
            "end",
            "label_id",
            *attribute_columns,
        )
        .iterator(chunk_size=5000)
    )
    relations = (
        relations_qs.order_by("annotation__document_id", "annotation_id", "pk")
        .values_list(
            "annotation__document_id", "annotation_id", "source_id", "target_id", "type_id"
        )
        .iterator(chunk_size=5000)
    )

    def documents() -> Iterator[agreement.AnnotatedDocument]:
        span_rows = Lookahead(spans)
        relation_rows = Lookahead(relations)
        for doc_id, group in groupby(heads, key=lambda row: row[1]):
            rows = list(group)
            who = {pk: name for pk, _doc, _len, name in rows}
            key = str(doc_id)
            extents: dict[int, tuple[int, int]] = {}
            doc_spans = []
            for row in span_rows.take(doc_id):
                if row[1] not in who:
                    continue
                extents[row[2]] = (row[3], row[4])
                doc_spans.append(
                    agreement.Span(
                        key,
                        who[row[1]],
                        row[3],
                        row[4],
                        label_names[row[5]],
                        {n: v for n, v in zip(names, row[6:], strict=True) if v is not None},
                    )
                )
            doc_relations = tuple(
                agreement.Relation(key, who[ann], extents[source], extents[target], type_names[t])
                for _d, ann, source, target, t in relation_rows.take(doc_id)
                if ann in who and source in extents and target in extents
            )
            yield agreement.AnnotatedDocument(
                doc_id=key,
                text_length=rows[0][2],
                annotators=tuple(who.values()),
                spans=tuple(doc_spans),
                relations=doc_relations,
            )

    def stances() -> Iterator[agreement.DocumentStance]:
        for doc_id, name, target, value in (
            Stance.objects.filter(annotation__in=annotations)
            .order_by("annotation__document_id", "annotation__annotator__username", "target_id")
            .values_list(
                "annotation__document_id",
                "annotation__annotator__username",
                "target__name",
                "value",
            )
            .iterator(chunk_size=5000)
        ):
            yield agreement.DocumentStance(str(doc_id), name, target, value)

    return documents(), stances()


class Lookahead:
    """Rows of a stream sorted by a key (the first column: a document's id or external id),
    taken one key at a time, in lockstep with another stream of the same order. Rows whose key
    the caller never asks for (a document added or hidden between the queries) are skipped."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self._rows = rows
        self._next: tuple[Any, ...] | None = next(rows, None)

    def take(self, key: Any) -> list[tuple[Any, ...]]:
        out = []
        while self._next is not None and self._next[0] <= key:
            if self._next[0] == key:
                out.append(self._next)
            self._next = next(self._rows, None)
        return out


def agreement_fingerprint(project: Project) -> str:
    """Changes whenever any annotation of the project changes (every change bumps its version
    and ``updated_at``), is added or removed, or the scheme changes: the cache key."""
    row = Annotation.objects.filter(project=project).aggregate(
        n=Count("pk"), latest=Max("updated_at"), versions=Sum("version")
    )
    latest = row["latest"].isoformat() if row["latest"] else ""
    return f"{project.pk}:{project.scheme_version}:{row['n']}:{row['versions']}:{latest}"


def agreement_key(project: Project, filters: AgreementFilters) -> str:
    """The cache key of a report: changes whenever the data behind it does."""
    digest = hashlib.sha256(
        (agreement_fingerprint(project) + filters.cache_part()).encode()
    ).hexdigest()
    return f"agreement:{digest}"


def agreement_is_large(project: Project) -> bool:
    """Whether the report is left to a worker rather than computed in the request."""
    limit = settings.AGREEMENT_SYNC_MAX_ANNOTATIONS
    return (
        Annotation.objects.filter(
            project=project, kind=AnnotationKind.ANNOTATOR, status=AnnotationStatus.SUBMITTED
        )[: limit + 1].count()
        > limit
    )


def cached_agreement(key: str) -> Any | None:
    return cache.get(key)


def agreement_total(project: Project, filters: AgreementFilters) -> int:
    """Documents the report will cover (the denominator of its progress)."""
    return _submitted_annotations(project, filters).values("document_id").distinct().count()


def agreement_progress(key: str) -> dict[str, int] | None:
    """How far a worker computing ``key`` has got: documents done and in all."""
    progress: dict[str, int] | None = cache.get(f"{key}:progress")
    return progress


def agreement_for(
    project: Project, filters: AgreementFilters = AgreementFilters(), *, key: str | None = None
) -> Any:
    """The project's agreement report as JSON values, cached until an annotation changes.

    Computes it if it is not cached (in the request for small projects, in a worker for large
    ones: ``projects.tasks.agreement_compute``), recording progress every 500 documents.
    """
    key = key or agreement_key(project, filters)
    cached = cache.get(key)
    if cached is not None:
        return cached
    attribute_names = scheme_attribute_names(project)
    total = agreement_total(project, filters)
    documents, stances = agreement_inputs(project, filters, attribute_names=attribute_names)

    def counted() -> Iterator[agreement.AnnotatedDocument]:
        for done, document in enumerate(documents, start=1):
            if done % 500 == 0:
                cache.set(f"{key}:progress", {"done": done, "total": total}, timeout=3600)
            yield document

    report = agreement.agreement_report(
        counted(),
        stances,
        stance_order=project.scheme.get("stance_values") or None,
        attribute_names=attribute_names,
    )
    data = to_jsonable(report)
    cache.set(key, data, timeout=24 * 3600)
    cache.delete(f"{key}:progress")
    return data


# --- review: adjudication -----------------------------------------------------------------


def scheme_attribute_names(project: Project) -> list[str]:
    return [a["name"] for a in project.scheme.get("span_attributes", []) if isinstance(a, dict)]


def submitted_work(
    project: Project, document: Document
) -> tuple[agreement.AnnotatedDocument | None, list[agreement.DocumentStance]]:
    """One document's submitted annotations as the pure core reads them (None: nobody
    submitted it yet)."""
    documents, stances = agreement_inputs(
        project, attribute_names=scheme_attribute_names(project), document_id=document.pk
    )
    found = next(documents, None)
    return found, list(stances)


def gold_of(document: Document) -> Annotation | None:
    return only_row(Annotation.objects.filter(document=document, kind=AnnotationKind.GOLD))


def adjudication_candidates(project: Project, document: Document) -> list[dict[str, Any]]:
    """The span candidates of the submitted work that the gold neither holds (as proposed or
    as corrected on acceptance) nor rejected."""
    from .domain.adjudication import merge_spans

    work, _stances = submitted_work(project, document)
    if work is None:
        return []
    gold = gold_of(document)
    taken: set[tuple[int, int, str]] = set()
    if gold is not None:
        for start, end, label, provenance in gold.spans.values_list(
            "start", "end", "label__name", "provenance"
        ):
            taken.add((start, end, label))
            # an accepted candidate may have been corrected on the way in: its own key is taken
            candidate = (provenance or {}).get("candidate")
            if candidate:
                taken.add(tuple(candidate))  # type: ignore[arg-type]
        taken |= {tuple(r) for r in gold.adjudication.get("rejected", [])}  # type: ignore[misc]
    return [
        {
            "start": c.start,
            "end": c.end,
            "label": c.label,
            "text": document.text[c.start : c.end],
            "attributes": dict(c.attributes),
            "proposed_by": list(c.proposed_by),
            "kind": c.kind,
            "cluster": c.cluster,
        }
        for c in merge_spans(work)
        if (c.start, c.end, c.label) not in taken
    ]


def adjudication_queue(project: Project) -> dict[str, Any]:
    """The documents that need a gold annotation, most disagreement first, and the counts
    behind the queue. A document enters when two or more annotators submitted it and their
    agreement (share of spans all of them agree on) is below the project's threshold, or when
    its gold has begun; documents whose gold is submitted go last. One streamed pass over the
    project's submitted work."""
    from .domain.adjudication import disagreement

    documents, _stances = agreement_inputs(project, attribute_names=scheme_attribute_names(project))
    measured = [
        {
            "document": int(d.doc_id),
            "annotators": list(d.annotators),
            "disagreement": round(disagreement(d), 6),
        }
        for d in documents
        if len(d.annotators) >= 2
    ]
    gold = dict(
        Annotation.objects.filter(project=project, kind=AnnotationKind.GOLD).values_list(
            "document_id", "status"
        )
    )
    threshold = project.adjudication_threshold
    rows = [r for r in measured if 1 - r["disagreement"] < threshold or r["document"] in gold]
    titles = dict(
        Document.objects.filter(pk__in=[r["document"] for r in rows]).values_list("pk", "title")
    )
    for row in rows:
        row["title"] = titles.get(row["document"], "")
        row["gold"] = gold.get(row["document"], "none")
    rows.sort(
        key=lambda r: (r["gold"] == AnnotationStatus.SUBMITTED, -r["disagreement"], r["document"])
    )
    done = sum(1 for r in rows if r["gold"] == AnnotationStatus.SUBMITTED)
    return {
        "threshold": threshold,
        "counts": {
            "multiply_annotated": len(measured),
            "needing_gold": len(rows),
            "gold_begun": sum(1 for r in rows if r["gold"] != "none"),
            "gold_submitted": done,
        },
        "documents": rows,
    }


def agreement_by_week(
    project: Project, report: dict[str, Any], filters: AgreementFilters = AgreementFilters()
) -> list[dict[str, Any]]:
    """Agreement over time: the mean per-document overlap F1 (labelled) of the documents whose
    last submission fell in each ISO week, with how many documents stand behind each point.

    Built from the report's per-document figures plus one query for the submission dates, so
    it costs nothing like a report per week; a document counts in the week its last
    annotation was submitted, since only then was its agreement final.
    """
    last = dict(
        _submitted_annotations(project, filters)
        .values("document_id")
        .annotate(last=Max("submitted_at"))
        .order_by()
        .values_list("document_id", "last")
    )
    weeks: dict[str, list[float]] = defaultdict(list)
    for doc_id, measure in report["spans"]["per_document"]:
        when = last.get(int(doc_id)) if str(doc_id).isdigit() else None
        if when is None or measure.get("value") is None:
            continue
        year, week, _day = when.isocalendar()
        weeks[f"{year}-W{week:02d}"].append(measure["value"])
    return [
        {"week": week, "documents": len(values), "f1": sum(values) / len(values)}
        for week, values in sorted(weeks.items())
    ]


# --- the annotation workspace ---------------------------------------------------------------


def attribute_values_in_use(
    access: ProjectAccess, names: Sequence[str], limit: int = 500
) -> dict[str, list[str]]:
    """Values of free-text span attributes (``source``) already used in the project, offered
    by the workspace's autocomplete beside the scheme's suggestions. Blind mode holds here
    too: an annotator gets only the values of their own annotations, since the sources
    another annotator typed are part of their work. One query per attribute."""
    spans = Span.objects.filter(
        annotation__project=access.project, annotation__deleted_at__isnull=True
    )
    if not access.sees_all_annotations:
        spans = spans.filter(
            annotation__annotator_id=access.user_id, annotation__kind=AnnotationKind.ANNOTATOR
        )
    found: dict[str, list[str]] = {}
    for name in names:
        values = (
            spans.annotate(value=KT(f"attributes__{name}"))
            .exclude(value__isnull=True)
            .order_by("value")
            .values_list("value", flat=True)
            .distinct()[:limit]
        )
        # (no ``exclude(value="")`` in SQL: SQLite reads the "" as JSON and fails)
        found[name] = [v for v in values if isinstance(v, str) and v]
    return found


def workspace_queue(project: Project, annotator_id: int) -> list[dict[str, Any]]:
    """One annotator's assigned documents in queue order (what next/previous walk), without
    the texts: one query."""
    return [
        {
            "document": doc_id,
            "title": title or external_id,
            "status": status,
            "skip_reason": skip_reason,
        }
        for doc_id, title, external_id, status, skip_reason in Assignment.objects.filter(
            project=project, annotator_id=annotator_id, document__deleted_at__isnull=True
        )
        .order_by("document_id")
        .values_list(
            "document_id", "document__title", "document__external_id", "status", "skip_reason"
        )
    ]
