"""Documents, import, assignments and the caller's queue."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors
from projects.domain.problems import Problem
from projects.ids import as_id
from projects.models import Assignment, Document
from projects.permissions import LEADS, READERS, REVIEWERS
from projects.services import documents as document_services
from projects.services.errors import ValidationFailed

from . import lifecycle
from . import serializers as s
from .base import ProjectView
from .pagination import PagePagination


def document_payload(doc: Document, *, with_text: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": doc.pk,
        "external_id": doc.external_id,
        "title": doc.title,
        "length": doc.length,
        "sha256": doc.sha256,
        "meta": doc.meta,
        "created_at": doc.created_at,
    }
    if hasattr(doc, "assigned_count"):
        data["assigned"] = doc.assigned_count
        data["submitted"] = doc.submitted_count
    if with_text:
        data["text"] = doc.text
    return data


def _annotator_param(request: Request) -> int | None:
    """``?annotator=<user id>``; anything that cannot be a user id is a 400, not a 500."""
    raw = request.query_params.get("annotator")
    if not raw:
        return None
    annotator = as_id(raw)
    if annotator is None:
        raise ValidationFailed(
            f"annotator must be a user id (a whole number), not {raw[:40]!r}.",
            problems=[Problem("not a user id", field="annotator")],
        )
    return annotator


class DocumentListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": READERS}

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Assignment status filter."),
            OpenApiParameter("annotator", int, description="Assigned to this user id."),
            OpenApiParameter("q", str, description="Search in title and id."),
            OpenApiParameter(
                "label",
                str,
                description="Has a span with this label "
                "(among the annotations the caller may see).",
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.DocumentOut(many=True),
        tags=["documents"],
    )
    def get(self, request: Request, project_id: str) -> Response:
        qs = selectors.document_list(
            self.access,
            status=request.query_params.get("status") or None,
            annotator=_annotator_param(request),
            search=request.query_params.get("q") or None,
            label=request.query_params.get("label") or None,
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([document_payload(d) for d in page])


class DocumentImportView(ProjectView):
    roles = {"POST": LEADS}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": s.ImportIn},
        responses={201: s.ImportOut},
        tags=["documents"],
        description="One file, one transaction: every document is imported, or none "
        "(the error lists every problem with its file, line and field).",
    )
    def post(self, request: Request, project_id: str) -> Response:
        data = s.ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        from django.conf import settings

        if upload.size > settings.IMPORT_MAX_FILE_BYTES:
            raise ValidationFailed(
                f"{upload.name} is {upload.size} bytes; the limit is "
                f"{settings.IMPORT_MAX_FILE_BYTES} bytes (IMPORT_MAX_FILE_BYTES).",
                code="too_large",
            )
        options = data.validated_data
        result = document_services.documents_import(
            project=self.access.project,
            filename=upload.name,
            data=upload.read(),
            actor_id=request.user.pk,
            on_duplicate=options["on_duplicate"],
            format=options["format"],
            annotator=options.get("annotator") or None,
            annotator_map=document_services.annotator_map_from_text(
                options.get("annotator_map", "")
            ),
        )
        return Response(
            {
                "created": result.created,
                "skipped": result.skipped,
                "annotations": result.annotations,
                "spans": result.spans,
                "notes": [note.as_dict() for note in result.notes],
            },
            status=status.HTTP_201_CREATED,
        )


class DocumentDetailView(ProjectView):
    roles = {"GET": READERS, "DELETE": LEADS}

    @extend_schema(responses=s.DocumentDetailOut, tags=["documents"])
    def get(self, request: Request, project_id: str, document_id: int) -> Response:
        return Response(
            document_payload(selectors.document_get(self.access, document_id), with_text=True)
        )

    @extend_schema(
        parameters=[lifecycle.CONFIRM],
        responses={200: lifecycle.DocumentDeletedOut, **lifecycle.CONFIRMATION_REFUSED},
        tags=["documents"],
        description="Soft-delete the document with its annotations: hidden from every read, "
        "kept, restorable (POST .../restore/). With annotations it needs confirm=<external id>.",
    )
    def delete(self, request: Request, project_id: str, document_id: int) -> Response:
        return lifecycle.document_delete(self, request, document_id)


def assignment_payload(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "document": a.document_id,
        "document_title": a.document.title,
        "external_id": a.document.external_id,
        "annotator": a.annotator.username,
        "status": a.status,
        "skip_reason": a.skip_reason,
        "updated_at": a.updated_at,
    }


class AssignmentListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": REVIEWERS, "POST": LEADS}

    @extend_schema(
        parameters=[
            OpenApiParameter("annotator", int),
            OpenApiParameter("status", str),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=s.AssignmentOut(many=True),
        tags=["assignments"],
    )
    def get(self, request: Request, project_id: str) -> Response:
        qs = selectors.assignments_list(
            self.access.project,
            status=request.query_params.get("status") or None,
            annotator=_annotator_param(request),
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([assignment_payload(a) for a in page])

    @extend_schema(request=s.AssignmentIn, responses={201: s.AssignmentOut}, tags=["assignments"])
    def post(self, request: Request, project_id: str) -> Response:
        data = s.AssignmentIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_user_model().objects.filter(username=data.validated_data["annotator"]).first()
        if user is None:
            raise ValidationFailed(f"No user named '{data.validated_data['annotator']}'.")
        a = document_services.assignment_create(
            project=self.access.project,
            document_id=data.validated_data["document"],
            annotator_id=user.pk,
            actor_id=request.user.pk,
        )
        a = Assignment.objects.select_related("document", "annotator").get(pk=a.pk)
        return Response(assignment_payload(a), status=status.HTTP_201_CREATED)


class AssignmentDetailView(ProjectView):
    roles = {"DELETE": LEADS}

    @extend_schema(responses={204: None}, tags=["assignments"])
    def delete(self, request: Request, project_id: str, assignment_id: int) -> Response:
        a = Assignment.objects.select_related("project").get(
            project=self.access.project, pk=assignment_id
        )
        document_services.assignment_delete(assignment=a, actor_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AutoAssignView(ProjectView):
    roles = {"POST": LEADS}

    @extend_schema(
        request=s.AutoAssignIn,
        responses={200: dict},
        tags=["assignments"],
        description="Give every document k annotators, balancing loads.",
    )
    def post(self, request: Request, project_id: str) -> Response:
        data = s.AutoAssignIn(data=request.data)
        data.is_valid(raise_exception=True)
        r = document_services.assignments_auto(
            project=self.access.project, actor_id=request.user.pk, k=data.validated_data.get("k")
        )
        return Response(
            {"created": r.created, "short_documents": r.short_documents, "annotators": r.annotators}
        )


class QueueView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=s.AssignmentOut(many=True),
        tags=["assignments"],
        description="The caller's assigned documents in a stable order, with progress counts.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        qs = selectors.queue_of(self.access).select_related("annotator")
        counts = {"total": 0, "submitted": 0, "skipped": 0}
        for row in qs.values_list("status", flat=True).order_by():
            counts["total"] += 1
            if row in counts:
                counts[row] += 1
        paginator = PagePagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        response = paginator.get_paginated_response([assignment_payload(a) for a in page])
        response.data["progress"] = counts
        next_open = qs.filter(status__in=["assigned", "in_progress"]).first()
        response.data["next_document"] = next_open.document_id if next_open else None
        return response


class ProgressView(ProjectView):
    roles = {"GET": REVIEWERS}

    @extend_schema(responses={200: dict}, tags=["assignments"])
    def get(self, request: Request, project_id: str) -> Response:
        return Response({"annotators": selectors.progress_by_annotator(self.access.project)})
