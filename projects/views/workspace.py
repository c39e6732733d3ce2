"""The annotator's pages: "my work" (the queue, with progress) and the annotation workspace.

The workspace page renders the text once and hands everything else to the ES modules in
``projects/static/projects/annotate/`` through one ``json_script`` payload (spans by their
offsets, without a copy of their text: the page has the article): the caller's own
annotation (editable), or, for those who see everyone's work, another annotator's (read-only).
Blind mode is enforced with ``ProjectAccess.sees_all_annotations``, the one place it lives:
an annotator never gets another annotator's spans, relations, stances or sources, in the page
or by any request the page makes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from projects import selectors
from projects.models import (
    Annotation,
    AnnotationKind,
    Assignment,
    AssignmentStatus,
    Document,
    Membership,
)
from projects.permissions import ANNOTATORS, READERS, ProjectAccess, project_access

from .common import render_markdown

OPEN = (AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS)
STATUS_LABELS = {"not_started": "Not started", **dict(AssignmentStatus.choices)}


def _workspace_url(slug: str, document_id: int) -> str:
    return reverse("projects:workspace", args=[slug, document_id])


@login_required
@require_GET
def my_work(request: HttpRequest, slug: str) -> HttpResponse:
    """The caller's queue with progress and one button to the next open document."""
    access = project_access(request.user, slug, allow=ANNOTATORS)
    queue = selectors.workspace_queue(access.project, access.user_id)
    counts = Counter(row["status"] for row in queue)
    next_open = next((row for row in queue if row["status"] in OPEN), None)
    started = any(row["status"] != AssignmentStatus.ASSIGNED for row in queue)
    labels = dict(AssignmentStatus.choices)
    for row in queue:
        row["url"] = _workspace_url(access.project.slug, row["document"])
        row["status_label"] = labels.get(row["status"], row["status"])
    return render(
        request,
        "projects/my_work.html",
        {
            "access": access,
            "project": access.project,
            "queue": queue,
            "total": len(queue),
            "submitted": counts[AssignmentStatus.SUBMITTED],
            "skipped": counts[AssignmentStatus.SKIPPED],
            "in_progress": counts[AssignmentStatus.IN_PROGRESS],
            "next_open": next_open,
            "next_url": _workspace_url(access.project.slug, next_open["document"])
            if next_open
            else None,
            "started": started,
        },
    )


def _navigation(slug: str, queue: list[dict[str, Any]], document_id: int) -> dict[str, Any]:
    """Previous and next in queue order, and the next open document after this one (what
    submit-and-next opens), wrapping round to the start of the queue."""
    ids = [row["document"] for row in queue]
    here = ids.index(document_id) if document_id in ids else -1

    def link(row: dict[str, Any] | None) -> dict[str, Any] | None:
        if row is None:
            return None
        return {
            "id": row["document"],
            "title": row["title"],
            "url": _workspace_url(slug, row["document"]),
        }

    after = queue[here + 1 :] + queue[: max(here, 0)] if here >= 0 else queue
    next_open = next((row for row in after if row["status"] in OPEN), None)
    return {
        "position": here + 1 if here >= 0 else None,
        "total": len(queue),
        "prev": link(queue[here - 1]) if here > 0 else None,
        "next": link(queue[here + 1]) if 0 <= here < len(queue) - 1 else None,
        "next_open": link(next_open),
    }


def _annotators_of(document: Document) -> list[str]:
    """Who has worked on, or been given, this document (for the read-only picker)."""
    assigned = Assignment.objects.filter(document=document).values_list(
        "annotator__username", flat=True
    )
    worked = Annotation.objects.filter(
        document=document, kind=AnnotationKind.ANNOTATOR
    ).values_list("annotator__username", flat=True)
    return sorted(set(assigned) | set(worked))


def _annotation_of(
    access: ProjectAccess, document: Document, username: str
) -> tuple[dict[str, Any], int]:
    """Another annotator's annotation of ``document``, read-only, for those who see all work:
    a member's, or the work a former member left behind."""
    theirs = Annotation.objects.filter(
        document=document, annotator__username=username, kind=AnnotationKind.ANNOTATOR
    )
    user_id = theirs.values_list("annotator_id", flat=True).first()
    if user_id is None:
        user_id = (
            Membership.objects.filter(project=access.project, user__username=username)
            .values_list("user_id", flat=True)
            .first()
        )
    if user_id is None:
        raise Http404("No such annotator in this project.")
    found = selectors.annotation_payloads(theirs, document, with_text=False)
    return (found[0] if found else selectors.empty_annotation_payload(document, username)), user_id


@login_required
@require_GET
def workspace(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=READERS)
    try:
        document = selectors.document_get(access, document_id)
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None
    me = request.user.get_username()
    wanted = request.GET.get("annotator", "").strip()
    if wanted and wanted != me:
        if not access.sees_all_annotations:
            raise PermissionDenied(
                "Blind annotation: in this project you can open only your own work."
            )
        annotation, annotator_id = _annotation_of(access, document, wanted)
        annotator, editable = wanted, False
    elif access.role in ANNOTATORS:
        annotation = selectors.own_annotation_payload(
            access, document, annotator=me, with_text=False
        )
        annotator, annotator_id, editable = me, access.user_id, True
    else:
        # A reviewer has no annotation of their own: show the first annotator's work.
        names = _annotators_of(document)
        if not names:
            messages.info(request, "Nobody has worked on this document yet.")
            return redirect("projects:document", slug=access.project.slug, document_id=document.pk)
        query = urlencode({"annotator": names[0]})
        return redirect(f"{_workspace_url(access.project.slug, document.pk)}?{query}")

    scheme = selectors.scheme_payload(access.project)
    entity_attributes = [
        a for a in scheme["span_attributes"] if isinstance(a, dict) and a.get("kind") == "entity"
    ]
    suggestions: dict[str, list[str]] = {}
    if editable:
        in_use = selectors.attribute_values_in_use(access, [a["name"] for a in entity_attributes])
        for attribute in entity_attributes:
            name = attribute["name"]
            listed = [s for s in attribute.get("suggestions", []) if isinstance(s, str)]
            suggestions[name] = listed + sorted(set(in_use.get(name, [])) - set(listed))
    queue = selectors.workspace_queue(access.project, annotator_id)
    others = _annotators_of(document) if access.sees_all_annotations else []
    meta = sorted(document.meta.items()) if isinstance(document.meta, dict) else []
    project = access.project
    payload = {
        "project": {
            "id": project.pk,
            "slug": project.slug,
            "snap_to_words": project.snap_to_words,
            "allow_overlap": project.allow_overlap,
        },
        "document": {
            "id": document.pk,
            "title": document.title or document.external_id,
            "length": document.length,
        },
        "user": {"id": request.user.pk, "username": me},
        "annotator": annotator,
        "editable": editable,
        "annotation": annotation,
        "scheme": scheme,
        "suggestions": suggestions,
        "navigation": _navigation(project.slug, queue, document.pk),
        "urls": {
            "api": reverse("api:my-annotation", args=[project.pk, document.pk]),
            "api_documents": reverse("api:documents", args=[project.pk]),
            "my_work": reverse("projects:my_work", args=[project.slug]),
            "workspace": _workspace_url(project.slug, document.pk),
        },
    }
    return render(
        request,
        "projects/workspace.html",
        {
            "access": access,
            "project": project,
            "document": document,
            "meta": meta,
            "payload": payload,
            "annotator": annotator,
            "editable": editable,
            "others": others,
            "navigation": payload["navigation"],
            "status_label": STATUS_LABELS.get(annotation["status"], annotation["status"]),
            "guidelines_html": render_markdown(project.guidelines),
        },
    )
