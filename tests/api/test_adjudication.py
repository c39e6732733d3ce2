"""Adjudication through the API: the automatic merge, deciding candidates with provenance,
and the queue ordered by disagreement."""

from __future__ import annotations

from typing import Any

from projects.models import Annotation, Span

from ..conftest import World, client_for


def submit(world: World, user: Any, doc: Any, spans: list[tuple[int, int, str]]) -> None:
    client = client_for(user)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    for start, end, label in spans:
        r = client.post(
            base + "spans/", {"start": start, "end": end, "label": label}, format="json"
        )
        assert r.status_code == 201, r.content
    client.post(base + "submit/", {}, format="json")


def gold_url(world: World, doc: Any, path: str = "") -> str:
    return f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/gold/{path}"


def test_the_merge_takes_what_both_annotators_agree_on_and_offers_the_rest(world: World) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(0, 9, "Claim"), (10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(0, 9, "Claim"), (10, 14, "Justification")])
    lead = client_for(world.lead)
    r = lead.post(gold_url(world, doc, "merge/"), {"policy": "majority"}, format="json")
    assert r.status_code == 201, r.content
    body = lead.get(gold_url(world, doc)).json()
    assert [(s["start"], s["end"], s["label"]) for s in body["gold"]["spans"]] == [(0, 9, "Claim")]
    assert body["gold"]["spans"][0]["provenance"]["proposed_by"] == ["ann1", "ann2"]
    assert body["gold"]["gold"] is True and body["gold"]["annotator"] is None
    open_ = {(c["start"], c["end"], c["label"]): c["proposed_by"] for c in body["candidates"]}
    assert open_ == {(10, 14, "Critique"): ["ann1"], (10, 14, "Justification"): ["ann2"]}
    again = lead.post(gold_url(world, doc, "merge/"), {}, format="json")
    assert again.status_code == 409


def test_a_reviewer_accepts_one_candidate_and_rejects_another_with_provenance(
    world: World,
) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(10, 14, "Justification")])
    reviewer = client_for(world.reviewer)
    assert reviewer.post(gold_url(world, doc, "merge/"), {}, format="json").status_code == 201
    accept = reviewer.post(
        gold_url(world, doc, "decide/"),
        {"start": 10, "end": 14, "label": "Justification", "decision": "accept"},
        format="json",
    )
    assert accept.status_code == 200, accept.content
    reject = reviewer.post(
        gold_url(world, doc, "decide/"),
        {"start": 10, "end": 14, "label": "Critique", "decision": "reject"},
        format="json",
    )
    assert reject.status_code == 200
    body = reviewer.get(gold_url(world, doc)).json()
    assert body["candidates"] == []
    gold_span = Span.objects.get(annotation__kind="gold")
    assert gold_span.label.name == "Justification"
    assert gold_span.provenance["proposed_by"] == ["ann2"]
    assert gold_span.provenance["decided_by"] == world.reviewer.pk
    # a decided candidate cannot be decided again
    twice = reviewer.post(
        gold_url(world, doc, "decide/"),
        {"start": 10, "end": 14, "label": "Critique", "decision": "accept"},
        format="json",
    )
    assert twice.status_code == 404


def test_a_stale_gold_version_is_refused(world: World) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(0, 4, "Claim")])
    lead = client_for(world.lead)
    version = lead.post(gold_url(world, doc, "merge/"), {}, format="json").json()["version"]
    r = lead.post(
        gold_url(world, doc, "decide/"),
        {"start": 10, "end": 14, "label": "Critique", "decision": "accept", "version": version - 1},
        format="json",
    )
    assert r.status_code == 409
    assert not Span.objects.filter(annotation__kind="gold").exists()


def test_the_queue_puts_the_most_disagreed_document_first_and_finished_gold_last(
    world: World,
) -> None:
    agree, differ = world.documents[0], world.documents[1]
    submit(world, world.annotator, agree, [(0, 9, "Claim")])
    submit(world, world.annotator2, agree, [(0, 9, "Claim"), (10, 14, "Critique")])
    submit(world, world.annotator, differ, [(0, 9, "Claim")])
    submit(world, world.annotator2, differ, [(0, 9, "Critique")])
    url = f"/api/v1/projects/{world.project.pk}/adjudication/"
    reviewer = client_for(world.reviewer)
    body = reviewer.get(url).json()
    assert [r["document"] for r in body["results"]] == [differ.pk, agree.pk]
    assert body["results"][0]["disagreement"] == 1.0
    assert body["progress"] == {
        "multiply_annotated": 2,
        "needing_gold": 2,
        "gold_begun": 0,
        "gold_submitted": 0,
    }
    reviewer.post(gold_url(world, differ, "merge/"), {}, format="json")
    assert reviewer.post(gold_url(world, differ, "submit/"), {}, format="json").status_code == 200
    body = reviewer.get(url).json()
    assert [r["document"] for r in body["results"]] == [agree.pk, differ.pk]
    assert body["progress"]["gold_submitted"] == 1


def test_only_documents_below_the_project_threshold_are_routed_to_the_queue(
    world: World,
) -> None:
    agree, differ = world.documents[0], world.documents[1]
    for doc in (agree, differ):
        submit(world, world.annotator, doc, [(0, 9, "Claim"), (10, 14, "Claim")])
    submit(world, world.annotator2, agree, [(0, 9, "Claim"), (10, 14, "Claim")])
    submit(world, world.annotator2, differ, [(0, 9, "Claim"), (10, 14, "Critique")])
    lead = client_for(world.lead)
    r = lead.patch(
        f"/api/v1/projects/{world.project.pk}/", {"adjudication_threshold": 0.6}, format="json"
    )
    assert r.status_code == 200 and r.json()["adjudication_threshold"] == 0.6
    body = lead.get(f"/api/v1/projects/{world.project.pk}/adjudication/").json()
    # agree: 4 of 4 spans unanimous (1.0, not below 0.6); differ: 2 of 4 (0.5 < 0.6)
    assert [r["document"] for r in body["results"]] == [differ.pk]
    assert body["progress"]["multiply_annotated"] == 2 and body["progress"]["needing_gold"] == 1
    bad = lead.patch(
        f"/api/v1/projects/{world.project.pk}/", {"adjudication_threshold": 2}, format="json"
    )
    assert bad.status_code == 400


def test_an_annotator_cannot_see_or_make_the_gold(world: World) -> None:
    doc = world.documents[0]
    annotator = client_for(world.annotator)
    assert annotator.get(gold_url(world, doc)).status_code == 403
    assert annotator.post(gold_url(world, doc, "merge/"), {}, format="json").status_code == 403
    assert not Annotation.objects.filter(kind="gold").exists()


def _decide(client: Any, world: World, doc: Any, **body: Any) -> Any:
    return client.post(gold_url(world, doc, "decide/"), body, format="json")


def test_a_candidate_is_corrected_before_it_is_accepted(world: World) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(10, 13, "Justification")])
    lead = client_for(world.lead)
    assert lead.post(gold_url(world, doc, "merge/"), {}, format="json").status_code == 201
    r = _decide(
        lead,
        world,
        doc,
        start=10,
        end=13,
        label="Justification",
        decision="accept",
        edit={"end": 14, "attributes": {"source": "Human Rights Watch", "stance": "against"}},
    )
    assert r.status_code == 200, r.content
    span = Span.objects.get(annotation__kind="gold")
    assert (span.start, span.end, span.label.name) == (10, 14, "Justification")
    assert span.attributes == {"source": "Human Rights Watch", "stance": "against"}
    assert span.provenance["candidate"] == [10, 13, "Justification"]
    assert span.provenance["edited"] is True
    assert span.provenance["proposed_by"] == ["ann2"]
    # the corrected candidate is no longer offered; the other one still is
    body = lead.get(gold_url(world, doc)).json()
    assert [(c["start"], c["end"], c["label"]) for c in body["candidates"]] == [
        (10, 14, "Critique")
    ]


def test_an_invalid_correction_names_the_problem_and_changes_nothing(world: World) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(10, 13, "Justification")])
    lead = client_for(world.lead)
    lead.post(gold_url(world, doc, "merge/"), {}, format="json")
    version = Annotation.objects.get(kind="gold").version
    cases = [
        ({"end": len(doc.text) + 5}, "edit.end"),
        ({"label": "Opinion"}, "edit.label"),
        ({"attributes": {"stance": "maybe"}}, "edit.attributes.stance"),
    ]
    for edit, field in cases:
        r = _decide(
            lead, world, doc, start=10, end=13, label="Justification", decision="accept", edit=edit
        )
        assert r.status_code == 400, (edit, r.content)
        fields = [d.get("field") for d in r.json()["error"]["details"]]
        assert field in fields, (edit, fields)
    assert not Span.objects.filter(annotation__kind="gold").exists()
    assert Annotation.objects.get(kind="gold").version == version
    rejected_edit = _decide(
        lead,
        world,
        doc,
        start=10,
        end=13,
        label="Justification",
        decision="reject",
        edit={"end": 14},
    )
    assert rejected_edit.status_code == 400


def test_decisions_are_undone_last_first_or_by_candidate(world: World) -> None:
    doc = world.documents[0]
    submit(world, world.annotator, doc, [(0, 9, "Claim"), (10, 14, "Critique")])
    submit(world, world.annotator2, doc, [(0, 8, "Claim"), (10, 14, "Justification")])
    lead = client_for(world.lead)
    lead.post(gold_url(world, doc, "merge/"), {}, format="json")
    for label, decision in (("Critique", "accept"), ("Justification", "reject")):
        r = _decide(lead, world, doc, start=10, end=14, label=label, decision=decision)
        assert r.status_code == 200, r.content
    r = _decide(lead, world, doc, start=0, end=8, label="Claim", decision="accept")
    assert r.status_code == 200
    open_before = {
        (c["start"], c["end"], c["label"])
        for c in lead.get(gold_url(world, doc)).json()["candidates"]
    }
    assert open_before == {(0, 9, "Claim")}

    # the last decision: accepting [0, 8) Claim
    r = lead.post(gold_url(world, doc, "undo/"), {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["undone"]["candidate"] == [0, 8, "Claim"]
    assert not Span.objects.filter(annotation__kind="gold", start=0).exists()

    # a named one: the rejection of Justification, with a stale version refused first
    named = {"start": 10, "end": 14, "label": "Justification"}
    stale = lead.post(gold_url(world, doc, "undo/"), {**named, "version": 0}, format="json")
    assert stale.status_code == 409
    version = Annotation.objects.get(kind="gold").version
    r = lead.post(gold_url(world, doc, "undo/"), {**named, "version": version}, format="json")
    assert r.status_code == 200, r.content
    open_after = {
        (c["start"], c["end"], c["label"])
        for c in lead.get(gold_url(world, doc)).json()["candidates"]
    }
    assert open_after == {(0, 9, "Claim"), (0, 8, "Claim"), (10, 14, "Justification")}
    gold_spans = list(
        Span.objects.filter(annotation__kind="gold").values_list("start", "end", "label__name")
    )
    assert gold_spans == [(10, 14, "Critique")]

    again = lead.post(gold_url(world, doc, "undo/"), named, format="json")
    assert again.status_code == 404
    half = lead.post(gold_url(world, doc, "undo/"), {"start": 10}, format="json")
    assert half.status_code == 400
    lead.post(gold_url(world, doc, "undo/"), {}, format="json")  # the Critique acceptance
    nothing = lead.post(gold_url(world, doc, "undo/"), {}, format="json")
    assert nothing.status_code == 409
    assert "no decision" in nothing.json()["error"]["message"].lower()
