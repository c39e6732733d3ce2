"""The side-by-side comparison of one document's annotations (leads and reviewers).

Spans are aligned with the project's one matching rule (``overlap_matching``, AGREEMENT.md rule
6): the reference (the first annotator chosen) against each other annotator. Spans no one in the
reference matched become rows of their own; with three or more annotators, those leftovers are
aligned among themselves with the same rule, so a span the reference lacks but two others share
is one row, not two. Every class is relative to the reference. Relations are compared through
the rows: two relations are the same when their endpoints sit in the same rows and their types
are equal. Read-only; blind mode is enforced by the selector.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects import selectors
from projects.domain.agreement.matching import overlap_matching
from projects.models import Annotation, Document, StanceTarget
from projects.permissions import REVIEWERS, project_access

GOLD = "Gold"
# Worst first: a row's class is the worst of its comparisons with the reference.
CLASSES = ("missing", "boundary+label", "label", "boundary", "agree")
CLASS_NAMES = {
    "agree": "agree",
    "boundary": "boundary",
    "label": "label",
    "boundary+label": "boundary + label",
    "missing": "missing",
}
CLASS_HELP = {
    "agree": "same extent and label",
    "boundary": "overlapping, same label, different extent",
    "label": "same extent, different label",
    "boundary+label": "overlapping, different extent and label",
    "missing": "no aligned span on one side",
}


def _who(annotation: Annotation) -> str:
    return annotation.annotator.get_username() if annotation.annotator else GOLD


def classify(ref: Any, other: Any) -> str:
    """The class of ``other`` against ``ref`` (two aligned spans, or None for no span)."""
    if ref is None or other is None:
        return "missing"
    same_extent = (ref.start, ref.end) == (other.start, other.end)
    same_label = ref.label_id == other.label_id
    if same_extent:
        return "agree" if same_label else "label"
    return "boundary" if same_label else "boundary+label"


@dataclass
class _Row:
    pivot: Any  # the span the row is built around (the reference's, or a leftover's)
    spans: dict[int, Any] = field(default_factory=dict)  # column → span


def _extents(spans: list[Any]) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in spans]


def align(columns: list[list[Any]]) -> list[_Row]:
    """Rows of aligned spans; ``columns[0]`` is the reference's spans."""
    rows = [_Row(pivot=s, spans={0: s}) for s in columns[0]]
    reference = columns[0]
    leftover_rows: list[_Row] = []
    for k, spans in enumerate(columns[1:], start=1):
        taken = set()
        for i, j in overlap_matching(_extents(reference), _extents(spans)):
            rows[i].spans[k] = spans[j]
            taken.add(j)
        rest = [s for j, s in enumerate(spans) if j not in taken]
        # Leftovers join earlier leftovers' rows by the same rule, or start rows of their own.
        joined = set()
        pivots = [r.pivot for r in leftover_rows]
        for i, j in overlap_matching(_extents(pivots), _extents(rest)):
            leftover_rows[i].spans[k] = rest[j]
            joined.add(j)
        leftover_rows += [
            _Row(pivot=s, spans={k: s}) for j, s in enumerate(rest) if j not in joined
        ]
    everything = rows + leftover_rows
    everything.sort(key=lambda r: (r.pivot.start, r.pivot.end, (0 in r.spans and -1) or 0))
    return everything


def _cell(span: Any, pivot: Any, cls: str | None, text: str) -> dict[str, Any]:
    if span is None:
        return {"span": None, "cls": cls}
    differs = (span.start, span.end) != (pivot.start, pivot.end)
    return {
        "span": span,
        "label": span.label.name,
        "color": span.label.color,
        "start": span.start,
        "end": span.end,
        "text": text[span.start : span.end] if differs else "",
        "cls": cls,
    }


def _chosen(annotations: list[Annotation], wanted: list[str]) -> tuple[list[Annotation], list[str]]:
    """The annotations named in ``?with=`` in that order (all when none is named), and the
    names that are not visible here."""
    by_name = {_who(a): a for a in annotations}
    names = list(dict.fromkeys(w for w in wanted if w))
    unknown = [n for n in names if n not in by_name]
    chosen = [by_name[n] for n in names if n in by_name]
    return (chosen or annotations), unknown


@login_required
@require_GET
def compare(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    # Annotators get 403 even without blind mode: comparing is review work.
    access = project_access(request.user, slug, allow=REVIEWERS)
    try:
        document = selectors.document_get(access, document_id)
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None
    visible = selectors.annotations_visible(access, document)
    chosen, unknown = _chosen(visible, request.GET.getlist("with"))
    text = document.text
    names = [_who(a) for a in chosen]
    context: dict[str, Any] = {
        "access": access,
        "project": access.project,
        "document": document,
        "everyone": [_who(a) for a in visible],
        "names": names,
        "annotations": [{"who": _who(a), "annotation": a} for a in chosen],
        "unknown": unknown,
        "enough": len(chosen) >= 2,
    }
    if context["enough"]:
        context.update(_comparison(chosen, text, access.project))
    return render(request, "projects/compare.html", context)


def _comparison(chosen: list[Annotation], text: str, project: Any) -> dict[str, Any]:
    columns = [list(a.spans.all()) for a in chosen]
    rows = align(columns)
    counts: Counter[str] = Counter()
    span_row: dict[int, int] = {}  # span pk → row index
    table = []
    for index, row in enumerate(rows):
        ref = row.spans.get(0)
        cells = [_cell(ref, row.pivot, None, text)]
        classes = []
        for k in range(1, len(chosen)):
            other = row.spans.get(k)
            cls = None if ref is None and other is None else classify(ref, other)
            if cls:
                classes.append(cls)
                counts[cls] += 1
            cells.append(_cell(other, row.pivot, cls, text))
        if ref is None:
            # The reference lacks this span: its cell says so.
            cells[0]["cls"] = "missing"
        for span in row.spans.values():
            span_row[span.pk] = index
        worst = min(classes, key=CLASSES.index)
        table.append(
            {
                "cls": worst,
                "text": text[row.pivot.start : row.pivot.end],
                "start": row.pivot.start,
                "cells": cells,
            }
        )

    relations: dict[tuple[str, int, int], set[int]] = {}
    for k, annotation in enumerate(chosen):
        for rel in annotation.relations.all():
            key = (rel.type.name, span_row[rel.source_id], span_row[rel.target_id])
            relations.setdefault(key, set()).add(k)
    relation_rows = [
        {
            "type": rtype,
            "source": table[source]["text"],
            "target": table[target]["text"],
            "has": [k in who for k in range(len(chosen))],
            "cls": "agree" if len(who) == len(chosen) else "missing",
        }
        for (rtype, source, target), who in sorted(
            relations.items(), key=lambda item: (item[0][1], item[0][2], item[0][0])
        )
    ]

    values: dict[int, dict[int, str]] = {}
    for k, annotation in enumerate(chosen):
        for stance in annotation.stances.all():
            values.setdefault(stance.target_id, {})[k] = stance.value
    stance_rows = []
    for target in StanceTarget.objects.filter(project=project).order_by("position", "pk"):
        given = values.get(target.pk, {})
        distinct = set(given.values())
        if len(distinct) > 1:
            cls = "disagree"
        elif len(given) < len(chosen) and given:
            cls = "missing"
        elif given:
            cls = "agree"
        else:
            cls = "none"
        stance_rows.append(
            {
                "target": target.name,
                "values": [given.get(k, "") for k in range(len(chosen))],
                "cls": cls,
            }
        )

    return {
        "rows": table,
        "summary": [
            {"cls": c, "name": CLASS_NAMES[c], "help": CLASS_HELP[c], "n": counts[c]}
            for c in reversed(CLASSES)
        ],
        "comparisons": sum(counts.values()),
        "relation_rows": relation_rows,
        "relations_shared": sum(1 for r in relation_rows if r["cls"] == "agree"),
        "stance_rows": stance_rows,
    }
