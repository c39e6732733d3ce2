"""A document's audit history, on its page, as CSV and through the API: who changed which
span when, newest first, filtered, paginated, in a fixed number of queries, with every CSV
cell safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from projects.models import Document
from projects.permissions import project_access
from projects.services import annotations as annotation_services
from projects.services import lifecycle

from ..conftest import World, client_for
from .conftest import doc_api


def _spans(world: World, user: Any, n: int, *, doc: Any = None, prefix: str = "s") -> None:
    """``n`` spans by ``user`` on the first document: one span.create event each."""
    access = project_access(user, world.project.pk)
    for i in range(n):
        annotation_services.span_create(
            access=access,
            document=doc or world.documents[0],
            start=i % 20,
            end=i % 20 + 5,
            label="Claim",
            client_id=f"{prefix}{i}",
        )


def _history(client: Any, world: World, doc: Any, query: str = "") -> Any:
    return client.get(doc_api(world, doc, "history/") + query)


def test_the_api_lists_a_documents_events_newest_first_with_a_summary(world: World) -> None:
    doc = world.documents[0]
    access = project_access(world.annotator, world.project.pk)
    annotation_services.span_create(
        access=access, document=doc, start=0, end=9, label="Claim", client_id="c1"
    )
    annotation_services.span_update(access=access, document=doc, span_id="c1", label="Critique")
    _spans(world, world.annotator2, 1, doc=world.documents[1])  # another document's event
    r = _history(client_for(world.reviewer), world, doc)
    assert r.status_code == 200, r.content
    body = r.json()
    rows = body["results"]
    assert [(e["actor"], e["action"], e["summary"]) for e in rows[:2]] == [
        ("ann1", "span.update", "span c1 relabelled Critique"),
        ("ann1", "span.create", "span Claim [0, 9) created"),
    ]
    # the assignments the world made come first in time, by the project's creator
    assert rows[-1]["action"] == "assignment.create"
    assert rows[-1]["summary"] in {"assigned to ann1", "assigned to ann2"}
    assert body["count"] == len(rows) == 4
    assert {e["object_type"] for e in rows} == {"span", "assignment"}


def test_the_api_filters_by_actor_and_by_action_or_family_and_pages(world: World) -> None:
    doc = world.documents[0]
    _spans(world, world.annotator, 3)
    _spans(world, world.annotator2, 2, prefix="t")
    lead = client_for(world.lead)
    assert _history(lead, world, doc, "?actor=ann2").json()["count"] == 2
    assert _history(lead, world, doc, "?action=span").json()["count"] == 5
    assert _history(lead, world, doc, "?action=span.create&actor=ann1").json()["count"] == 3
    assert _history(lead, world, doc, "?action=assignment.create").json()["count"] == 2
    assert _history(lead, world, doc, "?action=span.delete").json()["count"] == 0
    page = _history(lead, world, doc, "?page_size=2&page=2").json()
    assert page["count"] == 7 and len(page["results"]) == 2 and page["next"] and page["previous"]
    r = _history(lead, world, doc, "?actor=" + "x" * 151)
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "actor"
    assert _history(lead, world, doc, "?action=%00").status_code == 400


def test_a_lead_reads_the_history_of_a_deleted_document_a_reviewer_does_not(
    world: World,
) -> None:
    doc = world.documents[0]
    lifecycle.document_delete(project=world.project, document=doc, actor_id=world.lead.pk)
    r = _history(client_for(world.lead), world, doc)
    assert r.status_code == 200
    assert r.json()["results"][0]["summary"] == "document deleted"
    assert _history(client_for(world.reviewer), world, doc).status_code == 404


def test_the_api_history_reads_in_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    doc = world.documents[0]
    _spans(world, world.annotator, 5)
    lead = client_for(world.lead)
    with django_assert_max_num_queries(6):
        assert _history(lead, world, doc).status_code == 200
    _spans(world, world.annotator2, 40, prefix="t")
    with django_assert_max_num_queries(6):
        assert len(_history(lead, world, doc).json()["results"]) == 47


# --- the page --------------------------------------------------------------------------------


def test_the_document_page_links_to_its_history_for_reviewers_and_leads(
    world: World, client: Any
) -> None:
    slug, doc = world.project.slug, world.documents[0]
    link = f"/p/{slug}/d/{doc.pk}/history/"
    for user, sees in ((world.lead, True), (world.reviewer, True), (world.annotator, False)):
        client.force_login(user)
        assert (link in client.get(f"/p/{slug}/d/{doc.pk}/").content.decode()) is sees


@pytest.mark.parametrize("persona", ["annotator", "consumer"])
def test_annotators_and_consumers_cannot_open_a_history(
    world: World, client: Any, persona: str
) -> None:
    """Blind annotation: the events name every annotator's changes."""
    client.force_login(world.persona(persona))
    url = f"/p/{world.project.slug}/d/{world.documents[0].pk}/history/"
    assert client.get(url).status_code == 403
    assert client.get(url + "?format=csv").status_code == 403


def test_the_history_page_shows_who_did_what_filters_and_pages(world: World, client: Any) -> None:
    doc = world.documents[0]
    _spans(world, world.annotator, 55)
    _spans(world, world.annotator2, 3, prefix="t")
    client.force_login(world.reviewer)
    url = f"/p/{world.project.slug}/d/{doc.pk}/history/"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "span Claim [2, 7) created" in html  # ann2's last span, the newest event
    assert response.context["page"].paginator.count == 60
    assert len(response.context["rows"]) == 50
    assert response.context["choices"]["actors"] == ["ann1", "ann2", "lead"]
    filtered = client.get(url + "?actor=ann1&action=span")
    assert filtered.context["page"].paginator.count == 55
    assert "actor=ann1&amp;action=span&amp;page=2" in filtered.content.decode()
    second = client.get(url + "?actor=ann1&action=span&page=2")
    assert len(second.context["rows"]) == 5


def test_the_history_page_reads_in_a_fixed_number_of_queries(
    world: World, client: Any, django_assert_max_num_queries: Any
) -> None:
    doc = world.documents[0]
    client.force_login(world.lead)
    url = f"/p/{world.project.slug}/d/{doc.pk}/history/"
    _spans(world, world.annotator, 3)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    _spans(world, world.annotator2, 60, prefix="t")
    with django_assert_max_num_queries(10):
        assert len(client.get(url).context["rows"]) == 50


def test_the_csv_holds_every_event_of_the_filter_with_cells_made_safe(
    world: World, client: Any
) -> None:
    doc = world.documents[0]
    access = project_access(world.annotator, world.project.pk)
    annotation_services.span_create(
        access=access,
        document=doc,
        start=0,
        end=9,
        label="Claim",
        client_id='=HYPERLINK("http://evil.example","x")',
    )
    _spans(world, world.annotator2, 70)
    client.force_login(world.lead)
    url = f"/p/{world.project.slug}/d/{doc.pk}/history/?format=csv"
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{world.project.slug}-document-{doc.pk}-history.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "time",
        "actor",
        "action",
        "object_type",
        "object_id",
        "summary",
        "request_id",
        "data",
    ]
    assert len(rows) == 1 + 70 + 1 + 2  # ann2's spans, ann1's span, two assignments
    evil = next(r for r in rows[1:] if r[1] == "ann1")
    assert evil[4] == "'" + '=HYPERLINK("http://evil.example","x")'
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    only = client.get(url + "&actor=ann1")
    assert len(list(csv.reader(io.StringIO(b"".join(only.streaming_content).decode())))) == 2


def test_a_deleted_document_is_not_found_on_the_history_page_for_reviewers(
    world: World, client: Any
) -> None:
    doc = world.documents[0]
    lifecycle.document_delete(project=world.project, document=doc, actor_id=world.lead.pk)
    url = f"/p/{world.project.slug}/d/{doc.pk}/history/"
    client.force_login(world.reviewer)
    assert client.get(url).status_code == 404
    client.force_login(world.lead)
    response = client.get(url)
    assert response.status_code == 200
    assert "This document is deleted" in response.content.decode()
    assert Document.all_objects.get(pk=doc.pk).deleted_at is not None
