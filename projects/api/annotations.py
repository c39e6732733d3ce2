"""The caller's annotation of a document, and the annotations they may see.

Writes carry ``version`` (409 when stale) and creates carry ``client_id`` (a retry is a no-op
that answers 200 with what the first request made)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors
from projects.models import Document, Role
from projects.permissions import ANNOTATORS, LEADS, READERS
from projects.services import annotations as annotation_services
from projects.services.annotations import Change
from projects.services.errors import ServiceError

from . import lifecycle
from . import serializers as s
from .base import ProjectView, version_of
from .documents import document_payload


class DocumentScopedView(ProjectView):
    document: Document
    # Endpoints that never read the document's text leave it in the database (it can be
    # large); one that does read it anyway gets it loaded on first use.
    needs_text = True

    def resolve(self, request: Request, allow: frozenset[Role], kwargs: dict[str, Any]) -> None:
        self.access, self.document = selectors.document_access(
            request.user,
            kwargs["project_id"],
            kwargs["document_id"],
            allow=allow,
            with_text=self.needs_text,
        )

    def conflict_extra(self, exc: ServiceError) -> dict[str, Any]:
        """A 409 carries the current state, so the client can show what changed."""
        if "annotation_id" not in exc.extra:
            return {}
        annotation_id = exc.extra["annotation_id"]
        return {
            "current": selectors.annotation_fresh(
                None if annotation_id is None else int(annotation_id),
                self.document,
                self.request.user.get_username(),
            )
        }

    def changed(self, change: Change, **payload: Any) -> Response:
        a = change.annotation
        body = {"annotation": a.pk, "version": a.version, "status": a.status, **payload}
        return Response(
            body,
            status=status.HTTP_201_CREATED
            if change.created and self.request.method == "POST"
            else status.HTTP_200_OK,
        )


class AnnotationListView(DocumentScopedView):
    roles = {"GET": READERS}

    @extend_schema(
        responses=s.AnnotationOut(many=True),
        tags=["annotations"],
        description="Every annotation of the document the caller may see: in blind "
        "mode an annotator sees only their own.",
    )
    def get(self, request: Request, project_id: str, document_id: int) -> Response:
        return Response(selectors.visible_annotation_payloads(self.access, self.document))


class AnnotationDetailView(DocumentScopedView):
    roles = {"GET": READERS, "DELETE": LEADS}

    @extend_schema(responses=s.AnnotationOut, tags=["annotations"])
    def get(
        self, request: Request, project_id: str, document_id: int, annotation_id: int
    ) -> Response:
        found = selectors.visible_annotation_payloads(self.access, self.document, annotation_id)
        if not found:
            raise NotFound("No such annotation, or not one you may see.")
        return Response(found[0])

    @extend_schema(
        request=None,
        responses=lifecycle.AnnotationStateOut,
        tags=["annotations"],
        description="Soft-delete one annotation (a lead resetting an annotator's work): "
        "hidden from every read, kept, restorable (POST .../restore/). The annotator's "
        "assignment goes back to assigned.",
    )
    def delete(
        self, request: Request, project_id: str, document_id: int, annotation_id: int
    ) -> Response:
        return lifecycle.annotation_delete(self, request, self.document, annotation_id)


class MyAnnotationView(DocumentScopedView):
    roles = {"GET": ANNOTATORS}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "include",
                str,
                enum=["document"],
                description="`document` adds the document and its text.",
            )
        ],
        responses=s.AnnotationOut,
        tags=["annotations"],
    )
    def get(self, request: Request, project_id: str, document_id: int) -> Response:
        data = selectors.own_annotation_payload(
            self.access, self.document, annotator=request.user.get_username()
        )
        if request.query_params.get("include") == "document":
            data["document_detail"] = document_payload(self.document, with_text=True)
        return Response(data)


class SpanListView(DocumentScopedView):
    roles = {"POST": ANNOTATORS}

    @extend_schema(
        request=s.SpanIn, responses={201: s.ChangeOut, 200: s.ChangeOut}, tags=["annotations"]
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        v = s.span_in_fast(request.data)
        if v is None:
            data = s.SpanIn(data=request.data)
            data.is_valid(raise_exception=True)
            v = data.validated_data
        change = annotation_services.span_create(
            access=self.access,
            document=self.document,
            start=v["start"],
            end=v["end"],
            label=v["label"],
            attributes=v.get("attributes"),
            client_id=v.get("client_id"),
            version=v.get("version"),
        )
        return self.changed(change, span=selectors.span_payload(change.obj, self.document.text))


class SpanDetailView(DocumentScopedView):
    roles = {"PATCH": ANNOTATORS, "DELETE": ANNOTATORS}

    @extend_schema(request=s.SpanPatchIn, responses=s.ChangeOut, tags=["annotations"])
    def patch(self, request: Request, project_id: str, document_id: int, span_id: str) -> Response:
        data = s.SpanPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        version = v.pop("version", None)
        change = annotation_services.span_update(
            access=self.access, document=self.document, span_id=span_id, version=version, **v
        )
        return self.changed(change, span=selectors.span_payload(change.obj, self.document.text))

    @extend_schema(
        parameters=[OpenApiParameter("version", int)], responses=s.ChangeOut, tags=["annotations"]
    )
    def delete(self, request: Request, project_id: str, document_id: int, span_id: str) -> Response:
        change = annotation_services.span_delete(
            access=self.access, document=self.document, span_id=span_id, version=version_of(request)
        )
        return self.changed(change)


class RelationListView(DocumentScopedView):
    needs_text = False
    roles = {"POST": ANNOTATORS}

    @extend_schema(
        request=s.RelationIn, responses={201: s.ChangeOut, 200: s.ChangeOut}, tags=["annotations"]
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        data = s.RelationIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        change = annotation_services.relation_create(
            access=self.access,
            document=self.document,
            source=v["source"],
            target=v["target"],
            type=v["type"],
            client_id=v.get("client_id"),
            version=v.get("version"),
        )
        return self.changed(change, relation=selectors.relation_payload(change.obj))


class RelationDetailView(DocumentScopedView):
    needs_text = False
    roles = {"DELETE": ANNOTATORS}

    @extend_schema(
        parameters=[OpenApiParameter("version", int)], responses=s.ChangeOut, tags=["annotations"]
    )
    def delete(
        self, request: Request, project_id: str, document_id: int, relation_id: str
    ) -> Response:
        change = annotation_services.relation_delete(
            access=self.access,
            document=self.document,
            relation_id=relation_id,
            version=version_of(request),
        )
        return self.changed(change)


class StanceView(DocumentScopedView):
    needs_text = False
    roles = {"PUT": ANNOTATORS, "DELETE": ANNOTATORS}

    @extend_schema(request=s.StanceIn, responses=s.ChangeOut, tags=["annotations"])
    def put(self, request: Request, project_id: str, document_id: int, target_id: int) -> Response:
        data = s.StanceIn(data=request.data)
        data.is_valid(raise_exception=True)
        change = annotation_services.stance_set(
            access=self.access,
            document=self.document,
            target_id=target_id,
            value=data.validated_data["value"],
            version=data.validated_data.get("version"),
        )
        return self.changed(change, stance=selectors.stance_payload(change.obj))

    @extend_schema(
        parameters=[OpenApiParameter("version", int)], responses=s.ChangeOut, tags=["annotations"]
    )
    def delete(
        self, request: Request, project_id: str, document_id: int, target_id: int
    ) -> Response:
        change = annotation_services.stance_delete(
            access=self.access,
            document=self.document,
            target_id=target_id,
            version=version_of(request),
        )
        return self.changed(change)


class SubmitView(DocumentScopedView):
    needs_text = False
    roles = {"POST": ANNOTATORS}

    @extend_schema(request=s.VersionIn, responses=s.ChangeOut, tags=["annotations"])
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        change = annotation_services.annotation_submit(
            access=self.access, document=self.document, version=version_of(request)
        )
        return Response(
            {
                "annotation": change.annotation.pk,
                "version": change.annotation.version,
                "status": change.annotation.status,
            }
        )


class SkipView(DocumentScopedView):
    needs_text = False
    roles = {"POST": ANNOTATORS}

    @extend_schema(request=s.SkipIn, responses=s.ChangeOut, tags=["annotations"])
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        data = s.SkipIn(data=request.data)
        data.is_valid(raise_exception=True)
        change = annotation_services.annotation_skip(
            access=self.access,
            document=self.document,
            reason=data.validated_data["reason"],
            version=data.validated_data.get("version"),
        )
        return Response(
            {
                "annotation": change.annotation.pk,
                "version": change.annotation.version,
                "status": change.annotation.status,
            }
        )
