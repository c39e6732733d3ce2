"""Documents and who is assigned to annotate them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .project import Project
from .query import LiveManager


class Document(models.Model):
    """One article. Its text is normalised at import (LF, NFC) and never changes afterwards, so
    every offset ever recorded against it stays valid; ``sha256`` lets anyone check that."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    external_id = models.CharField(max_length=255)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    length = models.PositiveIntegerField(help_text="Length in Unicode code points.")
    sha256 = models.CharField(max_length=64)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Soft delete: a deleted document disappears from every read (``objects`` leaves it out)
    # together with its annotations, which are deleted in the same transaction with the same
    # ``deleted_at``, so a restore brings back exactly those. Nothing is removed.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 - a manager, which ruff takes for a field

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            # among live documents only: a deleted document's id may be imported again (a
            # restore is refused while the id is taken)
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=Q(deleted_at__isnull=True),
                name="document_unique_external_id",
            ),
            models.CheckConstraint(
                condition=Q(deleted_by__isnull=True) | Q(deleted_at__isnull=False),
                name="document_deleted_by_only_when_deleted",
            ),
        ]
        indexes = [
            # a lead's deleted documents, newest first:
            # WHERE project_id = ? AND deleted_at IS NOT NULL ORDER BY deleted_at DESC.
            # Partial, so it holds only deleted rows; the live reads filter deleted_at IS NULL
            # after the indexes they already use (deleted rows are few).
            models.Index(
                fields=["project", "-deleted_at"],
                condition=Q(deleted_at__isnull=False),
                name="document_deleted_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.external_id


class AssignmentStatus(models.TextChoices):
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"
    SKIPPED = "skipped", "Skipped"


class Assignment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED
    )
    skip_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project_id", "document_id", "annotator_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "annotator"], name="assignment_one_per_annotator"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AssignmentStatus]),
                name="assignment_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="skipped") | ~Q(skip_reason=""),
                name="assignment_skip_has_reason",
            ),
        ]
        indexes = [
            # an annotator's queue: WHERE project_id = ? AND annotator_id = ? ORDER BY document_id
            models.Index(fields=["project", "annotator", "document"], name="assignment_queue_idx"),
            # progress per annotator: WHERE project_id = ? GROUP BY annotator_id, status
            models.Index(fields=["project", "status"], name="assignment_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document} → {self.annotator} ({self.status})"
