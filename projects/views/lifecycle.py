"""Pages for deleting and restoring (leads only): a confirmation page before each deletion that
says what it hides, the project's deleted documents and annotations with Restore, and deleting
the whole project (the lead types its slug).

Every deletion is soft (see ``projects.services.lifecycle``): nothing here removes a row.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from projects import selectors, selectors_lifecycle
from projects.models import Document
from projects.permissions import LEADS, ProjectAccess, project_access
from projects.services import lifecycle
from projects.services.errors import ServiceError

from .common import error_message

DELETED_PER_PAGE = 50


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _live_document(access: ProjectAccess, document_id: int) -> Document:
    try:
        return selectors.document_get(access, document_id)
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None


# --- documents ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """GET: what deleting this document hides, and the button; POST: delete it."""
    access = project_access(request.user, slug, allow=LEADS)
    document = _live_document(access, document_id)
    if request.method == "POST":
        try:
            done = lifecycle.document_delete(
                project=access.project,
                document=document,
                actor_id=request.user.pk,
                confirm=request.POST.get("confirm", ""),
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            hidden = f" and {_plural(done.annotations, 'annotation')}" if done.annotations else ""
            messages.success(
                request,
                f"Deleted “{document}”{hidden}. Nothing is lost: restore it from Deleted.",
            )
            return redirect("projects:overview", slug=access.project.slug)
    annotations = selectors_lifecycle.annotations_of(document)
    return render(
        request,
        "projects/document_delete.html",
        {
            "access": access,
            "project": access.project,
            "document": document,
            "annotations": annotations,
            "spans": sum(a["spans"] for a in annotations),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def document_restore(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    try:
        done = lifecycle.document_restore(
            project=access.project, document_id=document_id, actor_id=request.user.pk
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        error_message(request, exc)
        return redirect("projects:deleted", slug=access.project.slug)
    back = f" with {_plural(done.annotations, 'annotation')}" if done.annotations else ""
    messages.success(request, f"Restored “{done.document}”{back}.")
    return redirect("projects:document", slug=access.project.slug, document_id=done.document.pk)


# --- annotations ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def annotation_delete(
    request: HttpRequest, slug: str, document_id: int, annotation_id: int
) -> HttpResponse:
    """GET: whose work this is and what it holds; POST: delete it (the annotator starts over
    with the document back in their queue)."""
    access = project_access(request.user, slug, allow=LEADS)
    document = _live_document(access, document_id)
    rows = [a for a in selectors_lifecycle.annotations_of(document) if a["id"] == annotation_id]
    if not rows:
        raise Http404("No such annotation of this document.")
    if request.method == "POST":
        try:
            lifecycle.annotation_delete(
                project=access.project,
                document=document,
                annotation_id=annotation_id,
                actor_id=request.user.pk,
            )
        except ServiceError as exc:
            error_message(request, exc)
        else:
            who = rows[0]["annotator"] or "the gold"
            messages.success(
                request,
                f"Deleted the annotation of {who}. Nothing is lost: restore it from Deleted.",
            )
            return redirect("projects:document", slug=access.project.slug, document_id=document.pk)
    return render(
        request,
        "projects/annotation_delete.html",
        {
            "access": access,
            "project": access.project,
            "document": document,
            "annotation": rows[0],
            "counts": selectors_lifecycle.annotation_counts(annotation_id),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def annotation_restore(
    request: HttpRequest, slug: str, document_id: int, annotation_id: int
) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    document = _live_document(access, document_id)
    try:
        lifecycle.annotation_restore(
            project=access.project,
            document=document,
            annotation_id=annotation_id,
            actor_id=request.user.pk,
        )
    except ServiceError as exc:
        if exc.status == 404:
            raise Http404(exc.message) from None
        error_message(request, exc)
        return redirect("projects:deleted", slug=access.project.slug)
    messages.success(request, "Restored the annotation.")
    return redirect("projects:document", slug=access.project.slug, document_id=document.pk)


# --- what is deleted ----------------------------------------------------------------------------


@login_required
def deleted(request: HttpRequest, slug: str) -> HttpResponse:
    """The project's deleted documents and the annotations deleted on their own, each with
    Restore: one query per list and page (plus the counts)."""
    access = project_access(request.user, slug, allow=LEADS)
    documents = Paginator(
        selectors_lifecycle.deleted_documents(access.project), DELETED_PER_PAGE
    ).get_page(request.GET.get("page"))
    annotations = Paginator(
        selectors_lifecycle.deleted_annotations(access.project), DELETED_PER_PAGE
    ).get_page(request.GET.get("apage"))
    return render(
        request,
        "projects/deleted.html",
        {
            "access": access,
            "project": access.project,
            "documents": documents,
            "annotations": annotations,
        },
    )


# --- the project --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_delete(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: what the project holds and a field for its slug; POST: delete it if the slug typed
    matches."""
    access = project_access(request.user, slug, allow=LEADS)
    failure = ""
    if request.method == "POST":
        typed = request.POST.get("confirm", "").strip()
        try:
            project = lifecycle.project_delete(
                project=access.project, actor_id=request.user.pk, confirm=typed
            )
        except ServiceError as exc:
            failure = (
                "Type the project's slug to confirm."
                if exc.code == "confirmation_required"
                else f"“{typed[:80]}” is not this project's slug ({access.project.slug})."
            )
        else:
            messages.success(
                request,
                f"Deleted the project “{project.name}”. Its data is kept: a staff user can "
                "restore it in the admin.",
            )
            return redirect("projects:list")
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "counts": selectors_lifecycle.project_counts(access.project),
        "failure": failure,
    }
    return render(request, "projects/project_delete.html", context, status=400 if failure else 200)
