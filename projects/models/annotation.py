"""Annotations (one annotator's work on one document, or the document's gold), their spans,
relations and stances, and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .document import Document
from .project import Label, Project, RelationType, StanceTarget
from .query import LiveManager


class AnnotationKind(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    GOLD = "gold", "Gold (adjudicated)"


class AnnotationStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"


class Annotation(models.Model):
    """``version`` grows by one with every change; a write that carries an older version is
    refused with 409 so two tabs can never silently overwrite each other."""

    # indexed by annotation_project_idx (project, status, document), which leads with it
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    # RESTRICT: a document with annotations is never removed on its own (only with its project);
    # the app soft-deletes documents instead (``deleted_at``).
    document = models.ForeignKey(Document, on_delete=models.RESTRICT, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="annotations",
    )
    kind = models.CharField(
        max_length=16, choices=AnnotationKind.choices, default=AnnotationKind.ANNOTATOR
    )
    status = models.CharField(
        max_length=16, choices=AnnotationStatus.choices, default=AnnotationStatus.IN_PROGRESS
    )
    version = models.PositiveIntegerField(default=0)
    skip_reason = models.TextField(blank=True)
    # gold only: the candidates a reviewer rejected, as [start, end, label] (so they stop
    # being offered), and how the automatic merge was made
    adjudication = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Soft delete, with its document (the document's ``deleted_at``) or on its own (a lead
    # resetting one annotator's work): hidden from every read by ``objects``, kept, restorable.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 - a manager, which ruff takes for a field

    class Meta:
        ordering = ["document_id", "kind", "annotator_id"]
        constraints = [
            # one live annotation each: after a reset the annotator starts a new one, and
            # the old one can be restored only once the new one is deleted
            models.UniqueConstraint(
                fields=["document", "annotator"],
                condition=Q(kind="annotator", deleted_at__isnull=True),
                name="annotation_one_per_annotator",
            ),
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(kind="gold", deleted_at__isnull=True),
                name="annotation_one_gold",
            ),
            models.CheckConstraint(
                condition=Q(deleted_by__isnull=True) | Q(deleted_at__isnull=False),
                name="annotation_deleted_by_only_when_deleted",
            ),
            models.CheckConstraint(
                condition=(Q(kind="gold") & Q(annotator__isnull=True))
                | (Q(kind="annotator") & Q(annotator__isnull=False)),
                name="annotation_gold_has_no_annotator",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AnnotationStatus]),
                name="annotation_status_valid",
            ),
        ]
        indexes = [
            # agreement and exports: WHERE project_id = ? AND status = ? ORDER BY document_id
            models.Index(fields=["project", "status", "document"], name="annotation_project_idx"),
            # the annotations a lead deleted, newest first (partial: deleted rows only):
            # WHERE project_id = ? AND deleted_at IS NOT NULL ORDER BY deleted_at DESC
            models.Index(
                fields=["project", "-deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="annotation_deleted_idx",
            ),
        ]

    def __str__(self) -> str:
        who = self.annotator or "gold"
        return f"{self.document} by {who}"


class Span(models.Model):
    """``[start, end)`` in Unicode code points of the document's text. ``client_id`` is the id
    the client (or the import file) gave the span; relations and retries refer to it."""

    # no index of its own: span_unique_client_id (annotation, client_id) serves every lookup
    # by annotation, and each index is one more page written on every span saved
    annotation = models.ForeignKey(
        Annotation, on_delete=models.CASCADE, related_name="spans", db_index=False
    )
    client_id = models.CharField(max_length=64)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey(Label, on_delete=models.RESTRICT, related_name="spans")
    attributes = models.JSONField(default=dict, blank=True)
    # gold spans: who proposed it and who decided ({"proposed_by": [...], "decided_by": ...})
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["annotation_id", "start", "end", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "client_id"], name="span_unique_client_id"
            ),
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="span_start_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id} [{self.start}, {self.end})"


class Relation(models.Model):
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="relations")
    client_id = models.CharField(max_length=64)
    source = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Span, on_delete=models.CASCADE, related_name="incoming")
    type = models.ForeignKey(RelationType, on_delete=models.RESTRICT, related_name="relations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["annotation_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "client_id"], name="relation_unique_client_id"
            ),
            models.UniqueConstraint(
                fields=["annotation", "source", "target", "type"], name="relation_unique_edge"
            ),
            models.CheckConstraint(condition=~Q(source=F("target")), name="relation_no_self_loop"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} -{self.type_id}-> {self.target_id}"


class Stance(models.Model):
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="stances")
    target = models.ForeignKey(StanceTarget, on_delete=models.RESTRICT, related_name="stances")
    value = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["annotation_id", "target_id"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "target"], name="stance_one_per_target"),
        ]

    def __str__(self) -> str:
        return f"{self.target_id}: {self.value}"


class AuditEvent(models.Model):
    """Append-only: who did what, when. Rows outlive what they describe (SET_NULL), so the
    trail survives deletions."""

    # project and document are indexed by the two (…, created_at) indexes below, whose first
    # column serves lookups by either alone: an event is written with every change, so no
    # index is kept that another one already covers
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        db_index=False,
    )
    document = models.ForeignKey(
        Document,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the audit log of a project or of one document, newest first
            models.Index(fields=["project", "created_at"], name="auditevent_project_idx"),
            models.Index(fields=["document", "created_at"], name="auditevent_document_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"
