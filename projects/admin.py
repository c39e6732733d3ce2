"""The Django admin for every model. Document text is read-only here as everywhere: offsets
recorded against it must stay valid."""

from django.contrib import admin

from . import models


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
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "annotators_per_document",
        "blind",
        "scheme_version",
        "created_at",
    ]
    search_fields = ["name", "slug"]
    readonly_fields = ["scheme", "scheme_version", "created_at", "created_by"]
    inlines = [MembershipInline, LabelInline]


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
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["external_id", "title", "project", "length", "created_at"]
    list_filter = ["project"]
    search_fields = ["external_id", "title"]
    list_select_related = ["project"]
    readonly_fields = ["project", "external_id", "text", "length", "sha256", "created_at"]


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
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["document", "annotator", "kind", "status", "version", "updated_at"]
    list_filter = ["kind", "status", "project"]
    list_select_related = ["document", "annotator"]
    raw_id_fields = ["document"]
    readonly_fields = ["version"]
    inlines = [SpanInline]


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
