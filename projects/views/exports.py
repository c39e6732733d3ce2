"""The exports page: request an export (format and options), watch it build, download it, and
the project's export history.

A small ES module (static/projects/exports/exports.js) polls the API and moves the progress bar;
without JavaScript the page reloads itself while something is building (a refresh inside
<noscript>), so it works either way. No inline script or handler: a strict CSP is coming.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from projects import selectors_exports
from projects.domain.exports.records import FORMATS
from projects.domain.exports.select import SPLIT_NAMES
from projects.models import Export, ExportStatus, Role
from projects.permissions import ProjectAccess, project_access
from projects.services import exports as export_services
from projects.services.errors import ServiceError, ValidationFailed

from .common import error_message

HISTORY_SHOWN = 50

FORMAT_CHOICES = (
    ("jsonl", "JSONL — the native format; re-imports losslessly"),
    ("csv", "CSV — one row per span"),
    ("conll", "CoNLL — token BIO tags"),
    ("brat", "brat — .txt and .ann per document (zip)"),
    ("spacy", "spaCy — a DocBin (.spacy)"),
    ("hf", "Hugging Face — Parquet per split with a dataset card (zip)"),
)
ANNOTATION_CHOICES = (
    ("all", "Every annotator's annotation (and the gold)"),
    ("gold", "The gold (adjudicated) annotation only"),
    ("merged", "One majority vote of the annotators"),
)
STATUS_BADGES = {
    ExportStatus.PENDING: "muted-badge",
    ExportStatus.RUNNING: "warn",
    ExportStatus.DONE: "",
    ExportStatus.FAILED: "warn",
}


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=FORMAT_CHOICES, initial="jsonl")
    annotations = forms.ChoiceField(
        choices=ANNOTATION_CHOICES, initial="all", widget=forms.RadioSelect, label="Annotations"
    )
    include_unfinished = forms.BooleanField(
        required=False,
        label="Include unfinished work",
        help_text="By default only submitted annotations (and a submitted gold) are exported.",
    )
    train = forms.FloatField(min_value=0, max_value=1, initial=1.0, label="Train share")
    validation = forms.FloatField(min_value=0, max_value=1, initial=0.0, label="Validation share")
    test = forms.FloatField(min_value=0, max_value=1, initial=0.0, label="Test share")
    seed = forms.IntegerField(
        initial=0,
        label="Split seed",
        help_text="A document's split depends only on its id and the seed, so it keeps its split "
        "when documents are added.",
    )
    relations = forms.BooleanField(required=False, initial=True, label="Include relations")
    stances = forms.BooleanField(required=False, initial=True, label="Include document stances")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SPLIT_NAMES:
            self.fields[name].widget.attrs.update({"step": "0.05", "inputmode": "decimal"})

    def options(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "format": data["format"],
            "annotations": data["annotations"],
            "include_unfinished": data["include_unfinished"],
            "splits": [[name, data[name]] for name in SPLIT_NAMES if data[name]],
            "seed": data["seed"],
            "relations": data["relations"],
            "stances": data["stances"],
        }

    def add_problems(self, error: ValidationFailed) -> None:
        """Put the domain's field-named problems next to the fields they name."""
        for problem in error.problems or ():
            field = (problem.field or "").split(".")[-1].split("[")[0]
            if field == "splits":
                self.add_error(None, f"Split shares: {problem.message}")
            elif field in self.fields:
                self.add_error(field, problem.message)
            else:
                self.add_error(None, str(problem))
        if not error.problems:
            self.add_error(None, error.message)


def _access(request: HttpRequest, slug: str) -> ProjectAccess:
    return project_access(request.user, slug, allow=export_services.EXPORTERS)


def _export(access: ProjectAccess, export_id: int) -> Export:
    try:
        return selectors_exports.export_get(access.project, export_id)
    except Export.DoesNotExist:
        raise Http404("No such export in this project.") from None


def _may_delete(access: ProjectAccess, export: Export) -> bool:
    return access.role == Role.LEAD or export.requested_by_id == access.user_id


def _options_summary(options: dict[str, Any]) -> str:
    parts = [str(options.get("annotations", "all"))]
    parts.append("all work" if options.get("include_unfinished") else "submitted")
    splits = options.get("splits") or []
    if len(splits) > 1 or (splits and splits[0][0] != "train"):
        parts.append(" / ".join(f"{name} {ratio:g}" for name, ratio in splits))
        parts.append(f"seed {options.get('seed', 0)}")
    if not options.get("relations", True):
        parts.append("no relations")
    if not options.get("stances", True):
        parts.append("no stances")
    return ", ".join(parts)


def _row(access: ProjectAccess, export: Export) -> dict[str, Any]:
    kwargs = {"project_id": export.project_id, "export_id": export.pk}
    return {
        "export": export,
        "summary": _options_summary(export.options),
        "badge": STATUS_BADGES.get(ExportStatus(export.status), ""),
        "building": export.status in (ExportStatus.PENDING, ExportStatus.RUNNING),
        "poll_url": reverse("api:export", kwargs=kwargs),
        "download_url": reverse("api:export-download", kwargs=kwargs),
        "manifest_url": reverse("api:export-manifest", kwargs=kwargs),
        "may_delete": _may_delete(access, export),
    }


@login_required
@require_http_methods(["GET", "POST"])
def exports(request: HttpRequest, slug: str) -> HttpResponse:
    access = _access(request, slug)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            export = export_services.export_create(
                project=access.project, actor_id=request.user.pk, options=form.options()
            )
        except ValidationFailed as exc:
            form.add_problems(exc)
        except ServiceError as exc:
            error_message(request, exc)
            return redirect("projects:exports", slug=slug)
        else:
            messages.success(
                request,
                f"Export #{export.pk} ({export.format}) requested; a worker is building it.",
            )
            return redirect(reverse("projects:exports", args=[slug]) + f"#export-{export.pk}")
    export_services.export_reap(project=access.project)
    history = list(selectors_exports.exports_of(access.project)[:HISTORY_SHOWN])
    rows = [_row(access, e) for e in history]
    confirm = None
    wanted = request.GET.get("delete", "")
    if wanted.isdigit():
        confirm = next((r for r in rows if r["export"].pk == int(wanted) and r["may_delete"]), None)
    return render(
        request,
        "projects/exports.html",
        {
            "project": access.project,
            "access": access,
            "form": form,
            "rows": rows,
            "building": any(r["building"] for r in rows),
            "confirm": confirm,
            "formats": FORMATS,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def export_delete(request: HttpRequest, slug: str, export_id: int) -> HttpResponse:
    access = _access(request, slug)
    export = _export(access, export_id)
    try:
        export_services.export_delete(
            export=export, actor_id=request.user.pk, actor_role=access.role
        )
    except ServiceError as exc:
        if exc.status == 403:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(exc.message) from exc
        error_message(request, exc)
    else:
        messages.success(request, f"Export #{export.pk} and its file were deleted.")
    return redirect("projects:exports", slug=slug)
