"""Pages of the review stage: the agreement page (AGREEMENT.md) and its CSV downloads.

The figures come from ``selectors.agreement_for`` as plain JSON values; this module only picks
what the page shows, formats it and lays out the two heat maps as SVG (fills computed here: a
strict CSP will forbid style attributes and scripts)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from projects import selectors
from projects.models import Document, Label, Membership, Role
from projects.permissions import REVIEWERS, ProjectAccess, project_access
from projects.services import review as review_services
from projects.services.errors import ServiceError

DOCUMENTS_SHOWN = 50
CSV_TABLES = ("labels", "pairs", "documents", "confusion")
# The confusion matrix's row/column for a span the other annotator has no aligned span for; the
# report spells it "" (None in the pure core).
NONE_KEY = ""
NONE_NAME = "(none)"

# ColorBrewer YlGnBu, 5 classes: sequential, colour-blind safe and readable in greyscale. Each
# step carries the text colour that keeps 4.5:1 contrast on it.
SCALE = (
    ("#ffffcc", "#1b1f24"),
    ("#a1dab4", "#1b1f24"),
    ("#41b6c4", "#1b1f24"),
    ("#2c7fb8", "#ffffff"),
    ("#253494", "#ffffff"),
)
UNDEFINED_TEXT = "#57606a"


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Form:
    """What the filter form shows: the choices and what is selected."""

    labels: list[Label]
    annotators: list[str]
    label: str
    chosen: list[str]
    date_from: str
    date_until: str
    errors: dict[str, str]


def _filters(
    request: HttpRequest, access: ProjectAccess
) -> tuple[selectors.AgreementFilters, _Form]:
    """The GET filters, checked against the project's labels and members. A value that does
    not fit is dropped with a message instead of failing the page."""
    labels = list(Label.objects.filter(project=access.project).order_by("position", "pk"))
    annotators = list(
        Membership.objects.filter(project=access.project, role__in=[Role.ANNOTATOR, Role.LEAD])
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    errors: dict[str, str] = {}

    label = request.GET.get("label", "").strip()
    if label and label not in {lb.name for lb in labels}:
        errors["label"] = f"There is no label “{label}” in the scheme; showing all labels."
        label = ""

    asked = [name.strip() for name in request.GET.getlist("annotator") if name.strip()]
    chosen = [name for name in asked if name in annotators]
    if len(chosen) < len(asked):
        errors["annotator"] = "Some annotators are not members of the project; they were ignored."

    moments: dict[str, datetime | None] = {}
    raw_dates: dict[str, str] = {}
    for name, what in (("from", "“Submitted from”"), ("until", "“Submitted before”")):
        raw = request.GET.get(name, "").strip()
        moment = selectors.parse_moment(raw) if raw else None
        if raw and moment is None:
            errors[name] = (
                f"{what} must be a date such as 2026-11-27 (or an ISO date-time); "
                "that filter was ignored."
            )
            raw = ""
        moments[name], raw_dates[name] = moment, raw

    filters = selectors.AgreementFilters(
        labels=(label,) if label else (),
        annotators=tuple(chosen),
        submitted_from=moments["from"],
        submitted_until=moments["until"],
    )
    form = _Form(
        labels=labels,
        annotators=annotators,
        label=label,
        chosen=chosen,
        date_from=raw_dates["from"],
        date_until=raw_dates["until"],
        errors=errors,
    )
    return filters, form


def _query(form: _Form) -> list[tuple[str, str]]:
    """The filters as query parameters, for the download links."""
    pairs: list[tuple[str, str]] = []
    if form.label:
        pairs.append(("label", form.label))
    pairs += [("annotator", name) for name in form.chosen]
    if form.date_from:
        pairs.append(("from", form.date_from))
    if form.date_until:
        pairs.append(("until", form.date_until))
    return pairs


# --- figures ------------------------------------------------------------------------------


def _number(value: float) -> str:
    # A real minus sign: "−0.41" is read correctly by screen readers and lines up.
    return f"{value:.3f}".replace("-", "\u2212")


def _figure(measure: dict[str, Any] | None) -> dict[str, Any]:
    """A report figure ``{value, n, reason}`` as the page shows it: never 0 for undefined."""
    measure = measure or {"value": None, "n": 0, "reason": "not computed"}
    value = measure.get("value")
    return {
        "defined": value is not None,
        "value": value,
        "text": _number(value) if value is not None else "undefined",
        "n": measure.get("n", 0),
        "reason": measure.get("reason") or "",
    }


def _pair_f1(pair: dict[str, Any] | None) -> dict[str, Any]:
    """A pair's micro F1 (pooled over documents), as the pure core computed it."""
    if pair is None:
        return _figure({"value": None, "n": 0, "reason": "no document annotated by both"})
    return _figure({**pair["micro"]["f1"], "n": pair["documents"]})


def _pairs(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["key"][0], p["key"][1]): p["value"] for p in summary.get("pairs", [])}


def _continuum_note(unitizing: dict[str, Any]) -> str:
    note = f"Documents concatenated into one continuum of {unitizing.get('length') or 0} characters"
    if unitizing.get("coverage") is not None:
        note += f"; {round(100 * unitizing['coverage'])}% annotated"
    if unitizing.get("dropped"):
        note += f"; {unitizing['dropped']} overlapping same-label spans dropped"
    return note + "."


def _cards(report: dict[str, Any]) -> list[dict[str, Any]]:
    spans, relations = report["spans"], report["relations"]
    unitizing = report["unitizing"]["concatenated"]
    cards = [
        {
            "title": "Span F1, overlap, labelled",
            "figure": _figure(spans["overlap_labelled"]["f1"]),
            "unit": ("annotator pair", "annotator pairs"),
            "note": "Spans of the same label that overlap, matched one to one; counts pooled "
            "over documents, mean over pairs.",
        },
        {
            "title": "Span F1, exact, labelled",
            "figure": _figure(spans["exact_labelled"]["f1"]),
            "unit": ("annotator pair", "annotator pairs"),
            "note": "Same label and the same boundaries.",
        },
        {
            "title": "Unitizing alpha (α_U)",
            "figure": _figure(unitizing["alpha"]),
            "unit": ("unit", "units"),
            "note": _continuum_note(unitizing),
        },
        {
            "title": "Relation F1, aligned, labelled",
            "figure": _figure(relations["aligned_labelled"]["f1"]),
            "unit": ("annotator pair", "annotator pairs"),
            "note": "Endpoints mapped through the overlap alignment of spans; same type.",
        },
    ]
    for target, coding in sorted(report.get("stance", {}).items()):
        alpha = coding["alpha"]
        cards.append(
            {
                "title": "Stance α",
                "target": target,
                "figure": _figure(alpha["alpha"]),
                "unit": ("pairable value", "pairable values"),
                "note": f"Krippendorff's alpha ({alpha['level']}) on {coding['items']} "
                f"documents, {coding['pairable_items']} with two or more values.",
            }
        )
    for card in cards:
        one, many = card["unit"]
        card["unit"] = one if card["figure"]["n"] == 1 else many
    return cards


def _label_rows(report: dict[str, Any], labels: list[Label]) -> list[dict[str, Any]]:
    overlap = report["spans"]["overlap_labelled"]["per_label"]
    exact = report["spans"]["exact_labelled"]["per_label"]
    alpha_u = report["unitizing"]["concatenated"]["per_label"]
    in_report = set(overlap) | set(exact) | set(alpha_u)
    colours = {lb.name: lb.color for lb in labels}
    order = [lb.name for lb in labels if lb.name in in_report]
    order += sorted(in_report - set(order))
    return [
        {
            "label": name,
            "color": colours.get(name, ""),
            "overlap": _figure(overlap.get(name)),
            "exact": _figure(exact.get(name)),
            "alpha_u": _figure((alpha_u.get(name) or {}).get("alpha")),
        }
        for name in order
    ]


def _pair_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    overlap = _pairs(report["spans"]["overlap_labelled"])
    exact = _pairs(report["spans"]["exact_labelled"])
    relations = _pairs(report["relations"]["aligned_labelled"])
    rows = []
    for key in sorted(set(overlap) | set(exact) | set(relations)):
        pair = overlap.get(key)
        micro = pair["micro"] if pair else {"matched": 0, "first": 0, "second": 0}
        rows.append(
            {
                "first": key[0],
                "second": key[1],
                "documents": pair["documents"] if pair else 0,
                "matched": micro["matched"],
                "spans_first": micro["first"],
                "spans_second": micro["second"],
                "overlap": _pair_f1(pair),
                "exact": _pair_f1(exact.get(key)),
                "relations": _pair_f1(relations.get(key)),
            }
        )
    return rows


def _document_rows(
    report: dict[str, Any], project_id: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Documents worst first (the report's order for labelled overlap F1), with alpha_U
    beside; at most ``limit`` of them, and how many in all."""
    ranked = report["spans"]["per_document"]
    alpha_u = {d["doc_id"]: d["result"]["alpha"] for d in report["unitizing"]["per_document"]}
    shown = ranked if limit is None else ranked[:limit]
    ids = [int(doc_id) for doc_id, _m in shown if str(doc_id).isdigit()]
    documents = (
        Document.objects.filter(project_id=project_id)
        if limit is None
        else Document.objects.filter(project_id=project_id, pk__in=ids)
    )
    names = {
        str(pk): (title, external_id)
        for pk, title, external_id in documents.values_list("pk", "title", "external_id")
    }
    rows = []
    for doc_id, measure in shown:
        title, external_id = names.get(str(doc_id), ("", ""))
        rows.append(
            {
                "id": doc_id,
                "pk": int(doc_id) if str(doc_id).isdigit() else None,
                "title": title or external_id or f"Document {doc_id}",
                "external_id": external_id,
                "f1": _figure(measure),
                "alpha_u": _figure(alpha_u.get(doc_id)),
            }
        )
    return rows, len(ranked)


def _confusion(report: dict[str, Any]) -> tuple[list[str], dict[tuple[str, str], int]]:
    confusion = report["confusion"]
    counts = {(c["key"][0], c["key"][1]): c["value"] for c in confusion["counts"]}
    axis = list(confusion["labels"])
    if any(NONE_KEY in key for key in counts):
        axis.append(NONE_KEY)
    return axis, counts


# --- heat maps ----------------------------------------------------------------------------

CELL = 58
CHAR = 7.2  # average width of a 12px character, for the margins
MAX_NAME = 18


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def _step(share: float) -> int:
    return min(len(SCALE) - 1, max(0, int(share * len(SCALE))))


def _legend(bounds: list[str], undefined: bool) -> list[dict[str, Any]]:
    steps = [
        {"fill": fill, "text": bounds[i], "hatched": False} for i, (fill, _ink) in enumerate(SCALE)
    ]
    if undefined:
        steps.append({"fill": "", "text": "– undefined", "hatched": True})
    return steps


def _heatmap(
    *,
    rows: list[str],
    cols: list[str],
    cells: dict[tuple[str, str], dict[str, Any]],
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Geometry for an SVG heat map. ``cells[(row, col)]`` has ``share`` (0–1, or None:
    undefined, hatched), ``text`` and ``title``; a missing cell is drawn empty."""
    names = names or {}

    def shown(name: str) -> str:
        return _short(names.get(name, name))

    left = round(max((len(shown(r)) for r in rows), default=4) * CHAR) + 16
    # the last column's name leans out to the right of the grid
    right = round(len(shown(cols[-1])) * CHAR * 0.72) if cols else 0
    # column names are turned 45°: their height is their length times sin 45°
    top = round(max((len(shown(c)) for c in cols), default=4) * CHAR * 0.72) + 18
    out_cells = []
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            cell = cells.get((row, col))
            x, y = left + j * CELL, top + i * CELL
            base = {"x": x, "y": y, "tx": x + CELL // 2, "ty": y + CELL // 2 + 5}
            if cell is None:
                out_cells.append({**base, "kind": "empty", "text": "", "title": ""})
            elif cell["share"] is None:
                out_cells.append(
                    {
                        **base,
                        "kind": "undefined",
                        "ink": UNDEFINED_TEXT,
                        "text": "–",
                        "title": cell["title"],
                    }
                )
            else:
                fill, ink = SCALE[_step(cell["share"])]
                out_cells.append(
                    {
                        **base,
                        "kind": "value",
                        "fill": fill,
                        "ink": ink,
                        "text": cell["text"],
                        "title": cell["title"],
                    }
                )
    return {
        "width": left + len(cols) * CELL + max(8, right - CELL // 2 + 8),
        "height": top + len(rows) * CELL + 8,
        "cell": CELL,
        "cells": out_cells,
        "rows": [
            {"name": names.get(r, r), "short": shown(r), "x": left - 8, "y": top + i * CELL + 34}
            for i, r in enumerate(rows)
        ],
        "cols": [
            {
                "name": names.get(c, c),
                "short": shown(c),
                "x": left + j * CELL + CELL // 2,
                "y": top - 8,
            }
            for j, c in enumerate(cols)
        ],
    }


def _pair_heatmap(pair_rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    people = sorted({r["first"] for r in pair_rows} | {r["second"] for r in pair_rows})
    if len(people) < 2:
        return None
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for r in pair_rows:
        f1 = r["overlap"]
        counts = (
            f"{r['matched']} matched of {r['spans_first']} + {r['spans_second']} spans, "
            f"{r['documents']} documents"
        )
        if f1["defined"]:
            title = f"{r['first']} × {r['second']}: F1 {f1['text']} ({counts})"
        else:
            title = f"{r['first']} × {r['second']}: undefined, {f1['reason']} ({counts})"
        cell = {
            "share": f1["value"],
            "text": f"{f1['value']:.2f}" if f1["defined"] else "–",
            "title": title,
        }
        cells[(r["first"], r["second"])] = cells[(r["second"], r["first"])] = cell
    for a in people:
        for b in people:
            if a != b and (a, b) not in cells:
                cells[(a, b)] = {
                    "share": None,
                    "text": "–",
                    "title": f"{a} × {b}: undefined, no document submitted by both",
                }
    # the diagonal (an annotator with themselves) is not a figure: drawn empty, not hatched
    heatmap = _heatmap(rows=people, cols=people, cells=cells)
    heatmap["legend"] = _legend(
        ["0 – 0.2", "0.2 – 0.4", "0.4 – 0.6", "0.6 – 0.8", "0.8 – 1"],
        undefined=any(cell["share"] is None for cell in cells.values()),
    )
    return heatmap


def _confusion_heatmap(
    axis: list[str], counts: dict[tuple[str, str], int]
) -> dict[str, Any] | None:
    if not axis:
        return None
    top = max(counts.values(), default=0)
    names = {NONE_KEY: NONE_NAME}
    cells = {}
    for row in axis:
        for col in axis:
            if row == col == NONE_KEY:
                continue  # a span without a partner against one without: not a pair, drawn empty
            n = counts.get((row, col), 0)
            what = names.get(row, row), names.get(col, col)
            cells[(row, col)] = {
                "share": n / top if top else 0.0,
                "text": str(n),
                "title": f"{what[0]} against {what[1]}: {n} aligned span pairs"
                if NONE_KEY not in (row, col)
                else f"{what[0]} against {what[1]}: {n} spans without an aligned partner",
            }
    heatmap = _heatmap(rows=axis, cols=axis, cells=cells, names=names)
    # the same five steps as the pair map, as the whole counts that fall into each
    ranges: dict[int, list[int]] = {}
    for n in range(top + 1):
        ranges.setdefault(_step(n / top if top else 0.0), []).append(n)
    heatmap["legend"] = [
        {
            "fill": SCALE[step][0],
            "text": str(ns[0]) if len(ns) == 1 else f"{ns[0]} – {ns[-1]}",
            "hatched": False,
        }
        for step, ns in sorted(ranges.items())
    ]
    return heatmap


# --- CSV ----------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """Text is neutralised with a leading apostrophe; numbers we computed stay numbers (a
    negative alpha is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_figure(figure: dict[str, Any]) -> list[Any]:
    return [figure["value"], figure["n"], figure["reason"]]


def _csv_rows(
    table: str, report: dict[str, Any], access: ProjectAccess, labels: list[Label]
) -> list[list[Any]]:
    if table == "labels":
        head = ["label"]
        for what in ("span_f1_overlap", "span_f1_exact", "alpha_u"):
            head += [what, f"{what}_n", f"{what}_reason"]
        return [head] + [
            [
                r["label"],
                *_csv_figure(r["overlap"]),
                *_csv_figure(r["exact"]),
                *_csv_figure(r["alpha_u"]),
            ]
            for r in _label_rows(report, labels)
        ]
    if table == "pairs":
        head = ["annotator_a", "annotator_b", "documents", "matched", "spans_a", "spans_b"]
        for what in ("span_f1_overlap", "span_f1_exact", "relation_f1_aligned"):
            head += [what, f"{what}_reason"]
        return [head] + [
            [
                r["first"],
                r["second"],
                r["documents"],
                r["matched"],
                r["spans_first"],
                r["spans_second"],
                *(
                    r[what][part]
                    for what in ("overlap", "exact", "relations")
                    for part in ("value", "reason")
                ),
            ]
            for r in _pair_rows(report)
        ]
    if table == "documents":
        rows, _total = _document_rows(report, access.project.pk, limit=None)
        head = ["document_id", "external_id", "title"]
        head += ["span_f1_overlap", "span_f1_overlap_n", "span_f1_overlap_reason"]
        head += ["alpha_u", "alpha_u_n", "alpha_u_reason"]
        return [head] + [
            [
                r["id"],
                r["external_id"],
                r["title"],
                *_csv_figure(r["f1"]),
                *_csv_figure(r["alpha_u"]),
            ]
            for r in rows
        ]
    axis, counts = _confusion(report)
    names = [NONE_NAME if a == NONE_KEY else a for a in axis]
    return [["label", *names]] + [
        [name] + [counts.get((row, col), 0) for col in axis]
        for name, row in zip(names, axis, strict=True)
    ]


def _csv_response(
    table: str, report: dict[str, Any], access: ProjectAccess, labels: list[Label]
) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _csv_rows(table, report, access, labels):
        writer.writerow([_cell(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    # the slug is [-a-zA-Z0-9_] and the table one of CSV_TABLES: safe in a header
    filename = f"{access.project.slug}-agreement-{table}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the page -----------------------------------------------------------------------------


@login_required
@require_GET
def agreement(request: HttpRequest, slug: str) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    filters, form = _filters(request, access)
    try:
        answer = review_services.agreement_get(project=access.project, filters=filters)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "projects/agreement_computing.html",
            {"access": access, "project": access.project, "progress": None, "failed": True},
            status=exc.status,
        )
    if answer.computing:
        progress = answer.progress or {"done": 0, "total": 0}
        percent = int(100 * progress["done"] / progress["total"]) if progress["total"] else 0
        return render(
            request,
            "projects/agreement_computing.html",
            {
                "access": access,
                "project": access.project,
                "progress": progress,
                "percent": percent,
                "failed": False,
            },
            status=202,
        )
    report = answer.report

    if request.GET.get("format") == "csv":
        table = request.GET.get("table", "")
        if table not in CSV_TABLES:
            return HttpResponse(
                f"table must be one of: {', '.join(CSV_TABLES)}.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return _csv_response(table, report, access, form.labels)

    for error in form.errors.values():
        messages.error(request, error)
    pair_rows = _pair_rows(report)
    documents, documents_total = _document_rows(report, access.project.pk, DOCUMENTS_SHOWN)
    axis, counts = _confusion(report)
    confusion = report["confusion"]
    query = _query(form)
    downloads = {
        table: "?" + urlencode([*query, ("format", "csv"), ("table", table)])
        for table in CSV_TABLES
    }
    context = {
        "access": access,
        "project": access.project,
        "form": form,
        "filtered": bool(query),
        "report": report,
        "documents_count": report["documents"],
        "cards": _cards(report),
        "label_rows": _label_rows(report, form.labels),
        "pair_rows": pair_rows,
        "pair_map": _pair_heatmap(pair_rows),
        "document_rows": documents,
        "documents_total": documents_total,
        "documents_more": max(0, documents_total - len(documents)),
        "confusion_map": _confusion_heatmap(axis, counts),
        "confusion_summary": {
            "aligned": confusion["aligned"],
            "unaligned": confusion["unaligned"],
            "stacked": confusion["stacked"],
        },
        "downloads": downloads,
        "weekly": _weekly_chart(selectors.agreement_by_week(access.project, report, filters)),
    }
    return render(request, "projects/agreement.html", context)


def _weekly_chart(series: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Geometry of a small line chart of the weekly series (drawn as inline SVG markup, not
    script), plus the rows of its table twin."""
    if not series:
        return None
    width, height, left, top, bottom = 640, 180, 40, 12, 28
    plot_w, plot_h = width - left - 12, height - top - bottom
    step = plot_w / max(1, len(series) - 1)
    points = []
    for i, point in enumerate(series):
        x = left + (i * step if len(series) > 1 else plot_w / 2)
        y = top + (1 - point["f1"]) * plot_h
        points.append({**point, "x": round(x, 1), "y": round(y, 1), "text": _number(point["f1"])})
    return {
        "width": width,
        "height": height,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
        "points": points,
        "grid": [
            {"y": round(top + (1 - v) * plot_h, 1), "label": f"{v:.1f}"} for v in (0.0, 0.5, 1.0)
        ],
        "axis_y": height - bottom + 16,
        "left": left,
        "right": width - 12,
    }
