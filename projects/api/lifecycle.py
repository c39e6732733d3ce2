"""Deleting and restoring (leads only), and a document's audit history (leads and reviewers).

Deletions are soft: ``DELETE`` hides a document, an annotation or a project from every read and
keeps it, restorable. A document with annotations, and any project, is deleted only with
``confirm`` repeating its external id (or slug): a script that loops over the wrong ids is
stopped with 409 ``confirmation_required``, naming what it would have hidden.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors, selectors_lifecycle
from projects.domain.problems import Problem
from projects.models import Annotation, Document
from projects.permissions import LEADS, REVIEWERS
from projects.services import lifecycle
from projects.services.errors import ValidationFailed

from . import serializers as s
from .base import ProjectView
from .pagination import PagePagination

# --- shapes (documented in the OpenAPI schema) ---------------------------------------------


class DocumentDeletedOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    deleted_at = serializers.DateTimeField()
    annotations = serializers.IntegerField(help_text="Annotations hidden with it.")


class DeletedDocumentOut(s.DocumentOut):
    deleted_at = serializers.DateTimeField()
    deleted_by = serializers.CharField(allow_null=True)
    annotations = serializers.IntegerField(help_text="Annotations a restore brings back.")


class DocumentRestoredOut(s.DocumentOut):
    annotations_restored = serializers.IntegerField()


class AnnotationStateOut(serializers.Serializer):
    id = serializers.IntegerField()
    document = serializers.IntegerField()
    annotator = serializers.CharField(allow_null=True)
    gold = serializers.BooleanField()
    status = serializers.CharField()
    version = serializers.IntegerField()
    deleted_at = serializers.DateTimeField(allow_null=True)


class DeletedAnnotationOut(AnnotationStateOut):
    document_external_id = serializers.CharField()
    deleted_by = serializers.CharField(allow_null=True)
    spans = serializers.IntegerField()


class ProjectDeletedOut(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    deleted_at = serializers.DateTimeField()


class HistoryEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True, help_text="Username; null for the system.")
    action = serializers.CharField(help_text="e.g. span.create, annotation.delete.")
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    summary = serializers.CharField(help_text='A sentence, e.g. "span Claim [171, 297) created".')
    data = serializers.DictField(help_text="What the event recorded, with its request_id.")


CONFIRM = OpenApiParameter(
    "confirm",
    str,
    description="Repeat the document's external id (a project's slug) to confirm. Also "
    'accepted in a JSON body: {"confirm": "..."}.',
)
CONFIRMATION_REFUSED = {
    400: OpenApiResponse(description="confirm was given but names something else."),
    409: OpenApiResponse(
        description="confirmation_required: it holds annotations; repeat its id in confirm."
    ),
}


def confirm_of(request: Request) -> str | None:
    """``confirm`` from the JSON body or the query string."""
    value: Any = None
    if isinstance(request.data, dict):
        value = request.data.get("confirm")
    if value is None:
        value = request.query_params.get("confirm")
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(
            "confirm must be a string.", problems=[Problem("not a string", field="confirm")]
        )
    return value


def _filter_param(request: Request, name: str, limit: int) -> str | None:
    """A text filter: short and without NUL (PostgreSQL refuses it in a query: a 400 here
    rather than a 500 there)."""
    value = request.query_params.get(name) or None
    if value is not None and (len(value) > limit or "\x00" in value):
        raise ValidationFailed(
            f"{name} must be at most {limit} characters, without NUL.",
            problems=[Problem("invalid", field=name)],
        )
    return value


def annotation_state(annotation: Annotation, annotator: str | None) -> dict[str, Any]:
    return {
        "id": annotation.pk,
        "document": annotation.document_id,
        "annotator": annotator,
        "gold": annotation.annotator_id is None,
        "status": annotation.status,
        "version": annotation.version,
        "deleted_at": annotation.deleted_at,
    }


# --- documents ----------------------------------------------------------------------------


def document_delete(view: ProjectView, request: Request, document_id: int) -> Response:
    """``DELETE .../documents/{d}/`` (wired into ``DocumentDetailView``)."""
    document = selectors.document_get(view.access, document_id)
    done = lifecycle.document_delete(
        project=view.access.project,
        document=document,
        actor_id=request.user.pk,
        confirm=confirm_of(request),
    )
    return Response(
        {
            "id": done.document.pk,
            "external_id": done.document.external_id,
            "deleted_at": done.document.deleted_at,
            "annotations": done.annotations,
        }
    )


class DocumentRestoreView(ProjectView):
    roles = {"POST": LEADS}

    @extend_schema(
        request=None,
        responses={200: DocumentRestoredOut, 409: OpenApiResponse(description="Id taken.")},
        tags=["documents"],
        description="Bring a deleted document back with the annotations deleted with it. "
        "A document that is not deleted is answered as it is (a retry is harmless).",
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        from .documents import document_payload  # documents.py imports this module

        done = lifecycle.document_restore(
            project=self.access.project, document_id=document_id, actor_id=request.user.pk
        )
        return Response(
            document_payload(done.document) | {"annotations_restored": done.annotations}
        )


class DeletedDocumentListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": LEADS}

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=DeletedDocumentOut(many=True),
        tags=["documents"],
        description="The project's deleted documents, most recently deleted first.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        from .documents import document_payload  # documents.py imports this module

        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors_lifecycle.deleted_documents(self.access.project), request, view=self
        )
        return paginator.get_paginated_response(
            [
                document_payload(d)
                | {
                    "deleted_at": d.deleted_at,
                    "deleted_by": d.deleted_by.get_username() if d.deleted_by else None,
                    "annotations": d.annotation_count,
                }
                for d in page
            ]
        )


# --- annotations ----------------------------------------------------------------------------


def annotation_delete(
    view: ProjectView, request: Request, document: Document, annotation_id: int
) -> Response:
    """``DELETE .../documents/{d}/annotations/{a}/`` (wired into ``AnnotationDetailView``)."""
    annotation = lifecycle.annotation_delete(
        project=view.access.project,
        document=document,
        annotation_id=annotation_id,
        actor_id=request.user.pk,
    )
    name = annotation.annotator.get_username() if annotation.annotator else None
    return Response(annotation_state(annotation, name))


class AnnotationRestoreView(ProjectView):
    roles = {"POST": LEADS}

    @extend_schema(
        request=None,
        responses={
            200: AnnotationStateOut,
            409: OpenApiResponse(description="A newer annotation of the same annotator exists."),
        },
        tags=["annotations"],
        description="Bring back an annotation deleted on its own (not with its document: "
        "restore the document for those). An annotation that is not deleted is answered as "
        "it is.",
    )
    def post(
        self, request: Request, project_id: str, document_id: int, annotation_id: int
    ) -> Response:
        document = selectors.document_get(self.access, document_id)
        annotation = lifecycle.annotation_restore(
            project=self.access.project,
            document=document,
            annotation_id=annotation_id,
            actor_id=request.user.pk,
        )
        name = annotation.annotator.get_username() if annotation.annotator else None
        return Response(annotation_state(annotation, name))


class DeletedAnnotationListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": LEADS}

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=DeletedAnnotationOut(many=True),
        tags=["annotations"],
        description="Annotations deleted on their own (their documents are live), most "
        "recently deleted first. Those deleted with a document come back with it.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors_lifecycle.deleted_annotations(self.access.project), request, view=self
        )
        return paginator.get_paginated_response(
            [
                annotation_state(a, a.annotator.get_username() if a.annotator else None)
                | {
                    "document_external_id": a.document.external_id,
                    "deleted_by": a.deleted_by.get_username() if a.deleted_by else None,
                    "spans": a.span_count,
                }
                for a in page
            ]
        )


# --- projects -------------------------------------------------------------------------------


def project_delete(view: ProjectView, request: Request) -> Response:
    """``DELETE /projects/{p}/`` (wired into ``ProjectDetailView``)."""
    project = lifecycle.project_delete(
        project=view.access.project, actor_id=request.user.pk, confirm=confirm_of(request)
    )
    return Response({"id": project.pk, "slug": project.slug, "deleted_at": project.deleted_at})


# --- history --------------------------------------------------------------------------------


class DocumentHistoryView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": REVIEWERS}

    @extend_schema(
        parameters=[
            OpenApiParameter("actor", str, description="Only events by this username."),
            OpenApiParameter(
                "action", str, description="An action (span.create) or a family (span)."
            ),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=HistoryEventOut(many=True),
        tags=["documents"],
        description="Who changed what in this document, newest first: every span, relation "
        "and stance change, submission, assignment, adjudication decision, deletion and "
        "restore. Leads also read the history of a deleted document.",
    )
    def get(self, request: Request, project_id: str, document_id: int) -> Response:
        try:
            document = (
                selectors_lifecycle.document_any(self.access, document_id)
                if self.access.is_lead
                else selectors.document_get(self.access, document_id)
            )
        except Document.DoesNotExist:
            raise NotFound("No such document in this project.") from None
        events = selectors_lifecycle.document_history(
            document,
            actor=_filter_param(request, "actor", 150),
            action=_filter_param(request, "action", 64),
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(
            selectors_lifecycle.history_rows(self.access.project.pk, page)
        )
