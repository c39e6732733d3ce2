"""Review: agreement figures (AGREEMENT.md) as JSON."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from projects import selectors
from projects.models import Annotation, Span
from projects.permissions import REVIEWERS
from projects.services import review as review_services
from projects.services.errors import ValidationFailed

from .annotations import DocumentScopedView
from .base import ProjectView
from .pagination import PagePagination


def _listed(request: Request, name: str) -> tuple[str, ...]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values += [v.strip() for v in raw.split(",") if v.strip()]
    return tuple(values)


def _moment(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    moment = selectors.parse_moment(raw)
    if moment is None:
        raise ValidationFailed(f"{name} must be a date (2026-11-27) or an ISO date-time.")
    return moment


class AgreementView(ProjectView):
    roles = {"GET": REVIEWERS}

    @extend_schema(
        parameters=[
            OpenApiParameter("label", str, description="Only these labels (comma-separated)."),
            OpenApiParameter("annotator", str, description="Only these annotators (usernames)."),
            OpenApiParameter("from", str, description="Submitted on or after (date/date-time)."),
            OpenApiParameter("until", str, description="Submitted before (date/date-time)."),
        ],
        responses={200: dict},
        tags=["review"],
        description="Inter-annotator agreement over submitted annotations: span F1 (exact and "
        "overlap, labelled and unlabelled, per label), unitizing alpha, relation F1 (exact and "
        "aligned), label confusion, span attributes and document stance (Cohen, Fleiss, "
        "Krippendorff). Every figure is {value, n, reason}: value is null with a reason where "
        "the measure is undefined. Cached until an annotation changes. For projects with more "
        "than AGREEMENT_SYNC_MAX_ANNOTATIONS submitted annotations a worker computes it: the "
        "answer is then 202 {status: computing, progress: {done, total}} until it is ready.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        filters = selectors.AgreementFilters(
            labels=_listed(request, "label"),
            annotators=_listed(request, "annotator"),
            submitted_from=_moment(request, "from"),
            submitted_until=_moment(request, "until"),
        )
        answer = review_services.agreement_get(project=self.access.project, filters=filters)
        if answer.computing:
            return Response(
                {"status": "computing", "progress": answer.progress},
                status=202,
                headers={"Retry-After": "3"},
            )
        report = answer.report
        return Response(
            {
                "status": "done",
                "by_week": selectors.agreement_by_week(self.access.project, report, filters),
                "filters": {
                    "label": list(filters.labels),
                    "annotator": list(filters.annotators),
                    "from": filters.submitted_from,
                    "until": filters.submitted_until,
                },
                "report": report,
            }
        )


# --- adjudication -------------------------------------------------------------------------


class GoldMergeIn(serializers.Serializer):
    policy = serializers.ChoiceField(choices=["majority", "unanimous"], default="majority")


class GoldEditIn(serializers.Serializer):
    """The candidate as corrected before it is accepted; what is left out stays as proposed."""

    start = serializers.IntegerField(required=False, min_value=0)
    end = serializers.IntegerField(required=False, min_value=1)
    label = serializers.CharField(required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )


class GoldDecideIn(serializers.Serializer):
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=1)
    label = serializers.CharField()
    decision = serializers.ChoiceField(choices=["accept", "reject"])
    version = serializers.IntegerField(required=False, min_value=0)
    edit = GoldEditIn(required=False)


class GoldUndoIn(serializers.Serializer):
    """Without a candidate, the last decision is undone."""

    start = serializers.IntegerField(required=False, min_value=0)
    end = serializers.IntegerField(required=False, min_value=1)
    label = serializers.CharField(required=False)
    version = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("start", "end", "label") if name in attrs]
        if given and len(given) != 3:
            raise serializers.ValidationError(
                "Name a candidate with start, end and label together, or none of them to "
                "undo the last decision."
            )
        return attrs


class AdjudicationQueueView(ProjectView):
    roles = {"GET": REVIEWERS}

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: dict},
        tags=["review"],
        description="Documents submitted by two or more annotators whose agreement (share of "
        "spans in unanimous candidates) is below the project's adjudication_threshold, or whose "
        "gold has begun; most disagreement first, documents with a submitted gold last; with "
        "progress counts.",
    )
    def get(self, request: Request, project_id: str) -> Response:
        queue = selectors.adjudication_queue(self.access.project)
        paginator = PagePagination()
        page = paginator.paginate_queryset(queue["documents"], request, view=self)
        response = paginator.get_paginated_response(page)
        response.data["threshold"] = queue["threshold"]
        response.data["progress"] = queue["counts"]
        return response


class GoldView(DocumentScopedView):
    roles = {"GET": REVIEWERS}

    @extend_schema(
        responses={200: dict},
        tags=["review"],
        description="The document's gold annotation (null before the merge) and the "
        "span candidates still open, each with who proposed it.",
    )
    def get(self, request: Request, project_id: str, document_id: int) -> Response:
        gold = selectors.gold_of(self.document)
        payload = None
        if gold is not None:
            payload = selectors.annotation_payloads(
                Annotation.objects.filter(pk=gold.pk), self.document
            )[0]
            provenance = dict(
                Span.objects.filter(annotation=gold).values_list("client_id", "provenance")
            )
            for span in payload["spans"]:
                span["provenance"] = provenance.get(span["id"], {})
        return Response(
            {
                "gold": payload,
                "candidates": selectors.adjudication_candidates(self.access.project, self.document),
            }
        )


class GoldMergeView(DocumentScopedView):
    roles = {"POST": REVIEWERS}

    @extend_schema(
        request=GoldMergeIn,
        responses={201: dict},
        tags=["review"],
        description="Start the gold annotation from the automatic merge.",
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        data = GoldMergeIn(data=request.data)
        data.is_valid(raise_exception=True)
        gold = review_services.gold_merge(
            access=self.access, document=self.document, policy=data.validated_data["policy"]
        )
        return Response({"gold": gold.pk, "version": gold.version}, status=201)


class GoldDecideView(DocumentScopedView):
    roles = {"POST": REVIEWERS}

    @extend_schema(
        request=GoldDecideIn,
        responses={200: dict},
        tags=["review"],
        description="Accept a candidate into the gold (optionally corrected by `edit`: start, "
        "end, label, attributes), or reject it. 409 on a stale `version`.",
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        data = GoldDecideIn(data=request.data)
        data.is_valid(raise_exception=True)
        gold = review_services.gold_decide(
            access=self.access, document=self.document, **data.validated_data
        )
        return Response({"gold": gold.pk, "version": gold.version})


class GoldSubmitView(DocumentScopedView):
    roles = {"POST": REVIEWERS}

    @extend_schema(
        request=None,
        responses={200: dict},
        tags=["review"],
        description="Mark the document's gold annotation as finished.",
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        gold = review_services.gold_submit(access=self.access, document=self.document)
        return Response({"gold": gold.pk, "version": gold.version, "status": gold.status})


class GoldUndoView(DocumentScopedView):
    roles = {"POST": REVIEWERS}

    @extend_schema(
        request=GoldUndoIn,
        responses={200: dict},
        tags=["review"],
        description="Take back a decision on the gold: the last one, or the one about the "
        "candidate named by start, end and label. An accepted span leaves the gold; the "
        "candidate is open again.",
    )
    def post(self, request: Request, project_id: str, document_id: int) -> Response:
        data = GoldUndoIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        candidate = (values["start"], values["end"], values["label"]) if "start" in values else None
        undone = review_services.gold_undo(
            access=self.access,
            document=self.document,
            version=values.get("version"),
            candidate=candidate,
        )
        return Response({"undone": undone, "version": undone["version"]})
