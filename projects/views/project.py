"""Pages of the project stage: my projects, a new project, the overview (documents, members,
progress, settings) and the scheme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from projects import selectors
from projects.models import AssignmentStatus, Label, Membership, Role
from projects.permissions import EVERY_ROLE, LEADS, REVIEWERS, ProjectAccess, project_access
from projects.services import documents as document_services
from projects.services import projects as project_services
from projects.services.errors import ServiceError

from .common import error_message, render_markdown
from .forms import MemberForm, ProjectCreateForm, ProjectSettingsForm, RoleForm, SchemeForm

DEMO_SCHEME = Path(__file__).resolve().parent.parent / "demo_data" / "scheme.json"
DOCUMENTS_PER_PAGE = 50
# Finished work first, as the legend reads; "assigned" is the bar's background.
BAR_ORDER = (AssignmentStatus.SUBMITTED, AssignmentStatus.SKIPPED, AssignmentStatus.IN_PROGRESS)


# --- my projects --------------------------------------------------------------------------


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    memberships = selectors.projects_of_user(request.user.pk)
    return render(
        request,
        "projects/project_list.html",
        {
            "memberships": memberships,
            "may_create": project_services.may_create_projects(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    if not project_services.may_create_projects(request.user):
        raise PermissionDenied(
            "Only staff can create projects on this server: ask an administrator to create it "
            "and add you as its lead."
        )
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scheme = json.loads(DEMO_SCHEME.read_text()) if data["scheme"] == "demo" else None
        try:
            project = project_services.project_create(
                name=data["name"],
                slug=data["slug"] or None,
                created_by_id=request.user.pk,
                scheme=scheme,
                annotators_per_document=data["annotators_per_document"],
                blind=data["blind"],
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            messages.success(request, f"Created the project “{project.name}”. You are its lead.")
            return redirect("projects:overview", slug=project.slug)
    return render(request, "projects/project_create.html", {"form": form})


# --- overview -----------------------------------------------------------------------------


def _settings_form(access: ProjectAccess, data: Any = None) -> ProjectSettingsForm:
    project = access.project
    initial = {field: getattr(project, field) for field in project_services.PROJECT_SETTINGS}
    return ProjectSettingsForm(data, initial=initial)


def _progress_rows(access: ProjectAccess) -> list[dict[str, Any]]:
    """Progress per annotator, with the percentages the CSS-only bar needs. Annotators see
    only their own row."""
    rows = selectors.progress_by_annotator(access.project)
    if access.role == Role.ANNOTATOR:
        rows = [row for row in rows if row["user_id"] == access.user_id]
    for row in rows:
        total = row["total"] or 1
        # Widths are whole percentages rendered as classes (pct-0 … pct-100): a strict CSP
        # will forbid style attributes.
        segments = [
            {
                "status": status.value,
                "label": status.label,
                "n": row[status.value],
                "pct": round(100 * row[status.value] / total),
            }
            for status in BAR_ORDER
        ]
        row["segments"] = segments
    return rows


def _overview_context(request: HttpRequest, access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {"access": access, "project": access.project, **extra}
    if access.role == Role.CONSUMER:
        return context
    page = Paginator(selectors.document_list(access), DOCUMENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context["page"] = page
    if access.only_assigned_documents:
        statuses = dict(
            selectors.queue_of(access)
            .filter(document_id__in=[d.pk for d in page])
            .values_list("document_id", "status")
        )
        labels = dict(AssignmentStatus.choices)
        for doc in page:
            doc.my_status = labels.get(statuses.get(doc.pk, ""), "")
    context["progress"] = _progress_rows(access)
    context["guidelines_html"] = render_markdown(access.project.guidelines)
    if access.role in REVIEWERS:
        context["members"] = (
            Membership.objects.filter(project=access.project)
            .select_related("user")
            .order_by("user__username")
        )
        context["roles"] = Role.choices
    if access.is_lead:
        context.setdefault("settings_form", _settings_form(access))
        context.setdefault("member_form", MemberForm())
    return context


@login_required
def project_overview(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=EVERY_ROLE)
    return render(request, "projects/overview.html", _overview_context(request, access))


@login_required
@require_POST
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    form = _settings_form(access, request.POST)
    if not form.is_valid():
        messages.error(request, "The settings were not saved: see the errors in the form.")
        context = _overview_context(request, access, settings_form=form)
        return render(request, "projects/overview.html", context, status=400)
    changes = {name: form.cleaned_data[name] for name in form.changed_data}
    if not changes:
        messages.info(request, "Nothing changed.")
    else:
        try:
            project_services.project_update(
                project=access.project, actor_id=request.user.pk, **changes
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            messages.success(request, "Settings saved.")
    return redirect(reverse("projects:overview", args=[access.project.slug]) + "#settings")


@login_required
@require_POST
def member_set(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a member by username, or change the role of one (the same service does both)."""
    access = project_access(request.user, slug, allow=LEADS)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a username and one of the roles.")
    else:
        username, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            project_services.membership_set(
                project=access.project, username=username, role=role, actor_id=request.user.pk
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            messages.success(request, f"{username} is now {Role(role).label.lower()}.")
    return redirect(reverse("projects:overview", args=[access.project.slug]) + "#members")


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), project=access.project, pk=membership_id
    )
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
    else:
        role = form.cleaned_data["role"]
        try:
            project_services.membership_set(
                project=access.project,
                username=membership.user.get_username(),
                role=role,
                actor_id=request.user.pk,
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {Role(role).label.lower()}."
            )
    return redirect(reverse("projects:overview", args=[access.project.slug]) + "#members")


@login_required
@require_POST
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    membership = get_object_or_404(
        Membership.objects.select_related("user", "project"),
        project=access.project,
        pk=membership_id,
    )
    username = membership.user.get_username()
    try:
        project_services.membership_remove(membership=membership, actor_id=request.user.pk)
    except ServiceError as exc:
        error_message(request, exc)
    else:
        messages.success(request, f"Removed {username} from the project. Their work is kept.")
    return redirect(reverse("projects:overview", args=[access.project.slug]) + "#members")


@login_required
@require_POST
def assignments_auto(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    try:
        result = document_services.assignments_auto(
            project=access.project, actor_id=request.user.pk
        )
    except ServiceError as exc:
        error_message(request, exc)
    else:
        k = access.project.annotators_per_document
        if result.created:
            messages.success(
                request,
                f"Created {result.created} assignments among {result.annotators} annotators "
                f"(k = {k}).",
            )
        else:
            messages.info(request, f"Every document already has its {k} annotators.")
        if result.short_documents:
            messages.warning(
                request,
                f"{result.short_documents} documents have fewer than {k} annotators: the project "
                f"has only {result.annotators}. Add annotators and auto-assign again.",
            )
    return redirect(reverse("projects:overview", args=[access.project.slug]) + "#documents")


# --- scheme -------------------------------------------------------------------------------


def _scheme_text(access: ProjectAccess) -> str:
    """The scheme as the edit box shows it: the selector's payload, with row ids so that
    renames work."""
    payload = selectors.scheme_payload(access.project)
    payload.pop("version", None)
    return json.dumps(payload, indent=2, ensure_ascii=False)


def _attribute_row(attribute: Any) -> dict[str, Any]:
    # Plain keys only: in a template ``a.values`` on a dict without a "values" key would
    # fall back to dict.values().
    if not isinstance(attribute, dict):
        return {"name": str(attribute), "kind": "", "choices": [], "description": ""}
    choices = attribute.get("values") or attribute.get("suggestions") or []
    return {
        "name": attribute.get("name", ""),
        "kind": attribute.get("kind", ""),
        "choices": [str(c) for c in choices] if isinstance(choices, list) else [],
        "description": attribute.get("description", ""),
    }


def _scheme_context(access: ProjectAccess, **extra: Any) -> dict[str, Any]:
    project = access.project
    labels = list(
        Label.objects.filter(project=project)
        .annotate(span_count=Count("spans"))
        .order_by("position", "pk")
    )
    payload = selectors.scheme_payload(project)
    context: dict[str, Any] = {
        "access": access,
        "project": project,
        "labels": labels,
        "relation_types": payload["relation_types"],
        "attributes": [_attribute_row(a) for a in payload["span_attributes"]],
        "stance_targets": payload["stance_targets"],
        "stance_values": payload["stance_values"],
        "scheme_name": payload["name"],
        "scheme_version": payload["version"],
        **extra,
    }
    if access.is_lead:
        context.setdefault("form", SchemeForm(initial={"definition": _scheme_text(access)}))
    return context


def _json_error(exc: json.JSONDecodeError) -> str:
    return f"The scheme is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."


@login_required
@require_http_methods(["GET", "POST"])
def scheme(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "GET":
        access = project_access(request.user, slug, allow=EVERY_ROLE)
        return render(request, "projects/scheme.html", _scheme_context(access))

    access = project_access(request.user, slug, allow=LEADS)
    form = SchemeForm(request.POST)
    error: str | None = None
    problems: list[Any] = []
    if not form.is_valid():
        error = "Paste the scheme as JSON."
    else:
        text = form.cleaned_data["definition"]
        try:
            definition = json.loads(text)
        except json.JSONDecodeError as exc:
            error = _json_error(exc)
        else:
            try:
                project = project_services.scheme_update(
                    project=access.project, definition=definition, actor_id=request.user.pk
                )
            except ServiceError as exc:
                error, problems = exc.message, list(exc.problems)
            else:
                messages.success(request, f"Scheme saved (version {project.scheme_version}).")
                return redirect("projects:scheme", slug=project.slug)
    messages.error(request, error)
    context = _scheme_context(access, form=form, problems=problems, editing=True)
    return render(request, "projects/scheme.html", context, status=400)
