"""The agreement page: who may see it, the figures it shows (never 0 for undefined), the filters,
the CSV downloads (formula injection neutralised) and a query count that does not grow."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Role

from ..conftest import World, client_for
from ..factories import add_member, assign, demo_scheme, make_documents, make_user

TABLES = ("labels", "pairs", "documents", "confusion")


def url_of(world: World) -> str:
    return f"/p/{world.project.slug}/agreement/"


def annotate(world: World, user: Any, doc: Any, spans: list[tuple[int, int, str]]) -> None:
    """``user`` marks ``spans`` on ``doc`` and submits, through the API as the workspace would."""
    client = client_for(user)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    for start, end, label in spans:
        span = {"start": start, "end": end, "label": label}
        r = client.post(base + "spans/", span, format="json")
        assert r.status_code == 201, r.content
    assert client.post(base + "submit/", {}, format="json").status_code == 200


@pytest.fixture
def submitted(world: World) -> World:
    """Both annotators submitted the two documents assigned to them: the same Claim, and a
    Critique only ann1 marked."""
    for doc in world.documents[:2]:
        annotate(world, world.annotator, doc, [(0, 9, "Claim"), (20, 40, "Critique")])
        annotate(world, world.annotator2, doc, [(0, 9, "Claim")])
    return world


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- who may see it -----------------------------------------------------------------------


def test_an_outsider_gets_404(client: Any, world: World) -> None:
    client.force_login(world.outsider)
    assert client.get(url_of(world)).status_code == 404
    assert client.get(url_of(world) + "?format=csv&table=pairs").status_code == 404


@pytest.mark.parametrize("persona", ["annotator", "consumer"])
def test_annotators_and_consumers_get_403(client: Any, world: World, persona: str) -> None:
    client.force_login(world.persona(persona))
    assert client.get(url_of(world)).status_code == 403
    assert client.get(url_of(world) + "?format=csv&table=labels").status_code == 403


@pytest.mark.parametrize("persona", ["lead", "reviewer"])
def test_leads_and_reviewers_see_the_page_and_its_tab(
    client: Any, world: World, persona: str
) -> None:
    client.force_login(world.persona(persona))
    response = client.get(url_of(world))
    assert response.status_code == 200
    assert f'href="{url_of(world)}" aria-current="page">Agreement' in response.content.decode()


@pytest.mark.parametrize("persona", ["annotator", "consumer"])
def test_the_agreement_tab_is_not_shown_to_annotators_or_consumers(
    client: Any, world: World, persona: str
) -> None:
    client.force_login(world.persona(persona))
    html = client.get(f"/p/{world.project.slug}/").content.decode()
    assert url_of(world) not in html


# --- what it shows ------------------------------------------------------------------------


def test_the_page_shows_the_figures_with_their_counts_and_the_pair_heat_map(
    client: Any, submitted: World
) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted))
    html = response.content.decode()
    cards = {card["title"]: card for card in response.context["cards"]}
    overlap = cards["Span F1, overlap, labelled"]["figure"]
    # 2 Claims matched of 4 + 2 spans: 2·2 / 6
    assert overlap["defined"] and overlap["text"] == "0.667" and overlap["n"] == 1
    assert "0.667" in html and "n = 1 annotator pair" in html
    assert response.context["documents_count"] == 2
    assert '<svg class="heatmap"' in html and 'role="img"' in html
    pair_map = response.context["pair_map"]
    values = [cell for cell in pair_map["cells"] if cell["kind"] == "value"]
    assert {cell["text"] for cell in values} == {"0.67"}
    assert all(cell["fill"].startswith("#") for cell in values)
    assert "ann1 × ann2: F1 0.667" in html  # the cell's <title>
    assert "0.8 – 1" in html  # the legend, in text


def test_an_undefined_figure_shows_undefined_and_its_reason_never_zero(
    client: Any, submitted: World
) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted))
    cards = {card["title"]: card for card in response.context["cards"]}
    relations = cards["Relation F1, aligned, labelled"]["figure"]
    assert not relations["defined"] and relations["text"] == "undefined"
    assert relations["reason"]
    html = response.content.decode()
    assert "undefined" in html and relations["reason"] in html


def test_nothing_submitted_leaves_every_figure_undefined_with_a_reason(
    client: Any, world: World
) -> None:
    client.force_login(world.lead)
    response = client.get(url_of(world))
    assert response.status_code == 200
    for card in response.context["cards"]:
        assert not card["figure"]["defined"] and card["figure"]["reason"], card["title"]
    assert response.context["pair_map"] is None
    assert "No pair of annotators" in response.content.decode()


def test_the_label_filter_narrows_the_per_label_table(client: Any, submitted: World) -> None:
    client.force_login(submitted.lead)
    everything = client.get(url_of(submitted)).context["label_rows"]
    assert {row["label"] for row in everything} == {"Claim", "Critique"}
    narrowed = client.get(url_of(submitted) + "?label=Claim")
    assert [row["label"] for row in narrowed.context["label_rows"]] == ["Claim"]
    assert narrowed.context["label_rows"][0]["overlap"]["text"] == "1.000"
    assert '<option value="Claim" selected>' in narrowed.content.decode()


def test_the_annotator_filter_keeps_only_the_chosen_annotators(
    client: Any, submitted: World
) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted) + "?annotator=ann1")
    assert response.context["pair_rows"] == []
    overlap = response.context["cards"][0]["figure"]
    assert not overlap["defined"] and overlap["reason"]


def test_invalid_dates_give_a_message_not_an_error(client: Any, submitted: World) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted) + "?from=yesterday&until=2026-02-31")
    assert response.status_code == 200
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Submitted from" in text and "Submitted before" in text
    assert response.context["documents_count"] == 2  # the bad filters were ignored


def test_a_date_before_any_submission_leaves_nothing_to_measure(
    client: Any, submitted: World
) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted) + "?until=2000-01-01")
    assert response.context["documents_count"] == 0
    assert response.context["document_rows"] == []


def test_the_worst_documents_come_first_and_link_to_the_document(
    client: Any, submitted: World
) -> None:
    # a third document where the two disagree completely
    doc = submitted.documents[2]
    for user in (submitted.annotator, submitted.annotator2):
        assign(submitted.project, doc, user)
    annotate(submitted, submitted.annotator, doc, [(0, 9, "Claim")])
    annotate(submitted, submitted.annotator2, doc, [(20, 40, "Critique")])
    client.force_login(submitted.reviewer)
    response = client.get(url_of(submitted))
    rows = response.context["document_rows"]
    assert rows[0]["pk"] == doc.pk and rows[0]["f1"]["text"] == "0.000"
    assert f'href="/p/{submitted.project.slug}/d/{doc.pk}/"' in response.content.decode()


def test_label_and_annotator_names_are_escaped(client: Any, world: World) -> None:
    sneaky = make_user("<b>x</b>")
    add_member(world.project, sneaky, Role.ANNOTATOR)
    assign(world.project, world.documents[0], sneaky)
    annotate(world, sneaky, world.documents[0], [(0, 9, "Claim")])
    annotate(world, world.annotator, world.documents[0], [(0, 9, "Claim")])
    client.force_login(world.lead)
    html = client.get(url_of(world)).content.decode()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


# --- CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_each_table_downloads_as_csv(client: Any, submitted: World, table: str) -> None:
    client.force_login(submitted.lead)
    response = client.get(url_of(submitted) + f"?format=csv&table={table}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{submitted.project.slug}-agreement-{table}.csv"'
    )
    rows = csv_rows(response)
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)


def test_the_csv_figures_match_the_page(client: Any, submitted: World) -> None:
    client.force_login(submitted.lead)
    rows = csv_rows(client.get(url_of(submitted) + "?format=csv&table=pairs"))
    head, pair = rows
    record = dict(zip(head, pair, strict=True))
    assert (record["annotator_a"], record["annotator_b"]) == ("ann1", "ann2")
    assert float(record["span_f1_overlap"]) == pytest.approx(2 / 3)
    assert record["relation_f1_aligned"] == "" and record["relation_f1_aligned_reason"]


def test_the_csv_keeps_the_page_filters(client: Any, submitted: World) -> None:
    client.force_login(submitted.lead)
    page = client.get(url_of(submitted) + "?label=Claim")
    link = page.context["downloads"]["labels"]
    assert "label=Claim" in link
    rows = csv_rows(client.get(url_of(submitted) + link))
    assert [row[0] for row in rows[1:]] == ["Claim"]


def test_an_unknown_csv_table_is_a_400(client: Any, submitted: World) -> None:
    client.force_login(submitted.lead)
    assert client.get(url_of(submitted) + "?format=csv&table=secrets").status_code == 400


def test_a_label_starting_with_equals_is_neutralised_in_the_csv(client: Any, world: World) -> None:
    scheme = demo_scheme()
    scheme["span_labels"].append({"name": "=cmd", "color": "#123456"})
    r = client_for(world.lead).put(
        f"/api/v1/projects/{world.project.pk}/scheme/", scheme, format="json"
    )
    assert r.status_code == 200, r.content
    for user in (world.annotator, world.annotator2):
        annotate(world, user, world.documents[0], [(0, 9, "=cmd")])
    client.force_login(world.lead)
    labels = csv_rows(client.get(url_of(world) + "?format=csv&table=labels"))
    assert labels[1][:2] == ["'=cmd", "1.0"]
    confusion = csv_rows(client.get(url_of(world) + "?format=csv&table=confusion"))
    assert confusion[0] == ["label", "'=cmd"] and confusion[1] == ["'=cmd", "2"]
    page = client.get(url_of(world)).content.decode()
    assert "=cmd" in page  # shown as it is on the page: only spreadsheets run formulas


def test_an_annotator_name_starting_with_equals_is_neutralised_in_the_csv(
    client: Any, world: World
) -> None:
    evil = make_user("=HYPERLINK(1)")
    add_member(world.project, evil, Role.ANNOTATOR)
    doc = world.documents[0]
    assign(world.project, doc, evil)
    annotate(world, evil, doc, [(0, 9, "Claim")])
    annotate(world, world.annotator, doc, [(0, 9, "Claim")])
    client.force_login(world.lead)
    rows = csv_rows(client.get(url_of(world) + "?format=csv&table=pairs"))
    names = {rows[1][0], rows[1][1]}
    assert names == {"'=HYPERLINK(1)", "ann1"}
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")), cell


# --- cost ---------------------------------------------------------------------------------


def test_the_page_renders_with_a_fixed_number_of_queries_as_documents_grow(
    client: Any, submitted: World, django_assert_max_num_queries: Any
) -> None:
    client.force_login(submitted.lead)
    url = url_of(submitted)
    client.get(url)  # warm up the session
    cache.clear()
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    baseline = len(few)  # read now: the count is a slice of the log cleared below
    docs = make_documents(submitted.project, 60)
    for doc in docs:
        for user in (submitted.annotator, submitted.annotator2):
            assign(submitted.project, doc, user)
        annotate(submitted, submitted.annotator, doc, [(0, 9, "Claim")])
        annotate(submitted, submitted.annotator2, doc, [(0, 9, "Critique")])
    cache.clear()
    connection.queries_log.clear()
    with django_assert_max_num_queries(baseline):
        response = client.get(url)
    assert len(response.context["document_rows"]) == 50
    assert response.context["documents_more"] == 12
    assert "12 more" in response.content.decode()


def test_the_page_draws_agreement_over_time_with_a_table_twin(client: Any, world: Any) -> None:
    for user in (world.annotator, world.annotator2):
        c = client_for(user)
        base = f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotation/"
        c.post(base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json")
        c.post(base + "submit/", {}, format="json")
    client.force_login(world.lead)
    page = client.get(f"/p/{world.project.slug}/agreement/").content.decode()
    assert 'id="time-h"' in page and "<polyline" in page
    assert "-W" in page  # an ISO week label
