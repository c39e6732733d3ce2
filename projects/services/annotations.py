"""Every change to an annotation: spans, relations, stances, submit and skip.

Each write runs in one transaction that locks the caller's annotation row, checks the
``version`` the client last saw (stale → ``Conflict``, nothing changed), applies the change and
bumps the version. Creates carry a client id, looked up only inside the caller's own annotation,
so a retried request returns what the first one made instead of making it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, UniqueConstraint
from django.utils import timezone
from django.utils.crypto import get_random_string

from projects.domain.problems import Problem
from projects.domain.spans import RelationIn, SpanIn, StanceIn, validate_relations, validate_stances
from projects.domain.spans import validate_span as domain_validate_span
from projects.models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Assignment,
    AssignmentStatus,
    Document,
    Label,
    Relation,
    RelationType,
    Span,
    Stance,
    StanceTarget,
)
from projects.models.prepared import insert, instance, update_row, update_rows
from projects.models.query import only_row
from projects.permissions import ProjectAccess

from .audit import audit_record
from .errors import Conflict, NotFound, ValidationFailed
from .projects import label_rows, scheme_spec

MAX_CLIENT_ID = 64


@dataclass
class Change:
    """What a write returns: the (locked, now updated) annotation and the object touched.
    ``created`` is False when an idempotent retry found the object already there."""

    annotation: Annotation
    obj: Any = None
    created: bool = True


def _client_id(value: str | None, prefix: str) -> str:
    if value is None or value == "":
        return f"{prefix}{get_random_string(12)}"
    if not isinstance(value, str) or len(value) > MAX_CLIENT_ID:
        raise ValidationFailed(
            f"client_id must be a string of at most {MAX_CLIENT_ID} characters.",
            problems=[Problem("invalid client id", field="client_id")],
        )
    return value


def locked_annotation(document: Document, **lookup: Any) -> Annotation:
    """An annotation of ``document`` (an annotator's, or the gold), locked for this
    transaction; created on first use. A concurrent first write in another tab loses the
    insert race and simply locks the row the winner made."""
    annotation = only_row(
        Annotation.objects.select_for_update().filter(document=document, **lookup)
    )
    if annotation is not None:
        return annotation
    return _create_locked(document, **lookup)[0]


def _create_locked(document: Document, **lookup: Any) -> tuple[Annotation, bool]:
    """The first write's annotation, created and locked; True when this transaction made it
    (False: another tab's write made it first)."""
    made = insert_annotation(document, **lookup)
    if made is not None:
        return made, True
    existing = only_row(Annotation.objects.select_for_update().filter(document=document, **lookup))
    if existing is None:
        raise NotFound("This document has been deleted.")
    return existing, False


_ANNOTATION_INSERTS: dict[tuple[str, str], tuple[str, list[Any]]] = {}


def _constraint(name: str) -> UniqueConstraint:
    (constraint,) = (c for c in Annotation._meta.constraints if c.name == name)
    assert isinstance(constraint, UniqueConstraint)
    return constraint


def _constraint_condition(connection: BaseDatabaseWrapper, name: str) -> str:
    """The WHERE of one of Annotation's partial unique constraints, as its index has it."""
    return _constraint(name)._get_condition_sql(Annotation, connection.schema_editor())


def _annotation_insert_sql(connection: BaseDatabaseWrapper, kind: str) -> tuple[str, list[Any]]:
    q = connection.ops.quote_name
    meta, doc = Annotation._meta, Document._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    # The conflict target is the kind's partial unique constraint (one live annotation per
    # annotator, one live gold per document), with its condition written exactly as the
    # migration wrote the index's: SQLite and PostgreSQL match a partial index only against
    # the same predicate, with literal values.
    name = "annotation_one_gold" if kind == AnnotationKind.GOLD else "annotation_one_per_annotator"
    target = ", ".join(q(meta.get_field(f).column) for f in _constraint(name).fields)
    condition = _constraint_condition(connection, name)
    # FOR SHARE, not FOR UPDATE: it holds off the document's deletion (which locks the row
    # FOR UPDATE) and no more. Foreign-key checks at commit take KEY SHARE on the document;
    # FOR UPDATE would make a write that lost the race here (holding the document, waiting
    # for the annotation's lock) deadlock with the writer that holds the annotation and
    # checks its audit event's key at commit. SQLite has no row locks: the write
    # transaction (BEGIN IMMEDIATE) already excludes every other writer.
    lock = " FOR SHARE" if connection.vendor == "postgresql" else ""
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(fields))} FROM {q(doc.db_table)} "
        f"WHERE {q(doc.pk.column)} = %s AND {q('deleted_at')} IS NULL{lock} "
        f"ON CONFLICT ({target}) WHERE {condition} DO NOTHING "
        f"RETURNING {q(meta.pk.column)}"
    )
    return sql, fields


def insert_annotation(document: Document, *, version: int = 0, **lookup: Any) -> Annotation | None:
    """A document's new annotation (an annotator's or the gold), inserted and so locked by
    this transaction; None when it is already there (another tab's first write won the race)
    or the document has been deleted.

    One statement does what a lock of the document, a savepoint, the INSERT and its release
    did: the INSERT takes its row from the live document (locked on PostgreSQL, so a deletion
    either commits first and nothing is inserted, or waits for this transaction), and
    ``ON CONFLICT DO NOTHING`` on the one-live-annotation constraint turns a lost race into no
    row instead of an error that would need a savepoint. A document's first span is a third
    of a typical session's writes, so this is on the hot path.
    """
    made = Annotation(project_id=document.project_id, document=document, version=version, **lookup)
    connection = connections[DEFAULT_DB_ALIAS]
    key = (connection.vendor, made.kind)
    entry = _ANNOTATION_INSERTS.get(key)
    if entry is None:
        entry = _ANNOTATION_INSERTS[key] = _annotation_insert_sql(connection, made.kind)
    sql, fields = entry
    params = [f.get_db_prep_save(f.pre_save(made, True), connection=connection) for f in fields]
    params.append(document.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    made.pk = row[0]
    made._state.adding = False
    made._state.db = DEFAULT_DB_ALIAS
    return made


def _lock_annotation(access: ProjectAccess, document: Document) -> Annotation:
    return locked_annotation(document, annotator_id=access.user_id, kind=AnnotationKind.ANNOTATOR)


def _check_version(annotation: Annotation | None, version: int | None) -> None:
    """``annotation`` None: the caller has none yet, which is version 0."""
    current = 0 if annotation is None else annotation.version
    if version is not None and version != current:
        raise Conflict(
            f"This annotation was changed elsewhere (you have version {version}, the server has "
            f"version {current}). Reload to see the current state.",
            code="stale_version",
            extra={
                "annotation_id": None if annotation is None else annotation.pk,
                "version": current,
            },
        )


def _bump(
    annotation: Annotation,
    *,
    actor_id: int,
    action: str,
    obj_type: str,
    obj_id: object,
    data: dict[str, Any] | None = None,
    written: bool = False,
    now: Any = None,
) -> None:
    """One more version, and the change on the audit trail. ``written``: the database has the
    new version already (the span save's own UPDATE, or its INSERT of the annotation)."""
    now = now or timezone.now()
    if not written:
        # The caller holds the annotation's row locked, so its version is the current one.
        update_row(Annotation, annotation.pk, version=annotation.version + 1, updated_at=now)
    annotation.version += 1
    annotation.updated_at = now
    if annotation.version == 1:
        # The first change starts the work; later changes need not touch the assignment
        # (assignment_create reads the annotation's state for documents assigned later).
        update_rows(
            Assignment,
            {
                "document_id": annotation.document_id,
                "annotator_id": annotation.annotator_id,
                "status": AssignmentStatus.ASSIGNED,
            },
            status=AssignmentStatus.IN_PROGRESS,
            updated_at=now,
        )
    audit_record(
        actor_id=actor_id,
        action=action,
        project_id=annotation.project_id,
        document_id=annotation.document_id,
        object_type=obj_type,
        object_id=obj_id,
        data={"annotation_id": annotation.pk, "version": annotation.version, **(data or {})},
    )


def _raise_problems(problems: list[Problem], what: str) -> None:
    if problems:
        raise ValidationFailed(
            f"The {what} is not valid: " + "; ".join(str(p) for p in problems[:5]),
            problems=problems,
        )


def _validate_span(
    access: ProjectAccess,
    document: Document,
    annotation: Annotation,
    span: SpanIn,
    *,
    exclude_pk: int | None = None,
) -> Label:
    problems = domain_validate_span(document.text, span, scheme_spec(access.project), field="span")
    _raise_problems(problems, "span")
    _check_overlap(access, annotation, span, exclude_pk=exclude_pk)
    label = label_rows(access.project).get(span.label)
    if label is None:  # pragma: no cover - rows always mirror the validated scheme
        label = Label.objects.get(project_id=access.project.pk, name=span.label)
    return label


def _check_overlap(
    access: ProjectAccess, annotation: Annotation, span: SpanIn, *, exclude_pk: int | None = None
) -> None:
    if access.project.allow_overlap:
        return
    clash = annotation.spans.filter(start__lt=span.end, end__gt=span.start)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed(
            "This project does not allow overlapping spans, and this span overlaps another.",
            problems=[Problem("overlaps another span", field="span", code="overlap")],
        )


def clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, str]:
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise ValidationFailed(
            "attributes must be an object.", problems=[Problem("not an object", field="attributes")]
        )
    clean: dict[str, str] = {}
    for key, value in attributes.items():
        if value is None or value == "":
            continue  # an empty value means "not set"
        if not isinstance(value, str):
            raise ValidationFailed(
                f"Attribute '{key}' must be a string.",
                problems=[Problem("not a string", field=f"attributes.{key}")],
            )
        clean[str(key)] = value
    return clean


# --- spans --------------------------------------------------------------------------------


# What a span save reads of the caller's annotation: integers and short strings, which need no
# conversion; the rest of the row is deferred (loaded only if something reads it).
_BUMPED_COLUMNS = [
    f.attname
    for f in Annotation._meta.concrete_fields
    if f.attname in {"id", "project_id", "document_id", "annotator_id", "kind", "status", "version"}
]
_UNBUMPED_COLUMNS = [
    f.attname for f in Annotation._meta.concrete_fields if f.attname not in _BUMPED_COLUMNS
]
_BUMP_OWN_SQL: dict[str, str] = {}


def _bump_own_sql(connection: BaseDatabaseWrapper) -> str:
    q = connection.ops.quote_name
    meta, span = Annotation._meta, Span._meta
    table = q(meta.db_table)
    condition = _constraint_condition(connection, "annotation_one_per_annotator")
    return (
        f"UPDATE {table} SET {q('version')} = {q('version')} + 1, {q('updated_at')} = %s "  # noqa: S608
        f"WHERE {q('document_id')} = %s AND {q('annotator_id')} = %s AND {condition} "
        f"RETURNING (SELECT U0.{q('id')} FROM {q(span.db_table)} U0 "
        f"WHERE U0.{q('annotation_id')} = {table}.{q('id')} AND U0.{q('client_id')} = %s), "
        + ", ".join(f"{table}.{q(meta.get_field(c).column)}" for c in _BUMPED_COLUMNS)
    )


def _bump_own_with_span(
    access: ProjectAccess, document: Document, client_id: str, now: Any
) -> tuple[Annotation | None, int | None]:
    """The caller's annotation with its version already raised for this change (so locked,
    by the UPDATE), and the id of its span with ``client_id`` if there is one; no annotation
    when this is the caller's first write to the document.

    One statement instead of a locking read and, later, the version's UPDATE. A change that
    is refused after this (stale version, invalid span) rolls the transaction back; an
    idempotent retry rolls back too, as it changes nothing. The annotation comes back at the
    version the client should have sent (the one before this change).
    """
    connection = connections[DEFAULT_DB_ALIAS]
    sql = _BUMP_OWN_SQL.get(connection.vendor)
    if sql is None:
        sql = _BUMP_OWN_SQL[connection.vendor] = _bump_own_sql(connection)
    updated_at = Annotation._meta.get_field("updated_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [updated_at, document.pk, access.user_id, client_id])
        row = cursor.fetchone()
    if row is None:
        return None, None
    span_pk, *values = row
    annotation = instance(Annotation, values, _UNBUMPED_COLUMNS)
    annotation.version -= 1
    return annotation, span_pk


def span_create(
    *,
    access: ProjectAccess,
    document: Document,
    start: int,
    end: int,
    label: str,
    attributes: Mapping[str, Any] | None = None,
    client_id: str | None = None,
    version: int | None = None,
) -> Change:
    # Everything that needs no lock is worked out before the transaction starts: on SQLite
    # the transaction holds the database's one write lock, so it should only run statements.
    # The outcome is unchanged: a retry still wins over a stale version, and a stale version
    # over an invalid span, as the problems are only raised at their turn.
    cid = _client_id(client_id, "s")
    attrs = clean_attributes(attributes)
    span_in = SpanIn(start=start, end=end, label=label, id=cid, attributes=attrs)
    problems = domain_validate_span(
        document.text, span_in, scheme_spec(access.project), field="span"
    )
    label_row = None if problems else label_rows(access.project).get(label)
    now = timezone.now()
    with transaction.atomic():
        while True:
            annotation, found = _bump_own_with_span(access, document, cid, now)
            if found is not None:
                assert annotation is not None  # a span has its annotation
                existing = Span.objects.select_related("label").get(pk=found)
                # a retry: it changes nothing, so the version's raise is undone
                transaction.set_rollback(True)
                if (existing.start, existing.end, existing.label.name, existing.attributes) == (
                    start,
                    end,
                    label,
                    attrs,
                ):
                    return Change(annotation, existing, created=False)
                raise Conflict(
                    f"Client id '{cid}' is already used by another span of this annotation.",
                    code="duplicate_client_id",
                    extra={"annotation_id": annotation.pk, "version": annotation.version},
                )
            _check_version(annotation, version)
            _raise_problems(problems, "span")
            if label_row is None:  # pragma: no cover - rows always mirror the validated scheme
                label_row = Label.objects.get(project_id=access.project.pk, name=label)
            if annotation is not None:
                _check_overlap(access, annotation, span_in)
                break
            # The first write: the annotation is inserted with this change's version.
            annotation = insert_annotation(
                document, version=1, annotator_id=access.user_id, kind=AnnotationKind.ANNOTATOR
            )
            if annotation is not None:
                annotation.version = 0  # as above: the version before this change
                break
            # Another tab's first write won the race (its annotation is committed now, and
            # the next statement finds it), or the document is gone.
            if not Document.objects.filter(pk=document.pk).exists():
                raise NotFound("This document has been deleted.")
        span = Span(
            annotation=annotation,
            client_id=cid,
            start=start,
            end=end,
            label=label_row,
            attributes=attrs,
        )
        insert(span)
        _bump(
            annotation,
            actor_id=access.user_id,
            action="span.create",
            obj_type="span",
            obj_id=cid,
            data={"start": start, "end": end, "label": label},
            written=True,
            now=now,
        )
        return Change(annotation, span)


def _own_annotation_locked(access: ProjectAccess, document: Document) -> Annotation:
    annotation = only_row(
        Annotation.objects.select_for_update().filter(
            document=document, annotator_id=access.user_id, kind=AnnotationKind.ANNOTATOR
        )
    )
    if annotation is None:
        raise NotFound("You have no annotation of this document yet.")
    return annotation


@transaction.atomic
def span_update(
    *,
    access: ProjectAccess,
    document: Document,
    span_id: str,
    version: int | None = None,
    **changes: Any,
) -> Change:
    annotation = _own_annotation_locked(access, document)
    span = only_row(annotation.spans.select_related("label").filter(client_id=span_id))
    if span is None:
        raise NotFound(f"No span '{span_id}' in your annotation of this document.")
    unknown = set(changes) - {"start", "end", "label", "attributes"}
    if unknown:
        raise ValidationFailed(f"Cannot change: {', '.join(sorted(unknown))}.")
    attrs = clean_attributes(changes["attributes"]) if "attributes" in changes else span.attributes
    span_in = SpanIn(
        start=changes.get("start", span.start),
        end=changes.get("end", span.end),
        label=changes.get("label", span.label.name),
        id=span.client_id,
        attributes=attrs,
    )
    if (span_in.start, span_in.end, span_in.label, attrs) == (
        span.start,
        span.end,
        span.label.name,
        span.attributes,
    ):
        # Already so: a retry of a change that was applied but whose answer was lost is
        # harmless, whatever version it carries (like a retried create or delete).
        return Change(annotation, span, created=False)
    _check_version(annotation, version)
    label_row = _validate_span(access, document, annotation, span_in, exclude_pk=span.pk)
    if label_row.name != span.label.name:
        _check_endpoints_after_relabel(access, annotation, span, label_row.name)
    span.start, span.end, span.label, span.attributes = span_in.start, span_in.end, label_row, attrs
    span.save(update_fields=["start", "end", "label", "attributes", "updated_at"])
    _bump(
        annotation,
        actor_id=access.user_id,
        action="span.update",
        obj_type="span",
        obj_id=span.client_id,
        data={k: v for k, v in changes.items()},
    )
    return Change(annotation, span)


def _check_endpoints_after_relabel(
    access: ProjectAccess, annotation: Annotation, span: Span, new_label: str
) -> None:
    """Relabelling a span must not leave one of its relations with endpoints the scheme
    forbids."""
    rels = list(
        Relation.objects.filter(
            Q(source=span) | Q(target=span), annotation=annotation
        ).select_related("source__label", "target__label", "type")
    )
    if not rels:
        return
    labels = {r.source.client_id: r.source.label.name for r in rels}
    labels.update({r.target.client_id: r.target.label.name for r in rels})
    labels[span.client_id] = new_label
    problems = validate_relations(
        labels,
        [
            RelationIn(source=r.source.client_id, target=r.target.client_id, type=r.type.name)
            for r in rels
        ],
        scheme_spec(access.project),
    )
    if problems:
        raise ValidationFailed(
            "Changing this label would break a relation: " + "; ".join(p.message for p in problems),
            problems=problems,
        )


def _delete_own(
    access: ProjectAccess,
    document: Document,
    *,
    kind: str,
    lookup: dict[str, Any],
    obj_id: object,
    version: int | None,
) -> Change:
    """Delete one span, relation or stance of the caller's annotation. Deleting what is
    already gone succeeds without a change, so a retried delete is harmless."""
    annotation = _own_annotation_locked(access, document)
    related = {
        "span": annotation.spans,
        "relation": annotation.relations,
        "stance": annotation.stances,
    }[kind]
    obj = only_row(related.filter(**lookup))
    if obj is None:
        return Change(annotation, None, created=False)
    _check_version(annotation, version)
    data = {"start": obj.start, "end": obj.end} if kind == "span" else None
    obj.delete()
    _bump(
        annotation,
        actor_id=access.user_id,
        action=f"{kind}.delete",
        obj_type=kind,
        obj_id=obj_id,
        data=data,
    )
    return Change(annotation, None)


@transaction.atomic
def span_delete(
    *, access: ProjectAccess, document: Document, span_id: str, version: int | None = None
) -> Change:
    """Deleting a span deletes its relations (they have no meaning without it)."""
    return _delete_own(
        access,
        document,
        kind="span",
        lookup={"client_id": span_id},
        obj_id=span_id,
        version=version,
    )


# --- relations ----------------------------------------------------------------------------


@transaction.atomic
def relation_create(
    *,
    access: ProjectAccess,
    document: Document,
    source: str,
    target: str,
    type: str,
    client_id: str | None = None,
    version: int | None = None,
) -> Change:
    annotation = _own_annotation_locked(access, document)
    cid = _client_id(client_id, "r")
    existing = only_row(
        annotation.relations.select_related("source", "target", "type").filter(client_id=cid)
    )
    if existing is not None:
        if (existing.source.client_id, existing.target.client_id, existing.type.name) == (
            source,
            target,
            type,
        ):
            return Change(annotation, existing, created=False)
        raise Conflict(
            f"Client id '{cid}' is already used by another relation.",
            code="duplicate_client_id",
            extra={"annotation_id": annotation.pk, "version": annotation.version},
        )
    _check_version(annotation, version)
    spans = {
        s.client_id: s
        for s in annotation.spans.select_related("label").filter(client_id__in=[source, target])
    }
    problems = validate_relations(
        {cid_: s.label.name for cid_, s in spans.items()},
        [RelationIn(source=source, target=target, type=type)],
        scheme_spec(access.project),
        field_prefix="relation",
    )
    _raise_problems(problems, "relation")
    rtype = RelationType.objects.get(project_id=access.project.pk, name=type)
    if Relation.objects.filter(
        annotation=annotation, source=spans[source], target=spans[target], type=rtype
    ).exists():
        raise Conflict(
            "This relation exists already.",
            code="duplicate",
            extra={"annotation_id": annotation.pk, "version": annotation.version},
        )
    relation = Relation.objects.create(
        annotation=annotation, client_id=cid, source=spans[source], target=spans[target], type=rtype
    )
    _bump(
        annotation,
        actor_id=access.user_id,
        action="relation.create",
        obj_type="relation",
        obj_id=cid,
        data={"from": source, "to": target, "type": type},
    )
    return Change(annotation, relation)


@transaction.atomic
def relation_delete(
    *, access: ProjectAccess, document: Document, relation_id: str, version: int | None = None
) -> Change:
    return _delete_own(
        access,
        document,
        kind="relation",
        lookup={"client_id": relation_id},
        obj_id=relation_id,
        version=version,
    )


# --- document stance ----------------------------------------------------------------------


@transaction.atomic
def stance_set(
    *,
    access: ProjectAccess,
    document: Document,
    target_id: int,
    value: str,
    version: int | None = None,
) -> Change:
    target = only_row(StanceTarget.objects.filter(project_id=access.project.pk, pk=target_id))
    if target is None:
        raise NotFound(f"No stance target {target_id} in this project.")
    annotation = _lock_annotation(access, document)
    current = only_row(annotation.stances.filter(target=target))
    if current is not None and current.value == value:
        return Change(annotation, current, created=False)
    _check_version(annotation, version)
    problems = validate_stances(
        [StanceIn(target=target.name, value=value)],
        scheme_spec(access.project),
        field_prefix="stance",
    )
    _raise_problems(problems, "stance")
    stance, _ = Stance.objects.update_or_create(
        annotation=annotation, target=target, defaults={"value": value}
    )
    _bump(
        annotation,
        actor_id=access.user_id,
        action="stance.set",
        obj_type="stance",
        obj_id=target.pk,
        data={"value": value},
    )
    return Change(annotation, stance)


@transaction.atomic
def stance_delete(
    *, access: ProjectAccess, document: Document, target_id: int, version: int | None = None
) -> Change:
    return _delete_own(
        access,
        document,
        kind="stance",
        lookup={"target_id": target_id},
        obj_id=target_id,
        version=version,
    )


# --- submit and skip ----------------------------------------------------------------------


@transaction.atomic
def annotation_submit(
    *, access: ProjectAccess, document: Document, version: int | None = None
) -> Change:
    """Submitting leaves the queue; the annotator may still correct the annotation later."""
    annotation = _lock_annotation(access, document)
    if annotation.status == AnnotationStatus.SUBMITTED:
        return Change(annotation, None, created=False)
    _check_version(annotation, version)
    now = timezone.now()
    annotation.status = AnnotationStatus.SUBMITTED
    annotation.submitted_at = now
    annotation.skip_reason = ""
    annotation.save(update_fields=["status", "submitted_at", "skip_reason", "updated_at"])
    Assignment.objects.filter(document=document, annotator_id=access.user_id).update(
        status=AssignmentStatus.SUBMITTED, skip_reason="", updated_at=now
    )
    _bump(
        annotation,
        actor_id=access.user_id,
        action="annotation.submit",
        obj_type="annotation",
        obj_id=annotation.pk,
    )
    return Change(annotation, None)


@transaction.atomic
def annotation_skip(
    *, access: ProjectAccess, document: Document, reason: str, version: int | None = None
) -> Change:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why you skip this document.", problems=[Problem("required", field="reason")]
        )
    annotation = _lock_annotation(access, document)
    _check_version(annotation, version)
    now = timezone.now()
    annotation.status = AnnotationStatus.SKIPPED
    annotation.skip_reason = reason[:2000]
    annotation.save(update_fields=["status", "skip_reason", "updated_at"])
    Assignment.objects.filter(document=document, annotator_id=access.user_id).update(
        status=AssignmentStatus.SKIPPED, skip_reason=reason[:2000], updated_at=now
    )
    _bump(
        annotation,
        actor_id=access.user_id,
        action="annotation.skip",
        obj_type="annotation",
        obj_id=annotation.pk,
        data={"reason": reason[:200]},
    )
    return Change(annotation, None)
