"""Pages of the adjudication stage: the queue of documents that need a gold annotation, and
one document's adjudication (automatic merge, accepting or rejecting the open candidates,
submitting the gold).

The logic lives in ``selectors`` (queue, candidates, gold) and ``services.review`` (merge,
decide, submit); this module only lays it out and turns the form posts into calls."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from projects import selectors
from projects.models import Document
from projects.permissions import REVIEWERS, ProjectAccess, project_access
from projects.services import review as review_services
from projects.services.errors import ServiceError

POLICIES = (
    ("majority", "Majority: spans most annotators agree on"),
    ("unanimous", "Unanimous: spans all annotators agree on"),
)
# (decision, button text, access key of the first open candidate's button)
DECISIONS = (("accept", "Accept", "a"), ("reject", "Reject", "r"))
GOLD_STATUS = {
    "none": ("No gold", "muted-badge"),
    "in_progress": ("Gold begun", "warn"),
    "submitted": ("Gold submitted", ""),
    "skipped": ("Skipped", "muted-badge"),
}


def _document(access: ProjectAccess, document_id: int) -> Document:
    try:
        return selectors.document_get(access, document_id)
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None


def _back(access: ProjectAccess, document: Document) -> HttpResponse:
    return redirect("projects:adjudicate", slug=access.project.slug, document_id=document.pk)


def _usernames(ids: set[Any]) -> dict[Any, str]:
    users = get_user_model().objects.filter(pk__in=[i for i in ids if isinstance(i, int)])
    return {u.pk: u.get_username() for u in users}


@login_required
@require_GET
def adjudication(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    queue = selectors.adjudication_queue(access.project)
    rows = [
        {
            "pk": row["document"],
            "title": row["title"] or f"Document {row['document']}",
            "annotators": row["annotators"],
            "disagreement": f"{row['disagreement'] * 100:.0f} %",
            "gold": GOLD_STATUS.get(row["gold"], (row["gold"], "")),
        }
        for row in queue["documents"]
    ]
    return render(
        request,
        "projects/adjudication.html",
        {
            "access": access,
            "project": access.project,
            "threshold": f"{queue['threshold'] * 100:.0f} %",
            "counts": queue["counts"],
            "rows": rows,
        },
    )


@login_required
@require_GET
def adjudicate(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    document = _document(access, document_id)
    gold = selectors.gold_of(document)
    spans = (
        list(gold.spans.select_related("label").order_by("start", "end", "pk"))
        if gold is not None
        else []
    )
    log = list(gold.adjudication.get("decisions", [])) if gold is not None else []
    names = _usernames(
        {(s.provenance or {}).get("decided_by") for s in spans} | {d.get("by") for d in log}
    )
    gold_rows = [
        {
            "label": s.label.name,
            "text": document.text[s.start : s.end],
            "start": s.start,
            "end": s.end,
            "attributes": s.attributes,
            "proposed_by": (s.provenance or {}).get("proposed_by") or [],
            "decided_by": names.get((s.provenance or {}).get("decided_by")),
            "candidate": (s.provenance or {}).get("candidate"),
            "edited": (s.provenance or {}).get("edited", False),
        }
        for s in spans
    ]
    decisions_log = [
        {
            "decision": d["decision"],
            "start": d["candidate"][0],
            "end": d["candidate"][1],
            "label": d["candidate"][2],
            "text": document.text[d["candidate"][0] : d["candidate"][1]],
            "edited": d.get("edited", False),
            "by": names.get(d.get("by"), ""),
        }
        for d in reversed(log)
    ]
    candidates = selectors.adjudication_candidates(access.project, document)
    candidates.sort(key=lambda c: (c["cluster"], c["start"], c["end"], c["label"]))
    scheme = access.project.scheme
    attributes = [a for a in scheme.get("span_attributes", []) if isinstance(a, dict)]
    active_labels = [
        label["name"]
        for label in scheme.get("span_labels", [])
        if isinstance(label, dict) and not label.get("retired")
    ]
    for n, c in enumerate(candidates, start=1):
        c["uid"] = n
        c["fields"] = [
            {
                "name": a["name"],
                "kind": a.get("kind", "entity"),
                "values": a.get("values", []),
                "suggestions": bool(a.get("suggestions")),
                "value": c["attributes"].get(a["name"], ""),
            }
            for a in attributes
        ]
    clusters = [
        {"cluster": key, "candidates": list(group)}
        for key, group in groupby(candidates, key=lambda c: c["cluster"])
    ]
    return render(
        request,
        "projects/adjudication_document.html",
        {
            "access": access,
            "project": access.project,
            "document": document,
            "gold": gold,
            "gold_status": GOLD_STATUS.get(gold.status if gold else "none", ("", "")),
            "gold_rows": gold_rows,
            "clusters": clusters,
            "open_count": len(candidates),
            "policies": POLICIES,
            "decisions": DECISIONS,
            "decisions_log": decisions_log,
            "labels": active_labels,
            "attributes": attributes,
        },
    )


@login_required
@require_POST
def adjudicate_merge(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    document = _document(access, document_id)
    policy = request.POST.get("policy", "majority")
    try:
        gold = review_services.gold_merge(access=access, document=document, policy=policy)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        count = gold.spans.count()
        messages.success(
            request,
            f"Merged ({policy}): {count} span{'' if count == 1 else 's'} in the gold.",
        )
    return _back(access, document)


def _ints(request: HttpRequest, *names: str) -> list[int | None]:
    """Form integers; an empty field is None. Raises ValueError on anything else."""
    values: list[int | None] = []
    for name in names:
        raw = request.POST.get(name, "").strip()
        values.append(int(raw) if raw else None)
    return values


def _edit(request: HttpRequest, attribute_names: list[str]) -> dict[str, Any] | None:
    """The correction typed into a candidate's edit form, if it was that form that posted."""
    if request.POST.get("edited") != "1":
        return None
    start, end = _ints(request, "edit_start", "edit_end")
    edit: dict[str, Any] = {
        "attributes": {name: request.POST.get(f"edit_{name}", "") for name in attribute_names}
    }
    if start is not None:
        edit["start"] = start
    if end is not None:
        edit["end"] = end
    if request.POST.get("edit_label"):
        edit["label"] = request.POST["edit_label"]
    return edit


@login_required
@require_POST
def adjudicate_decide(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    document = _document(access, document_id)
    decision = request.POST.get("decision", "")
    label = request.POST.get("label", "")
    try:
        start, end, version = _ints(request, "start", "end", "version")
        edit = _edit(request, selectors.scheme_attribute_names(access.project))
    except ValueError:
        messages.error(request, "A start, end or version field is not a whole number.")
        return _back(access, document)
    if start is None or end is None:
        messages.error(request, "The candidate's start and end are missing.")
        return _back(access, document)
    try:
        gold = review_services.gold_decide(
            access=access,
            document=document,
            start=start,
            end=end,
            label=label,
            decision=decision,
            version=version,
            edit=edit,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        last = gold.adjudication["decisions"][-1]
        done = "Accepted" if decision == "accept" else "Rejected"
        if last.get("edited"):
            done = "Accepted with corrections"
        messages.success(request, f"{done} [{start}, {end}) {label}.")
    return _back(access, document)


@login_required
@require_POST
def adjudicate_undo(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    document = _document(access, document_id)
    label = request.POST.get("label", "")
    try:
        start, end, version = _ints(request, "start", "end", "version")
    except ValueError:
        messages.error(request, "A start, end or version field is not a whole number.")
        return _back(access, document)
    candidate = (start, end, label) if start is not None and end is not None and label else None
    try:
        undone = review_services.gold_undo(
            access=access, document=document, version=version, candidate=candidate
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        s, e, name = undone["candidate"]
        what = "acceptance" if undone["decision"] == "accept" else "rejection"
        messages.success(request, f"Undid the {what} of [{s}, {e}) {name}; it is open again.")
    return _back(access, document)


@login_required
@require_POST
def adjudicate_submit(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    document = _document(access, document_id)
    try:
        review_services.gold_submit(access=access, document=document)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Gold submitted.")
    return _back(access, document)
