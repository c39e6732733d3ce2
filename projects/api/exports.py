"""Exports for ML teams: request one, poll it, download the file and its manifest, delete it.

A build runs in a worker; the API only writes and reads the Export row. Downloads check the
row through the project's URL (never a Celery task id), so an export of project A is not found
under project B, whoever asks.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors_exports
from projects.domain.exports.records import ANNOTATION_CHOICES, FORMATS
from projects.models import Export, ExportStatus
from projects.services import exports as export_services
from projects.services.errors import Conflict, ValidationFailed

from .base import ProjectView
from .pagination import PagePagination

EXPORTERS = export_services.EXPORTERS

CONTENT_TYPES = {
    ".jsonl": "application/jsonl",
    ".csv": "text/csv; charset=utf-8",
    ".conll": "text/plain; charset=utf-8",
    ".zip": "application/zip",
    ".spacy": "application/octet-stream",
}


# --- shapes (documented in the OpenAPI schema) ---------------------------------------------


class ExportOptionsIn(serializers.Serializer):
    """Documents the request body; the options are validated by the export domain
    (``projects.domain.exports.select.validate_options``), which names each bad field."""

    format = serializers.ChoiceField(choices=list(FORMATS))
    annotations = serializers.ChoiceField(
        choices=list(ANNOTATION_CHOICES),
        default="all",
        help_text="gold: the adjudicated annotation only; all: every annotator's (and the gold); "
        "merged: one majority vote of the annotators.",
    )
    include_unfinished = serializers.BooleanField(
        default=False, help_text="Also work not submitted yet (default: submitted only)."
    )
    splits = serializers.JSONField(
        required=False,
        help_text='Split ratios summing to 1, e.g. {"train": 0.8, "validation": 0.1, "test": 0.1} '
        'or [["train", 0.8], ...]. A document\'s split depends only on its id and the seed.',
    )
    seed = serializers.IntegerField(default=0)
    relations = serializers.BooleanField(default=True)
    stances = serializers.BooleanField(default=True)


class ExportProgressOut(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()


class ExportUrlsOut(serializers.Serializer):
    self = serializers.CharField()
    download = serializers.CharField(allow_null=True, help_text="Null until done.")
    manifest = serializers.CharField(allow_null=True, help_text="Null until done.")


class ExportOut(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ExportStatus.choices)
    format = serializers.ChoiceField(choices=list(FORMATS))
    options = serializers.DictField()
    progress = ExportProgressOut()
    counts = serializers.DictField(
        help_text="documents, annotations, spans, relations, stances, and the same per split."
    )
    sha256 = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField(allow_null=True, help_text="Bytes of the main file.")
    file_name = serializers.CharField()
    error = serializers.CharField(allow_blank=True)
    attempts = serializers.IntegerField()
    requested_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    urls = ExportUrlsOut()


def export_payload(export: Export) -> dict[str, Any]:
    kwargs = {"project_id": export.project_id, "export_id": export.pk}
    done = export.status == ExportStatus.DONE
    return {
        "id": export.pk,
        "project": export.project_id,
        "status": export.status,
        "format": export.format,
        "options": export.options,
        "progress": {
            "done": export.progress_done,
            "total": export.progress_total,
            "percent": export.percent,
        },
        "counts": export.counts,
        "sha256": export.sha256,
        "size": export.size,
        "file_name": export.download_name,
        "error": export.error,
        "attempts": export.attempts,
        "requested_by": export.requested_by.get_username() if export.requested_by else None,
        "created_at": export.created_at,
        "started_at": export.started_at,
        "finished_at": export.finished_at,
        "urls": {
            "self": reverse("api:export", kwargs=kwargs),
            "download": reverse("api:export-download", kwargs=kwargs) if done else None,
            "manifest": reverse("api:export-manifest", kwargs=kwargs) if done else None,
        },
    }


# --- views ------------------------------------------------------------------------------------


class ExportListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": EXPORTERS, "POST": EXPORTERS}

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=ExportOut(many=True),
        tags=["exports"],
        description="The project's exports, newest first.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        export_services.export_reap(project=self.access.project)
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors_exports.exports_of(self.access.project), request, view=self
        )
        return paginator.get_paginated_response([export_payload(e) for e in page])

    @extend_schema(
        request=ExportOptionsIn,
        responses={
            202: ExportOut,
            400: OpenApiResponse(description="Bad options; each problem names its field."),
            503: OpenApiResponse(
                description="The task queue cannot be reached; the export is marked failed."
            ),
        },
        tags=["exports"],
        description="Request an export. A worker builds it: poll the export (its `status` goes "
        "pending → running → done or failed, with `progress`), then download it from "
        "`urls.download`. The same data and options give a byte-identical file (compare "
        "`sha256`).",
    )
    def post(self, request: Request, project_id: str) -> Response:
        if not isinstance(request.data, dict):
            raise ValidationFailed("Send the options as a JSON object.")
        export = export_services.export_create(
            project=self.access.project, actor_id=request.user.pk, options=request.data
        )
        export = selectors_exports.export_get(self.access.project, export.pk)
        payload = export_payload(export)
        return Response(
            payload, status=status.HTTP_202_ACCEPTED, headers={"Location": payload["urls"]["self"]}
        )


class ExportScopedView(ProjectView):
    """Resolves the export within the URL's project: another project's export id is 404."""

    export: Export

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.export = selectors_exports.export_get(self.access.project, kwargs["export_id"])

    def finished(self) -> Export:
        if self.export.status != ExportStatus.DONE:
            raise Conflict(
                f"Export {self.export.pk} is {self.export.status}, not done: there is no file "
                "yet." + (f" {self.export.error}" if self.export.error else ""),
                code="not_ready",
                extra={"status": self.export.status},
            )
        return self.export


class ExportDetailView(ExportScopedView):
    roles = {"GET": EXPORTERS, "DELETE": EXPORTERS}

    @extend_schema(responses=ExportOut, tags=["exports"], description="Status and progress.")
    def get(self, request: Request, project_id: str, export_id: int) -> Response:
        if export_services.export_reap(project=self.access.project):
            self.export = selectors_exports.export_get(self.access.project, export_id)
        return Response(export_payload(self.export))

    @extend_schema(
        responses={204: None},
        tags=["exports"],
        description="Delete the export and its file. Leads delete any export; reviewers and "
        "consumers the ones they requested.",
    )
    def delete(self, request: Request, project_id: str, export_id: int) -> Response:
        export_services.export_delete(
            export=self.export, actor_id=request.user.pk, actor_role=self.access.role
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportDownloadView(ExportScopedView):
    roles = {"GET": EXPORTERS}

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                description="The file, as an attachment named <project slug>-<id>.<ext>; the "
                "X-Export-SHA256 header carries its sha256 (hex)."
            ),
            409: OpenApiResponse(description="Not done yet (or failed)."),
        },
        tags=["exports"],
        description="Download the export's file (409 until it is done).",
    )
    def get(self, request: Request, project_id: str, export_id: int) -> HttpResponse:
        export = self.finished()
        response = FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.download_name,
            content_type=CONTENT_TYPES.get(export.extension, "application/octet-stream"),
        )
        response["X-Export-SHA256"] = export.sha256
        response["Content-Length"] = str(export.size)
        return response


class ExportManifestView(ExportScopedView):
    roles = {"GET": EXPORTERS}

    @extend_schema(
        responses={200: dict, 409: OpenApiResponse(description="Not done yet (or failed).")},
        tags=["exports"],
        description="The export's manifest.json, byte for byte as written (project, scheme "
        "version, options, counts, tool version, sha256 of each file).",
    )
    def get(self, request: Request, project_id: str, export_id: int) -> HttpResponse:
        export = self.finished()
        response = HttpResponse(
            export.manifest.encode("utf-8"), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'inline; filename="{export.project.slug}-{export.pk}.manifest.json"'
        )
        return response
