"""The Django admin for every model. Document text is read-only here as everywhere: offsets
recorded against it must stay valid.

Projects, documents and annotations are soft-deleted by leads in the app; here staff see the
deleted ones too (filter "Deleted at") and restore them with an action, through the same
services, so the audit trail records it. The admin deletes none of them: a hard delete would
take annotations with it.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import models
from .services import lifecycle
from .services.errors import ServiceError


class SoftDeletedAdmin(admin.ModelAdmin):
    """Lists every row, the deleted ones too (``all_objects``), and never deletes one."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def _restore_each(self, request: HttpRequest, rows: QuerySet[Any], restore: Any) -> None:
        restored = 0
        for row in rows.filter(deleted_at__isnull=False):
            try:
                restore(row)
            except ServiceError as exc:
                self.message_user(request, f"{row}: {exc.message}", messages.ERROR)
            else:
                restored += 1
        self.message_user(request, f"Restored {restored}.", messages.SUCCESS)


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


class LabelInline(admin.TabularInline):
    model = models.Label
    extra = 0
    readonly_fields = ["name"]
    can_delete = False


@admin.register(models.Project)
class ProjectAdmin(SoftDeletedAdmin):
    list_display = [
        "name",
        "slug",
        "annotators_per_document",
        "blind",
        "scheme_version",
        "created_at",
        "deleted_at",
    ]
    list_filter = [("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    readonly_fields = [
        "scheme",
        "scheme_version",
        "created_at",
        "created_by",
        "deleted_at",
        "deleted_by",
    ]
    inlines = [MembershipInline, LabelInline]
    actions = ["restore"]

    @admin.action(description="Restore the selected projects")
    def restore(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._restore_each(
            request,
            queryset,
            lambda p: lifecycle.project_restore(project_id=p.pk, actor_id=request.user.pk),
        )


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]
    list_select_related = ["user", "project"]


@admin.register(models.SchemeVersion)
class SchemeVersionAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "created_by", "created_at"]
    list_select_related = ["project", "created_by"]
    readonly_fields = ["project", "version", "definition", "created_by", "created_at"]


@admin.register(models.Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "color", "hotkey", "retired"]
    list_filter = ["project", "retired"]
    list_select_related = ["project"]


@admin.register(models.RelationType)
class RelationTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "hotkey", "directed", "retired"]
    list_select_related = ["project"]


@admin.register(models.StanceTarget)
class StanceTargetAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "retired"]
    list_select_related = ["project"]


@admin.register(models.Document)
class DocumentAdmin(SoftDeletedAdmin):
    list_display = ["external_id", "title", "project", "length", "created_at", "deleted_at"]
    list_filter = ["project", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["external_id", "title"]
    list_select_related = ["project"]
    readonly_fields = [
        "project",
        "external_id",
        "text",
        "length",
        "sha256",
        "created_at",
        "deleted_at",
        "deleted_by",
    ]
    actions = ["restore"]

    @admin.action(description="Restore the selected documents (with their annotations)")
    def restore(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._restore_each(
            request,
            queryset.select_related("project"),
            lambda d: lifecycle.document_restore(
                project=d.project, document_id=d.pk, actor_id=request.user.pk
            ),
        )


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["document", "annotator", "status", "updated_at"]
    list_filter = ["status", "project"]
    list_select_related = ["document", "annotator"]
    raw_id_fields = ["document"]


class SpanInline(admin.TabularInline):
    model = models.Span
    extra = 0
    fields = ["client_id", "start", "end", "label", "attributes"]
    raw_id_fields = ["label"]


@admin.register(models.Annotation)
class AnnotationAdmin(SoftDeletedAdmin):
    list_display = [
        "document",
        "annotator",
        "kind",
        "status",
        "version",
        "updated_at",
        "deleted_at",
    ]
    list_filter = ["kind", "status", "project", ("deleted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["document", "annotator"]
    raw_id_fields = ["document"]
    readonly_fields = ["version", "deleted_at", "deleted_by"]
    inlines = [SpanInline]
    actions = ["restore"]

    @admin.action(description="Restore the selected annotations")
    def restore(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._restore_each(
            request,
            queryset.select_related("project", "document"),
            lambda a: lifecycle.annotation_restore(
                project=a.project,
                document=a.document,
                annotation_id=a.pk,
                actor_id=request.user.pk,
            ),
        )


@admin.register(models.Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["client_id", "annotation", "start", "end", "label"]
    list_select_related = ["annotation__document", "annotation__annotator", "label"]
    raw_id_fields = ["annotation", "label"]


@admin.register(models.Relation)
class RelationAdmin(admin.ModelAdmin):
    list_display = ["client_id", "annotation", "source", "target", "type"]
    list_select_related = [
        "annotation__document",
        "annotation__annotator",
        "source",
        "target",
        "type",
    ]
    raw_id_fields = ["annotation", "source", "target"]


@admin.register(models.Stance)
class StanceAdmin(admin.ModelAdmin):
    list_display = ["annotation", "target", "value"]
    list_select_related = ["annotation__document", "annotation__annotator", "target"]
    raw_id_fields = ["annotation"]


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "prefix", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]
    list_select_related = ["user"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: viewable, never editable."""

    list_display = [
        "created_at",
        "actor",
        "action",
        "project",
        "document",
        "object_type",
        "object_id",
    ]
    list_filter = ["action"]
    list_select_related = ["actor", "project", "document"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(models.Export)
class ExportAdmin(admin.ModelAdmin):
    """Read-only: the row is the export's truth, written by the service and its worker only
    (deleting here would leave the file behind: delete from the Exports page or the API)."""

    list_display = ["pk", "project", "format", "status", "requested_by", "created_at", "size"]
    list_filter = ["status", "format"]
    list_select_related = ["project", "requested_by"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
