"""Projects, members, scheme, tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from projects import selectors
from projects.models import ApiToken, Membership, Project
from projects.permissions import LEADS, REVIEWERS
from projects.services import projects as project_services
from projects.services.tokens import token_create, token_revoke

from . import lifecycle
from . import serializers as s
from .base import ProjectView
from .pagination import PagePagination


def project_payload(project: Project, role: str, *, with_scheme: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": project.pk,
        "slug": project.slug,
        "name": project.name,
        "description": project.description,
        "guidelines": project.guidelines,
        "annotators_per_document": project.annotators_per_document,
        "blind": project.blind,
        "snap_to_words": project.snap_to_words,
        "allow_overlap": project.allow_overlap,
        "adjudication_threshold": project.adjudication_threshold,
        "role": role,
        "created_at": project.created_at,
        "scheme_version": project.scheme_version,
    }
    if with_scheme:
        data["scheme"] = selectors.scheme_payload(project)
    return data


def token_payload(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
    }


class TokenListView(APIView):
    """Create a token with your username and password (or from a logged-in session), list
    your tokens."""

    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination

    throttle_scope = "token"

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_throttles(self) -> list[Any]:
        return [ScopedRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses=s.TokenOut(many=True), tags=["auth"])
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)
        paginator = PagePagination()
        page = paginator.paginate_queryset(tokens, request, view=self)
        return paginator.get_paginated_response([token_payload(t) for t in page])

    @extend_schema(
        request=s.TokenCreateIn, responses={201: s.TokenCreatedOut}, tags=["auth"], auth=[]
    )
    def post(self, request: Request) -> Response:
        data = s.TokenCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = request.user if request.user.is_authenticated else None
        if "username" in v or "password" in v:
            user = authenticate(
                request._request, username=v.get("username", ""), password=v.get("password", "")
            )
            if user is None:
                raise AuthenticationFailed("Wrong username or password.")
        if user is None:
            raise NotAuthenticated("Send username and password, or log in first.")
        token, key = token_create(user_id=user.pk, name=v["name"], days=v.get("days"))
        return Response({**token_payload(token), "token": key}, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses={204: None}, tags=["auth"])
    def delete(self, request: Request, token_id: int) -> Response:
        token_revoke(user_id=request.user.pk, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=OpenApiResponse(description="The caller."), tags=["auth"])
    def get(self, request: Request) -> Response:
        return Response({"id": request.user.pk, "username": request.user.username})


class ProjectListView(APIView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination

    @extend_schema(responses=s.ProjectOut(many=True), tags=["projects"])
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.projects_of_user(request.user.pk), request, view=self
        )
        return paginator.get_paginated_response(
            [project_payload(m.project, m.role) | {"documents": m.document_count} for m in page]
        )

    @extend_schema(request=s.ProjectIn, responses={201: s.ProjectOut}, tags=["projects"])
    def post(self, request: Request) -> Response:
        project_services.ensure_may_create_projects(request.user)
        data = s.ProjectIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        project = project_services.project_create(created_by_id=request.user.pk, **v)
        return Response(
            project_payload(project, "lead", with_scheme=True), status=status.HTTP_201_CREATED
        )


class ProjectDetailView(ProjectView):
    roles = {"PATCH": LEADS, "DELETE": LEADS}

    @extend_schema(responses=s.ProjectOut, tags=["projects"])
    def get(self, request: Request, project_id: str) -> Response:
        return Response(project_payload(self.access.project, self.access.role, with_scheme=True))

    @extend_schema(request=s.ProjectPatchIn, responses=s.ProjectOut, tags=["projects"])
    def patch(self, request: Request, project_id: str) -> Response:
        data = s.ProjectPatchIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        project = project_services.project_update(
            project=self.access.project, actor_id=request.user.pk, **data.validated_data
        )
        return Response(project_payload(project, self.access.role, with_scheme=True))

    @extend_schema(
        parameters=[lifecycle.CONFIRM],
        responses={200: lifecycle.ProjectDeletedOut, **lifecycle.CONFIRMATION_REFUSED},
        tags=["projects"],
        description="Soft-delete the project: it disappears for every member, with all its "
        "data kept; staff restore it in the admin. Always needs confirm=<slug>.",
    )
    def delete(self, request: Request, project_id: str) -> Response:
        return lifecycle.project_delete(self, request)


class MemberListView(ProjectView):
    # the schema then shows the page (count, next, previous, results), not a bare list
    pagination_class = PagePagination
    roles = {"GET": REVIEWERS, "POST": LEADS}

    @extend_schema(responses=s.MemberOut(many=True), tags=["projects"])
    def get(self, request: Request, project_id: str) -> Response:
        members = (
            Membership.objects.filter(project=self.access.project)
            .select_related("user")
            .order_by("user__username")
        )
        role = request.query_params.get("role")
        if role:
            members = members.filter(role=role)
        paginator = PagePagination()
        page = paginator.paginate_queryset(members, request, view=self)
        return paginator.get_paginated_response([_member(m) for m in page])

    @extend_schema(request=s.MemberIn, responses={201: s.MemberOut}, tags=["projects"])
    def post(self, request: Request, project_id: str) -> Response:
        data = s.MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        m = project_services.membership_set(
            project=self.access.project, actor_id=request.user.pk, **data.validated_data
        )
        return Response(_member(m), status=status.HTTP_201_CREATED)


def _member(m: Membership) -> dict[str, Any]:
    return {"id": m.pk, "user_id": m.user_id, "username": m.user.username, "role": m.role}


class MemberDetailView(ProjectView):
    roles = {"PATCH": LEADS, "DELETE": LEADS, "GET": REVIEWERS}

    def _get(self, member_id: int) -> Membership:
        return Membership.objects.select_related("user", "project").get(
            project=self.access.project, pk=member_id
        )

    @extend_schema(responses=s.MemberOut, tags=["projects"])
    def get(self, request: Request, project_id: str, member_id: int) -> Response:
        return Response(_member(self._get(member_id)))

    @extend_schema(request=s.MemberPatchIn, responses=s.MemberOut, tags=["projects"])
    def patch(self, request: Request, project_id: str, member_id: int) -> Response:
        data = s.MemberPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        m = self._get(member_id)
        m = project_services.membership_set(
            project=self.access.project,
            username=m.user.username,
            role=data.validated_data["role"],
            actor_id=request.user.pk,
        )
        return Response(_member(m))

    @extend_schema(responses={204: None}, tags=["projects"])
    def delete(self, request: Request, project_id: str, member_id: int) -> Response:
        project_services.membership_remove(
            membership=self._get(member_id), actor_id=request.user.pk
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchemeView(ProjectView):
    roles = {"PUT": LEADS}

    @extend_schema(responses=s.SchemeOut, tags=["projects"])
    def get(self, request: Request, project_id: str) -> Response:
        return Response(selectors.scheme_payload(self.access.project))

    @extend_schema(
        request=s.SchemeOut,
        responses=s.SchemeOut,
        tags=["projects"],
        description="Replace the scheme. Give a label's `id` to rename it; a label "
        'in use cannot be removed (409): retire it with `"retired": true`.',
    )
    def put(self, request: Request, project_id: str) -> Response:
        if not isinstance(request.data, dict):
            from rest_framework.exceptions import ValidationError

            raise ValidationError("The scheme must be a JSON object.")
        with transaction.atomic():
            project = project_services.scheme_update(
                project=self.access.project, definition=dict(request.data), actor_id=request.user.pk
            )
        return Response(selectors.scheme_payload(project))
