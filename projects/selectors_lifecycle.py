"""Reads of the data lifecycle: what a deletion would hide, what is deleted (for leads to
restore), and a document's audit trail (who changed which span when).

Deleted rows are read here through ``all_objects``; everywhere else the models' ``objects``
manager leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .domain.audit import Names, describe, referenced_ids
from .ids import as_id
from .models import (
    Annotation,
    AuditEvent,
    Document,
    Export,
    Membership,
    Project,
    Relation,
    Span,
    Stance,
    StanceTarget,
)
from .models.query import only_row
from .permissions import ProjectAccess

# --- what a deletion hides --------------------------------------------------------------------


def annotations_of(document: Document) -> list[dict[str, Any]]:
    """The live annotations of a document, with who made them and their size: what deleting
    the document hides (shown on its confirmation page and in the API's refusal). One query."""
    return [
        {
            "id": pk,
            "annotator": annotator,
            "gold": annotator is None,
            "status": status,
            "spans": spans,
            "updated_at": updated_at,
        }
        for pk, annotator, status, spans, updated_at in Annotation.objects.filter(document=document)
        .annotate(n=Count("spans"))
        .order_by("kind", "annotator__username", "pk")
        .values_list("pk", "annotator__username", "status", "n", "updated_at")
    ]


def annotation_counts(annotation_id: int) -> dict[str, int]:
    """What an annotation holds (recorded when it is deleted)."""
    return {
        "spans": Span.objects.filter(annotation_id=annotation_id).count(),
        "relations": Relation.objects.filter(annotation_id=annotation_id).count(),
        "stances": Stance.objects.filter(annotation_id=annotation_id).count(),
    }


def project_counts(project: Project) -> dict[str, int]:
    """What a project holds (shown before it is deleted and kept in the audit event)."""
    return {
        "documents": Document.objects.filter(project=project).count(),
        "annotations": Annotation.objects.filter(
            project=project, document__deleted_at__isnull=True
        ).count(),
        "members": Membership.objects.filter(project=project).count(),
        "exports": Export.objects.filter(project=project).count(),
    }


# --- what is deleted ----------------------------------------------------------------------------


def deleted_documents(project: Project) -> QuerySet[Document]:
    """A project's deleted documents, most recently deleted first, with who deleted them and
    how many annotations went with each (those a restore brings back). One query per page."""
    went_with = (
        Annotation.all_objects.filter(document=OuterRef("pk"), deleted_at=OuterRef("deleted_at"))
        .order_by()
        .values("document")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Document.all_objects.filter(project=project, deleted_at__isnull=False)
        .select_related("deleted_by")
        .defer("text")
        .annotate(annotation_count=Coalesce(Subquery(went_with, output_field=IntegerField()), 0))
        .order_by("-deleted_at", "-pk")
    )


def deleted_annotations(project: Project) -> QuerySet[Annotation]:
    """Annotations deleted on their own (their document is live), most recent first, with
    their document, annotator, who deleted them and their span count. One query per page."""
    return (
        Annotation.all_objects.filter(
            project=project, deleted_at__isnull=False, document__deleted_at__isnull=True
        )
        .select_related("document", "annotator", "deleted_by")
        .defer("document__text", "document__meta")
        .annotate(span_count=Count("spans"))
        .order_by("-deleted_at", "-pk")
    )


def document_any(access: ProjectAccess, document_id: int | str) -> Document:
    """A document of the caller's project, deleted or not (for leads: the restore and the
    history of a deleted document), or Document.DoesNotExist."""
    pk = as_id(document_id)
    if pk is None:
        raise Document.DoesNotExist
    found = only_row(Document.all_objects.filter(project=access.project, pk=pk).defer("text"))
    if found is None:
        raise Document.DoesNotExist
    return found


# --- a document's history -----------------------------------------------------------------------


def document_history(
    document: Document, *, actor: str | None = None, action: str | None = None
) -> QuerySet[AuditEvent]:
    """A document's audit events, newest first, with their actors (one query per page).
    ``action`` is an action (``span.create``) or a family of them (``span``)."""
    events = (
        AuditEvent.objects.filter(document=document, project_id=document.project_id)
        .select_related("actor")
        .order_by("-created_at", "-pk")
    )
    if actor:
        events = events.filter(actor__username=actor)
    if action:
        events = (
            events.filter(action=action)
            if "." in action
            else events.filter(action__startswith=f"{action}.")
        )
    return events


def history_choices(document: Document) -> dict[str, list[str]]:
    """Who acted on a document and which actions happened (the filters' choices): two
    queries over the document's events."""
    events = AuditEvent.objects.filter(document=document).order_by()
    actors = sorted(
        {name for name in events.values_list("actor__username", flat=True).distinct() if name}
    )
    actions = sorted(set(events.values_list("action", flat=True).distinct()))
    return {"actors": actors, "actions": actions}


def _names(project_id: int, events: list[tuple[str, str, Any]]) -> Names:
    """The stance target and user names the events refer to: at most two queries."""
    targets: set[int] = set()
    users: set[int] = set()
    for action, object_id, data in events:
        target, user = referenced_ids(action, object_id, data if isinstance(data, dict) else {})
        if as_id(target) is not None:
            targets.add(int(target))
        if as_id(user) is not None:
            users.add(int(user))
    return Names(
        targets={
            str(pk): name
            for pk, name in StanceTarget.objects.filter(
                project_id=project_id, pk__in=targets
            ).values_list("pk", "name")
        }
        if targets
        else {},
        users={
            str(pk): name
            for pk, name in get_user_model()
            .objects.filter(pk__in=users)
            .values_list("pk", "username")
        }
        if users
        else {},
    )


def history_rows(project_id: int, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """Events (with their actors selected) as rows with a readable summary."""
    events = list(events)
    names = _names(project_id, [(e.action, e.object_id, e.data) for e in events])
    return [
        {
            "id": e.pk,
            "created_at": e.created_at,
            "actor": e.actor.get_username() if e.actor else None,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "summary": describe(e.action, e.object_type, e.object_id, e.data, names),
            "data": e.data,
        }
        for e in events
    ]


HISTORY_CHUNK = 2000


def history_stream(events: QuerySet[AuditEvent], project_id: int) -> Iterator[dict[str, Any]]:
    """Every event of ``events`` as a row, read in chunks through a server-side cursor (the
    CSV export): memory holds one chunk, and names are looked up once per chunk."""
    rows = events.values_list(
        "pk", "created_at", "actor__username", "action", "object_type", "object_id", "data"
    ).iterator(chunk_size=HISTORY_CHUNK)
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == HISTORY_CHUNK:
            yield from _stream_rows(project_id, chunk)
            chunk = []
    yield from _stream_rows(project_id, chunk)


def _stream_rows(project_id: int, chunk: list[tuple[Any, ...]]) -> Iterator[dict[str, Any]]:
    if not chunk:
        return
    names = _names(project_id, [(row[3], row[5], row[6]) for row in chunk])
    for pk, created_at, actor, action, object_type, object_id, data in chunk:
        yield {
            "id": pk,
            "created_at": created_at,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "summary": describe(action, object_type, object_id, data, names),
            "data": data,
        }
