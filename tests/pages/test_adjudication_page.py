"""The adjudication pages: the queue, and one document's merge, decisions and submission
through the forms."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Annotation, Label, Span

from ..conftest import World, client_for


def submit(world: World, user: Any, doc: Any, spans: list[tuple[int, int, str]]) -> None:
    """Submitted work through the API, as an annotator makes it."""
    client = client_for(user)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    for start, end, label in spans:
        r = client.post(
            base + "spans/", {"start": start, "end": end, "label": label}, format="json"
        )
        assert r.status_code == 201, r.content
    assert client.post(base + "submit/", {}, format="json").status_code in (200, 201)


@pytest.fixture
def disputed(world: World) -> Any:
    """documents[0], submitted by both annotators: they agree on one span and label another
    differently."""
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(0, 9, "Claim"), (10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(0, 9, "Claim"), (10, 14, "Justification")])
    return doc


def page(world: World, doc: Any, path: str = "") -> str:
    return f"/p/{world.project.slug}/d/{doc.pk}/adjudicate/{path}"


def gold_spans(doc: Any) -> list[tuple[int, int, str]]:
    return list(
        Span.objects.filter(annotation__document=doc, annotation__kind="gold")
        .order_by("start", "end", "label__name")
        .values_list("start", "end", "label__name")
    )


def test_an_outsider_gets_404_on_both_pages_and_every_post(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.outsider)
    assert client.get(f"/p/{world.project.slug}/adjudication/").status_code == 404
    assert client.get(page(world, disputed)).status_code == 404
    for path in ("merge/", "decide/", "undo/", "submit/"):
        assert client.post(page(world, disputed, path)).status_code == 404, path


def test_an_annotator_gets_403_on_both_pages_and_every_post(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.annotator)
    assert client.get(f"/p/{world.project.slug}/adjudication/").status_code == 403
    assert client.get(page(world, disputed)).status_code == 403
    for path in ("merge/", "decide/", "undo/", "submit/"):
        assert client.post(page(world, disputed, path)).status_code == 403, path
    assert not Annotation.objects.filter(document=disputed, kind="gold").exists()


def test_a_reviewer_opens_both_pages_and_may_post(client: Any, world: World, disputed: Any) -> None:
    client.force_login(world.reviewer)
    queue = client.get(f"/p/{world.project.slug}/adjudication/")
    assert queue.status_code == 200
    assert ">Adjudication</a>" in queue.content.decode()
    assert client.get(page(world, disputed)).status_code == 200
    for path in ("merge/", "decide/", "undo/", "submit/"):
        response = client.post(page(world, disputed, path))
        assert response.status_code == 302, path
        assert response["Location"] == page(world, disputed)


def test_the_queue_lists_the_disputed_document_with_its_disagreement(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.lead)
    response = client.get(f"/p/{world.project.slug}/adjudication/")
    html = response.content.decode()
    assert page(world, disputed) in html
    assert disputed.title in html
    assert "ann1, ann2" in html
    assert "No gold" in html
    assert response.context["counts"]["needing_gold"] == 1
    assert [row["pk"] for row in response.context["rows"]] == [disputed.pk]
    assert response.context["rows"][0]["disagreement"].endswith("%")


def test_merge_then_accept_then_reject_then_submit_through_the_pages(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.reviewer)
    before = client.get(page(world, disputed)).content.decode()
    assert "Run the merge" in before

    merged = client.post(page(world, disputed, "merge/"), {"policy": "majority"}, follow=True)
    assert "Merged (majority)" in merged.content.decode()
    assert gold_spans(disputed) == [(0, 9, "Claim")]

    html = client.get(page(world, disputed)).content.decode()
    assert "Run the merge" not in html
    assert html.count('accesskey="a"') == 1 and html.count('accesskey="r"') == 1
    gold = Annotation.objects.get(document=disputed, kind="gold")

    accepted = client.post(
        page(world, disputed, "decide/"),
        {
            "start": 10,
            "end": 14,
            "label": "Justification",
            "decision": "accept",
            "version": gold.version,
        },
        follow=True,
    )
    assert "Accepted [10, 14) Justification" in accepted.content.decode()
    assert gold_spans(disputed) == [(0, 9, "Claim"), (10, 14, "Justification")]
    span = Span.objects.get(annotation=gold, label__name="Justification")
    assert span.provenance["decided_by"] == world.reviewer.pk
    assert span.provenance["proposed_by"] == ["ann2"]

    gold.refresh_from_db()
    rejected = client.post(
        page(world, disputed, "decide/"),
        {
            "start": 10,
            "end": 14,
            "label": "Critique",
            "decision": "reject",
            "version": gold.version,
        },
        follow=True,
    )
    assert "Rejected [10, 14) Critique" in rejected.content.decode()
    gold.refresh_from_db()
    assert [10, 14, "Critique"] in gold.adjudication["rejected"]
    assert gold_spans(disputed) == [(0, 9, "Claim"), (10, 14, "Justification")]
    assert "No open candidates" in rejected.content.decode()
    assert "reviewer" in rejected.content.decode()  # decided by

    submitted = client.post(page(world, disputed, "submit/"), follow=True)
    assert "Gold submitted." in submitted.content.decode()
    gold.refresh_from_db()
    assert gold.status == "submitted" and gold.submitted_at is not None


def test_a_stale_version_or_a_second_merge_shows_the_error_and_changes_nothing(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.lead)
    client.post(page(world, disputed, "merge/"), {"policy": "unanimous"})
    again = client.post(page(world, disputed, "merge/"), {"policy": "majority"}, follow=True)
    assert "has begun already" in again.content.decode()
    stale = client.post(
        page(world, disputed, "decide/"),
        {"start": 10, "end": 14, "label": "Critique", "decision": "accept", "version": 0},
        follow=True,
    )
    assert "reload" in stale.content.decode()
    assert gold_spans(disputed) == [(0, 9, "Claim")]


def test_html_in_a_label_or_a_username_is_escaped(client: Any, world: World, disputed: Any) -> None:
    Label.objects.filter(project=world.project, name="Critique").update(name="<i>Crit</i>")
    world.annotator.username = "<b>ann1</b>"
    world.annotator.save()
    client.force_login(world.lead)
    for url in (f"/p/{world.project.slug}/adjudication/", page(world, disputed)):
        html = client.get(url).content.decode()
        assert "<b>ann1</b>" not in html, url
        assert "&lt;b&gt;ann1&lt;/b&gt;" in html, url
    html = client.get(page(world, disputed)).content.decode()
    assert "<i>Crit</i>" not in html
    assert "&lt;i&gt;Crit&lt;/i&gt;" in html


def test_a_candidate_is_edited_on_the_page_then_the_decision_is_undone(
    client: Any, world: World, disputed: Any
) -> None:
    client.force_login(world.reviewer)
    client.post(page(world, disputed, "merge/"), {"policy": "majority"})
    html = client.get(page(world, disputed)).content.decode()
    assert "Edit, then accept" in html and 'name="edit_stance"' in html
    gold = Annotation.objects.get(document=disputed, kind="gold")
    edited = client.post(
        page(world, disputed, "decide/"),
        {
            "start": 10,
            "end": 14,
            "label": "Critique",
            "decision": "accept",
            "version": gold.version,
            "edited": "1",
            "edit_start": "9",
            "edit_end": "14",
            "edit_label": "Critique",
            "edit_source": "Human Rights Watch",
            "edit_stance": "against",
        },
        follow=True,
    )
    text = edited.content.decode()
    assert "Accepted with corrections [10, 14) Critique" in text
    span = Span.objects.get(annotation=gold, label__name="Critique")
    assert (span.start, span.end) == (9, 14)
    assert span.attributes == {"source": "Human Rights Watch", "stance": "against"}
    assert "edited" in text and "Undo the last decision" in text

    bad = client.post(
        page(world, disputed, "decide/"),
        {
            "start": 10,
            "end": 14,
            "label": "Justification",
            "decision": "accept",
            "edited": "1",
            "edit_end": "99999",
        },
        follow=True,
    )
    assert "The edited span is not valid" in bad.content.decode()
    assert Span.objects.filter(annotation=gold).count() == 2

    gold.refresh_from_db()
    undone = client.post(page(world, disputed, "undo/"), {"version": gold.version}, follow=True)
    assert "Undid the acceptance of [10, 14) Critique" in undone.content.decode()
    assert gold_spans(disputed) == [(0, 9, "Claim")]
    nothing = client.post(page(world, disputed, "undo/"), follow=True)
    assert (
        "nothing to undo" in nothing.content.decode() or "No decision" in nothing.content.decode()
    )
