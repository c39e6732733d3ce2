"""A document's audit history: who changed which span (relation, stance, assignment, gold,
deletion) when, newest first, filtered by who acted and what they did; and the same as CSV.

For leads and reviewers only: the events name each annotator's changes, which blind annotation
keeps from other annotators (an annotator's own work is in the workspace). Leads also open the
history of a deleted document, from the Deleted page.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects import selectors, selectors_lifecycle
from projects.domain.exports.csv import neutralise
from projects.models import Document
from projects.permissions import REVIEWERS, project_access

HISTORY_PER_PAGE = 50
CSV_HEADER = (
    "time",
    "actor",
    "action",
    "object_type",
    "object_id",
    "summary",
    "request_id",
    "data",
)
# a filter longer than any username or action names nothing (and NUL cannot reach a query)
FILTER_LIMITS = {"actor": 150, "action": 64}


class _Echo:
    """The csv writer's file: hands each formatted line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    """Every cell through ``neutralise``: usernames, label names and reasons are user text,
    and a spreadsheet would run one that starts with = as a formula."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    for row in rows:
        data = row["data"] if isinstance(row["data"], dict) else {}
        yield writer.writerow(
            [
                neutralise(str(cell))
                for cell in (
                    row["created_at"].isoformat(),
                    row["actor"] or "",
                    row["action"],
                    row["object_type"],
                    row["object_id"],
                    row["summary"],
                    data.get("request_id", ""),
                    json.dumps(data, ensure_ascii=False, sort_keys=True),
                )
            ]
        )


@login_required
@require_GET
def document_history(request: HttpRequest, slug: str, document_id: int) -> HttpResponse:
    access = project_access(request.user, slug, allow=REVIEWERS)
    try:
        document: Document = (
            selectors_lifecycle.document_any(access, document_id)
            if access.is_lead
            else selectors.document_get(access, document_id)
        )
    except Document.DoesNotExist:
        raise Http404("No such document in this project.") from None
    filters = {name: request.GET.get(name, "").strip() for name in FILTER_LIMITS}
    for name, limit in FILTER_LIMITS.items():
        if len(filters[name]) > limit or "\x00" in filters[name]:
            return HttpResponseBadRequest(f"{name} must be at most {limit} characters.")
    events = selectors_lifecycle.document_history(
        document, actor=filters["actor"] or None, action=filters["action"] or None
    )
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(
            _csv_lines(selectors_lifecycle.history_stream(events, access.project.pk)),
            content_type="text/csv; charset=utf-8",
        )
        name = f"{access.project.slug}-document-{document.pk}-history.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    page = Paginator(events, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "projects/history.html",
        {
            "access": access,
            "project": access.project,
            "document": document,
            "page": page,
            "rows": selectors_lifecycle.history_rows(access.project.pk, page.object_list),
            "choices": selectors_lifecycle.history_choices(document),
            "filters": filters,
            "query": query,
        },
    )
