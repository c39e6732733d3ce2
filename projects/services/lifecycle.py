"""Deleting and restoring projects, documents and annotations.

Every deletion here is soft: the row gets ``deleted_at`` and ``deleted_by`` and disappears from
every read (the models' ``objects`` manager leaves it out), and a restore brings it back as it
was. Nothing here removes a row, so no annotation is ever lost through these paths. Deleting
what holds annotations asks for an explicit confirmation (``confirm``: the document's external
id, the project's slug), and every change is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from projects import selectors_lifecycle
from projects.domain.problems import Problem
from projects.models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Assignment,
    AssignmentStatus,
    Document,
    Project,
)
from projects.models.query import only_row

from .audit import audit_record
from .errors import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class Deletion:
    """What a document deletion or restore did: the document (as it is now) and how many
    annotations went or came back with it."""

    document: Document
    annotations: int


def _check_confirmation(
    confirm: str | None, *, expected: str, what: str, needed: bool, holding: str
) -> None:
    """``confirm`` must repeat ``expected`` when ``needed``; when given, it must match anyway
    (a script that confirms the wrong thing is stopped rather than obeyed)."""
    if confirm is None or confirm == "":
        if needed:
            raise Conflict(
                f"{what} holds {holding}. To delete it, confirm with confirm={expected!r}.",
                code="confirmation_required",
                problems=[Problem(f"repeat {expected!r} to confirm", field="confirm")],
            )
        return
    if confirm != expected:
        raise ValidationFailed(
            f"confirm must be {expected!r} to delete {what}, not {confirm[:80]!r}.",
            problems=[Problem("does not match", field="confirm")],
        )


def _annotations_phrase(rows: list[dict[str, Any]]) -> str:
    names = [row["annotator"] or "the gold" for row in rows]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    noun = "annotation" if len(rows) == 1 else "annotations"
    return f"{len(rows)} {noun} (by {shown})"


# --- documents ------------------------------------------------------------------------------


@transaction.atomic
def document_delete(
    *, project: Project, document: Document, actor_id: int, confirm: str | None = None
) -> Deletion:
    """Soft-delete a document and, in the same transaction and with the same timestamp, all
    its annotations (so a restore brings back exactly those, not ones deleted before on their
    own). A document with annotations needs ``confirm`` = its external id."""
    locked = only_row(Document.objects.select_for_update().filter(project=project, pk=document.pk))
    if locked is None:
        raise NotFound("No such document in this project (it may be deleted already).")
    rows = selectors_lifecycle.annotations_of(locked)
    _check_confirmation(
        confirm,
        expected=locked.external_id,
        what=f"Document {locked.external_id!r}",
        needed=bool(rows),
        holding=_annotations_phrase(rows) if rows else "",
    )
    now = timezone.now()
    Document.objects.filter(pk=locked.pk).update(deleted_at=now, deleted_by_id=actor_id)
    hidden = Annotation.objects.filter(document=locked).update(
        deleted_at=now, deleted_by_id=actor_id, updated_at=now
    )
    audit_record(
        actor_id=actor_id,
        action="document.delete",
        project=project,
        document=locked,
        object_type="document",
        object_id=locked.pk,
        data={
            "external_id": locked.external_id,
            "title": locked.title,
            "annotations": hidden,
            "annotators": [row["annotator"] or "gold" for row in rows],
        },
    )
    locked.deleted_at, locked.deleted_by_id = now, actor_id
    return Deletion(locked, hidden)


@transaction.atomic
def document_restore(*, project: Project, document_id: int, actor_id: int) -> Deletion:
    """Bring a deleted document back with the annotations deleted with it. Restoring a
    document that is not deleted changes nothing (a retried restore is harmless)."""
    document = only_row(
        Document.all_objects.select_for_update().filter(project=project, pk=document_id)
    )
    if document is None:
        raise NotFound("No such document in this project.")
    if document.deleted_at is None:
        return Deletion(document, 0)
    if Document.objects.filter(project=project, external_id=document.external_id).exists():
        raise Conflict(
            f"Another document with the id {document.external_id!r} was imported after this one "
            "was deleted; delete that one first to restore this one.",
            code="duplicate",
        )
    stamp, now = document.deleted_at, timezone.now()
    Document.all_objects.filter(pk=document.pk).update(deleted_at=None, deleted_by=None)
    restored = Annotation.all_objects.filter(document=document, deleted_at=stamp).update(
        deleted_at=None, deleted_by=None, updated_at=now
    )
    audit_record(
        actor_id=actor_id,
        action="document.restore",
        project=project,
        document=document,
        object_type="document",
        object_id=document.pk,
        data={
            "external_id": document.external_id,
            "annotations": restored,
            "deleted_at": stamp.isoformat(),
        },
    )
    document.deleted_at, document.deleted_by_id = None, None
    return Deletion(document, restored)


# --- annotations ----------------------------------------------------------------------------


def _annotator_name(annotation: Annotation) -> str | None:
    if annotation.annotator_id is None:
        return None
    return annotation.annotator.get_username() if annotation.annotator else None


def _assignment_status(annotation: Annotation) -> str:
    """The assignment status an annotation's state stands for (as ``assignment_create``)."""
    if annotation.status == AnnotationStatus.SUBMITTED:
        return AssignmentStatus.SUBMITTED
    if annotation.status == AnnotationStatus.SKIPPED:
        return AssignmentStatus.SKIPPED
    return AssignmentStatus.IN_PROGRESS if annotation.version else AssignmentStatus.ASSIGNED


@transaction.atomic
def annotation_delete(
    *, project: Project, document: Document, annotation_id: int, actor_id: int
) -> Annotation:
    """Soft-delete one annotation of a live document (a lead resetting an annotator's work,
    or discarding a gold). The annotator's assignment goes back to "assigned", so the document
    is in their queue again and their next change starts a new annotation."""
    annotation = only_row(
        Annotation.objects.select_for_update().filter(
            project=project, document=document, pk=annotation_id
        )
    )
    if annotation is None:
        raise NotFound("No such annotation of this document (it may be deleted already).")
    counts = selectors_lifecycle.annotation_counts(annotation.pk)
    now = timezone.now()
    Annotation.objects.filter(pk=annotation.pk).update(
        deleted_at=now, deleted_by_id=actor_id, updated_at=now
    )
    was = None
    if annotation.kind == AnnotationKind.ANNOTATOR:
        assignments = Assignment.objects.filter(
            document=document, annotator_id=annotation.annotator_id
        )
        was = only_row(assignments.values_list("status", flat=True))
        assignments.update(status=AssignmentStatus.ASSIGNED, skip_reason="", updated_at=now)
    audit_record(
        actor_id=actor_id,
        action="annotation.delete",
        project=project,
        document=document,
        object_type="annotation",
        object_id=annotation.pk,
        data={
            "annotator": _annotator_name(annotation),
            "gold": annotation.kind == AnnotationKind.GOLD,
            "status": annotation.status,
            "version": annotation.version,
            **counts,
            "assignment_was": was,
        },
    )
    annotation.deleted_at, annotation.deleted_by_id, annotation.updated_at = now, actor_id, now
    return annotation


@transaction.atomic
def annotation_restore(
    *, project: Project, document: Document, annotation_id: int, actor_id: int
) -> Annotation:
    """Bring back an annotation deleted on its own; the annotator's assignment takes the
    status its state stands for again. Refused while the annotator (or the gold) has a newer
    live annotation of the document: there can be only one."""
    annotation = only_row(
        Annotation.all_objects.select_for_update().filter(
            project=project, document=document, pk=annotation_id
        )
    )
    if annotation is None:
        raise NotFound("No such annotation of this document.")
    if annotation.deleted_at is None:
        return annotation
    if document.deleted_at is not None:
        raise Conflict(
            "The document of this annotation is deleted; restore the document first.",
            code="document_deleted",
        )
    rivals = Annotation.objects.filter(document=document, kind=annotation.kind)
    if annotation.kind == AnnotationKind.ANNOTATOR:
        rivals = rivals.filter(annotator_id=annotation.annotator_id)
    if rivals.exists():
        who = _annotator_name(annotation) or "the gold"
        raise Conflict(
            f"There is a newer annotation of this document ({who}) made after this one was "
            "deleted; delete it first to restore this one.",
            code="duplicate",
        )
    now = timezone.now()
    Annotation.all_objects.filter(pk=annotation.pk).update(
        deleted_at=None, deleted_by=None, updated_at=now
    )
    status = None
    if annotation.kind == AnnotationKind.ANNOTATOR:
        status = _assignment_status(annotation)
        Assignment.objects.filter(document=document, annotator_id=annotation.annotator_id).update(
            status=status,
            skip_reason=annotation.skip_reason if status == AssignmentStatus.SKIPPED else "",
            updated_at=now,
        )
    audit_record(
        actor_id=actor_id,
        action="annotation.restore",
        project=project,
        document=document,
        object_type="annotation",
        object_id=annotation.pk,
        data={
            "annotator": _annotator_name(annotation),
            "gold": annotation.kind == AnnotationKind.GOLD,
            "deleted_at": annotation.deleted_at.isoformat(),
            "assignment": status,
        },
    )
    annotation.deleted_at, annotation.deleted_by_id, annotation.updated_at = None, None, now
    return annotation


# --- projects -------------------------------------------------------------------------------


@transaction.atomic
def project_delete(*, project: Project, actor_id: int, confirm: str | None) -> Project:
    """Soft-delete a project: it disappears for every member, its leads included, with all
    its rows kept; staff restore it in the admin. Always needs ``confirm`` = its slug. The
    audit event keeps the name, slug and counts, so it says what was deleted on its own."""
    locked = only_row(Project.objects.select_for_update().filter(pk=project.pk))
    if locked is None:
        raise NotFound("No such project (it may be deleted already).")
    counts = selectors_lifecycle.project_counts(locked)
    _check_confirmation(
        confirm,
        expected=locked.slug,
        what=f"Project {locked.slug!r}",
        needed=True,
        holding=(
            f"{counts['documents']} documents and {counts['annotations']} annotations"
            f" with {counts['members']} members"
        ),
    )
    now = timezone.now()
    Project.objects.filter(pk=locked.pk).update(deleted_at=now, deleted_by_id=actor_id)
    audit_record(
        actor_id=actor_id,
        action="project.delete",
        project=locked,
        object_type="project",
        object_id=locked.pk,
        data={"name": locked.name, "slug": locked.slug, **counts},
    )
    locked.deleted_at, locked.deleted_by_id = now, actor_id
    return locked


@transaction.atomic
def project_restore(*, project_id: int, actor_id: int | None) -> Project:
    """Bring a deleted project back for its members (staff, from the admin)."""
    project = only_row(Project.all_objects.select_for_update().filter(pk=project_id))
    if project is None:
        raise NotFound(f"No project {project_id}.")
    if project.deleted_at is None:
        return project
    Project.all_objects.filter(pk=project.pk).update(deleted_at=None, deleted_by=None)
    audit_record(
        actor_id=actor_id,
        action="project.restore",
        project=project,
        object_type="project",
        object_id=project.pk,
        data={
            "name": project.name,
            "slug": project.slug,
            "deleted_at": project.deleted_at.isoformat(),
        },
    )
    project.deleted_at, project.deleted_by_id = None, None
    return project
