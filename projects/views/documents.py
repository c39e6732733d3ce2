"""Pages of the documents stage: importing documents, and a read-only document view (a
placeholder until the annotation workspace)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from projects import selectors
from projects.domain.importers import SUPPORTED_EXTENSIONS
from projects.domain.problems import Problem
from projects.models import Assignment, Document, Membership, Role
from projects.permissions import LEADS, READERS, REVIEWERS, project_access
from projects.services import documents as document_services
from projects.services.errors import ServiceError

from .forms import ImportForm


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@login_required
@require_http_methods(["GET", "POST"])
def document_import(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=LEADS)
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "form": form,
        "extensions": ", ".join(SUPPORTED_EXTENSIONS),
        "max_mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024),
    }
    if request.method == "GET" or not form.is_valid():
        return render(
            request, "projects/import.html", context, status=200 if request.method == "GET" else 400
        )

    upload = form.cleaned_data["file"]
    problems: list[Problem] = []
    message = ""
    if upload.size > settings.IMPORT_MAX_FILE_BYTES:
        # Checked before reading: the parser checks again, but only once the bytes are in memory.
        message = "Nothing was imported: the file is too large."
        problems = [
            Problem(
                f"the file is {upload.size} bytes; the limit is {settings.IMPORT_MAX_FILE_BYTES}",
                file=upload.name,
                code="too_large",
            )
        ]
    else:
        options = form.cleaned_data
        try:
            result = document_services.documents_import(
                project=access.project,
                filename=upload.name,
                data=upload.read(),
                actor_id=request.user.pk,
                on_duplicate=options["on_duplicate"],
                format=options["format"] or "auto",
                annotator=options["annotator"] or None,
                annotator_map=document_services.annotator_map_from_text(options["annotator_map"]),
            )
        except ServiceError as exc:
            message, problems = exc.message, list(exc.problems)
        else:
            messages.success(
                request,
                f"Imported {_plural(result.created, 'document')} "
                f"({_plural(result.annotations, 'annotation')}).",
            )
            for note in result.notes:
                messages.info(request, str(note))
            if result.skipped:
                messages.info(
                    request,
                    f"Skipped {_plural(len(result.skipped), 'document')} whose id already exists.",
                )
            return redirect("projects:overview", slug=access.project.slug)
    context.update(failure=message, problems=problems)
    return render(request, "projects/import.html", context, status=400)


def _span_rows(annotation: Any, text: str) -> list[dict[str, Any]]:
    return [
        {
            "label": span.label.name,
            "color": span.label.color,
            "text": text[span.start : span.end],
            "start": span.start,
            "end": span.end,
            "attributes": sorted(span.attributes.items())
            if isinstance(span.attributes, dict)
            else [],
        }
        for span in annotation.spans.all()
    ]


@login_required
def document_detail(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=READERS)
    try:
        document = selectors.document_get(access, document_id)
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None
    # Blind mode is enforced by the selector, not here.
    annotations = [
        {
            "annotation": annotation,
            "who": annotation.annotator.get_username() if annotation.annotator else "Gold",
            "spans": _span_rows(annotation, document.text),
            "stances": list(annotation.stances.all()),
        }
        for annotation in selectors.annotations_visible(access, document)
    ]
    meta = sorted(document.meta.items()) if isinstance(document.meta, dict) else []
    assignments: list[Any] = []
    assignable: list[Any] = []
    if access.role in REVIEWERS:
        assignments = list(selectors.assignments_list(access.project, documents=[document.pk]))
    if access.is_lead:
        taken = {a.annotator_id for a in assignments}
        assignable = [
            m.user
            for m in Membership.objects.filter(
                project=access.project, role__in=[Role.ANNOTATOR, Role.LEAD]
            )
            .select_related("user")
            .order_by("user__username")
            if m.user_id not in taken
        ]
    return render(
        request,
        "projects/document.html",
        {
            "access": access,
            "project": access.project,
            "document": document,
            "meta": meta,
            "annotations": annotations,
            "assignments": assignments,
            "assignable": assignable,
        },
    )


@login_required
@require_http_methods(["POST"])
def assignment_add(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    """Manual assignment: a lead gives this document to one more annotator."""
    access = project_access(request.user, slug, allow=LEADS)
    try:
        document = selectors.document_get(access, document_id)
        annotator_id = int(request.POST.get("annotator", ""))
    except (Document.DoesNotExist, ValueError):
        raise Http404("No such document or annotator.") from None
    try:
        document_services.assignment_create(
            project=access.project,
            document_id=document.pk,
            annotator_id=annotator_id,
            actor_id=request.user.pk,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Assigned.")
    return redirect("projects:document", slug=access.project.slug, document_id=document.pk)


@login_required
@require_http_methods(["POST"])
def assignment_remove(
    request: HttpRequest, slug: str, document_id: int, assignment_id: int
) -> HttpResponse:
    """Unassign; the annotator's annotation, if any, is kept."""
    access = project_access(request.user, slug, allow=LEADS)
    assignment = Assignment.objects.filter(
        project=access.project, document_id=document_id, pk=assignment_id
    ).first()
    if assignment is None:
        raise Http404("No such assignment.")
    document_services.assignment_delete(assignment=assignment, actor_id=request.user.pk)
    messages.success(request, "Unassigned. Any work already done is kept.")
    return redirect("projects:document", slug=access.project.slug, document_id=document_id)
