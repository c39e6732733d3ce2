"""Exports: one requested dataset build, from the request to the stored file.

The row is the only truth about an export: the task claims it with a lease (a conditional
UPDATE), the page and the API read it, and a download checks it. A Celery task id is never
exposed or trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from projects.domain.exports.records import FORMATS

from .project import Project


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Building"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def export_upload_to(instance: Export, filename: str) -> str:
    """Files of one project side by side; the name carries the attempt, so a run that lost its
    lease can never overwrite the file of the run that took over."""
    return f"exports/{instance.project_id}/{filename}"


class Export(models.Model):
    """``attempts`` counts claims; together with ``status`` it is the fencing token every
    update of a running export checks, so a worker whose lease was taken over cannot write."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    format = models.CharField(max_length=16)
    # ExportOptions.as_dict(): what the user asked for, in a fixed key order
    options = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=255, blank=True, help_text="Worker host name.")
    error = models.TextField(blank=True)
    file = models.FileField(upload_to=export_upload_to, max_length=500, blank=True)
    # manifest.json exactly as written (bytes as UTF-8 text), so it is served byte-identical
    manifest = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ExportStatus]),
                name="export_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=list(FORMATS)), name="export_format_valid"
            ),
            # a finished export always has its file and checksum; the download relies on it
            models.CheckConstraint(
                condition=~Q(status="done") | (~Q(file="") & ~Q(sha256="") & Q(size__isnull=False)),
                name="export_done_has_file",
            ),
            # a running export always has a lease, so the reaper can always tell a dead run
            models.CheckConstraint(
                condition=~Q(status="running") | Q(lease_until__isnull=False),
                name="export_running_has_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(error=""), name="export_failed_has_reason"
            ),
        ]
        indexes = [
            # the history of a project, newest first: WHERE project_id = ? ORDER BY created_at
            models.Index(fields=["project", "-created_at"], name="export_project_idx"),
            # the reaper: WHERE status = 'running' AND lease_until < now()
            models.Index(fields=["status", "lease_until"], name="export_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.format} export #{self.pk} ({self.status})"

    @property
    def extension(self) -> str:
        return FORMATS.get(self.format, "")

    @property
    def download_name(self) -> str:
        """What a download is saved as: ``<slug>-<id>.<ext>``."""
        return f"{self.project.slug}-{self.pk}{self.extension}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))
