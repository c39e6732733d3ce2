"""Projects, their members, their label scheme, and the API tokens of their users."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from .query import LiveManager


class Role(models.TextChoices):
    LEAD = "lead", "Lead"
    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"
    CONSUMER = "consumer", "Data consumer"


class Project(models.Model):
    """A labelling effort. The current scheme lives here as JSON (the source of truth, parsed by
    ``projects.domain.scheme``); ``Label``, ``RelationType`` and ``StanceTarget`` rows mirror it so
    spans can point at labels with a protected foreign key."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown, shown beside the text.")
    annotators_per_document = models.PositiveSmallIntegerField(default=2)
    blind = models.BooleanField(default=True, help_text="Annotators never see each other's work.")
    snap_to_words = models.BooleanField(default=True)
    allow_overlap = models.BooleanField(default=True)
    adjudication_threshold = models.FloatField(
        default=1.0,
        help_text="Documents whose annotators agree less than this (share of spans all agree "
        "on, 0-1) go to the adjudication queue; 1.0 sends every document with any difference.",
    )
    scheme = models.JSONField(default=dict)
    scheme_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Soft delete: a deleted project is hidden from every member (its pages and endpoints
    # answer 404) and keeps all its rows; staff restore it in the admin. Its slug stays taken.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 - a manager, which ruff takes for a field

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deleted_by__isnull=True) | Q(deleted_at__isnull=False),
                name="project_deleted_by_only_when_deleted",
            ),
            models.CheckConstraint(
                condition=Q(annotators_per_document__gte=1, annotators_per_document__lte=50),
                name="project_overlap_between_1_and_50",
            ),
            models.CheckConstraint(
                condition=Q(adjudication_threshold__gte=0, adjudication_threshold__lte=1),
                name="project_adjudication_threshold_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_one_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]
        indexes = [
            # "my projects": WHERE user_id = ? (the unique index leads with project_id)
            models.Index(fields=["user", "role"], name="membership_user_role_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class SchemeVersion(models.Model):
    """Every saved scheme, so an export or an old annotation can name the scheme it was made
    under."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scheme_versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="schemeversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project} scheme v{self.version}"


class Label(models.Model):
    """A span label. Spans point here with RESTRICT: a label in use is retired or renamed,
    never deleted with its spans."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7)
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    retired = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="label_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class RelationType(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="relation_types")
    name = models.CharField(max_length=100)
    hotkey = models.CharField(max_length=1, blank=True)
    directed = models.BooleanField(default=True)
    from_labels = models.JSONField(default=list, blank=True)
    to_labels = models.JSONField(default=list, blank=True)
    retired = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="relationtype_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class StanceTarget(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="stance_targets")
    name = models.TextField()
    retired = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["project_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="stancetarget_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A script's credential. Only a SHA-256 of the key is stored: the key is shown once, when
    it is created, so a leaked database does not leak working tokens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.user}: {self.name} ({self.prefix}…)"
