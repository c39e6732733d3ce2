"""Saving annotations through the API: versions, idempotent client ids, blind mode, errors."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Annotation, AuditEvent, Span, StanceTarget

from ..conftest import World, client_for


def url(world: World, path: str = "", doc: Any = None) -> str:
    doc = doc or world.documents[0]
    return f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/{path}"


def test_annotator_creates_a_span_and_gets_its_text_and_a_new_version(world: World) -> None:
    client = client_for(world.annotator)
    r = client.post(
        url(world, "spans/"),
        {"start": 0, "end": 9, "label": "Claim", "client_id": "c1", "version": 0},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["version"] == 1
    assert body["span"] == {
        "id": "c1",
        "start": 0,
        "end": 9,
        "label": "Claim",
        "text": world.documents[0].text[0:9],
        "attributes": {},
    }
    mine = client.get(url(world)).json()
    assert mine["version"] == 1 and [s["id"] for s in mine["spans"]] == ["c1"]


def test_the_same_client_id_sent_twice_creates_one_span(world: World) -> None:
    client = client_for(world.annotator)
    body = {"start": 0, "end": 9, "label": "Claim", "client_id": "retry-me", "version": 0}
    first = client.post(url(world, "spans/"), body, format="json")
    second = client.post(url(world, "spans/"), body, format="json")  # a retry with the old version
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["span"] == first.json()["span"]
    assert Span.objects.filter(client_id="retry-me").count() == 1
    assert second.json()["version"] == 1
    # the retry changed nothing: not the stored version, not the audit trail
    assert client.get(url(world)).json()["version"] == 1
    assert AuditEvent.objects.filter(action="span.create").count() == 1
    third = client.post(
        url(world, "spans/"),
        {**body, "client_id": "next", "start": 10, "end": 12, "version": 1},
        format="json",
    )
    assert (third.status_code, third.json()["version"]) == (201, 2)


def test_a_client_id_reused_for_a_different_span_is_a_conflict(world: World) -> None:
    client = client_for(world.annotator)
    client.post(
        url(world, "spans/"),
        {"start": 0, "end": 9, "label": "Claim", "client_id": "x"},
        format="json",
    )
    r = client.post(
        url(world, "spans/"),
        {"start": 0, "end": 5, "label": "Claim", "client_id": "x"},
        format="json",
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "duplicate_client_id"
    assert r.json()["error"]["version"] == 1  # what the client should send, unchanged
    assert client.get(url(world)).json()["version"] == 1


def test_a_stale_version_gets_409_with_the_current_state_and_changes_nothing(world: World) -> None:
    client = client_for(world.annotator)
    client.post(
        url(world, "spans/"),
        {"start": 0, "end": 9, "label": "Claim", "client_id": "a", "version": 0},
        format="json",
    )
    # a second tab still believes the version is 0
    r = client.post(
        url(world, "spans/"),
        {"start": 10, "end": 14, "label": "Claim", "client_id": "b", "version": 0},
        format="json",
    )
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "stale_version"
    assert error["current"]["version"] == 1
    assert [s["id"] for s in error["current"]["spans"]] == ["a"]
    assert not Span.objects.filter(client_id="b").exists()
    for method, path, body in [
        ("patch", "spans/a/", {"label": "Critique", "version": 0}),
        ("delete", "spans/a/?version=0", None),
        ("post", "submit/", {"version": 0}),
        ("post", "skip/", {"version": 0, "reason": "x"}),
    ]:
        r = getattr(client, method)(url(world, path), body, format="json")
        assert r.status_code == 409, (method, path, r.content)
    annotation = Annotation.objects.get(annotator=world.annotator)
    assert annotation.version == 1 and annotation.status == "in_progress"
    assert Span.objects.get(client_id="a").label.name == "Claim"


def test_span_validation_reports_every_problem_and_names_fields(world: World) -> None:
    client = client_for(world.annotator)
    r = client.post(
        url(world, "spans/"), {"start": 50, "end": 5000, "label": "Nope"}, format="json"
    )
    assert r.status_code == 400
    fields = {d.get("field") for d in r.json()["error"]["details"]}
    assert any(f and f.endswith("end") for f in fields)
    assert any(f and f.endswith("label") for f in fields)
    assert not Span.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"start": -1, "end": 3, "label": "Claim"},
        {"start": 5, "end": 2, "label": "Claim"},
        {"start": 3, "end": 3, "label": "Claim"},
        {"start": 0, "end": 3, "label": "Claim", "attributes": {"stance": "maybe"}},
        {"start": 0, "end": 3, "label": "Claim", "attributes": {"colour": "red"}},
    ],
)
def test_invalid_spans_are_refused_with_400(world: World, body: dict[str, Any]) -> None:
    r = client_for(world.annotator).post(url(world, "spans/"), body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["message"]
    assert not Span.objects.exists()


def test_relations_follow_the_scheme_and_die_with_their_span(world: World) -> None:
    client = client_for(world.annotator)
    for cid, (start, end, label) in {"c": (0, 9, "Claim"), "j": (10, 14, "Justification")}.items():
        client.post(
            url(world, "spans/"),
            {"start": start, "end": end, "label": label, "client_id": cid},
            format="json",
        )
    r = client.post(
        url(world, "relations/"),
        {"from": "j", "to": "c", "type": "supports", "client_id": "r"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["relation"] == {"id": "r", "from": "j", "to": "c", "type": "supports"}
    bad = client.post(
        url(world, "relations/"), {"from": "c", "to": "c", "type": "supports"}, format="json"
    )
    assert bad.status_code == 400
    unknown = client.post(
        url(world, "relations/"), {"from": "j", "to": "zz", "type": "supports"}, format="json"
    )
    assert unknown.status_code == 400
    client.delete(url(world, "spans/c/"))
    assert client.get(url(world)).json()["relations"] == []


def test_document_stance_is_set_changed_and_cleared(world: World) -> None:
    client = client_for(world.annotator)
    target = StanceTarget.objects.filter(project=world.project).first()
    r = client.put(url(world, f"stances/{target.pk}/"), {"value": "against"}, format="json")
    assert r.status_code == 200
    assert r.json()["stance"]["value"] == "against"
    assert (
        client.put(
            url(world, f"stances/{target.pk}/"), {"value": "sideways"}, format="json"
        ).status_code
        == 400
    )
    assert client.get(url(world)).json()["stances"][0]["value"] == "against"
    assert client.delete(url(world, f"stances/{target.pk}/")).status_code == 200
    assert client.get(url(world)).json()["stances"] == []


def test_submit_and_skip_move_the_assignment_through_the_queue(world: World) -> None:
    client = client_for(world.annotator)
    queue = f"/api/v1/projects/{world.project.pk}/queue/"
    assert client.get(queue).json()["progress"] == {"total": 2, "submitted": 0, "skipped": 0}
    assert client.post(url(world, "submit/"), {}, format="json").status_code == 200
    no_reason = client.post(url(world, "skip/", world.documents[1]), {"reason": " "}, format="json")
    assert no_reason.status_code == 400
    assert (
        client.post(
            url(world, "skip/", world.documents[1]), {"reason": "Not English"}, format="json"
        ).status_code
        == 200
    )
    body = client.get(queue).json()
    assert body["progress"] == {"total": 2, "submitted": 1, "skipped": 1}
    assert [a["status"] for a in body["results"]] == ["submitted", "skipped"]
    assert body["results"][1]["skip_reason"] == "Not English"


def test_a_blind_annotator_cannot_see_the_other_annotators_spans_by_any_endpoint(
    world: World,
) -> None:
    doc = world.documents[0]
    other = client_for(world.annotator2)
    r = other.post(
        url(world, "spans/"),
        {
            "start": 0,
            "end": 9,
            "label": "Claim",
            "client_id": "secret",
            "attributes": {"source": "XYZZY"},
        },
        format="json",
    )
    assert r.status_code == 201
    theirs = Annotation.objects.get(annotator=world.annotator2).pk
    me = client_for(world.annotator)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/"
    responses = [
        me.get(base + "annotations/"),
        me.get(base + f"annotations/{theirs}/"),
        me.get(base + "annotation/"),
        me.get(base),
        me.get(f"/api/v1/projects/{world.project.pk}/documents/"),
        me.patch(base + "annotation/spans/secret/", {"label": "Critique"}, format="json"),
        me.delete(base + "annotation/spans/secret/"),
        # the same client id in my annotation makes my own span, never touches theirs
        me.post(
            base + "annotation/spans/",
            {"start": 0, "end": 3, "label": "Critique", "client_id": "secret"},
            format="json",
        ),
    ]
    for response in responses:
        assert b"XYZZY" not in response.content
    assert responses[1].status_code == 404
    assert all(a["annotator"] == "ann1" for a in responses[0].json())
    assert Span.objects.get(annotation_id=theirs).label.name == "Claim"
    # A reviewer sees both.
    seen = client_for(world.reviewer).get(base + "annotations/").json()
    assert {a["annotator"] for a in seen} == {"ann1", "ann2"}


def test_with_blind_mode_off_annotators_see_each_others_work_read_only(world: World) -> None:
    world.project.blind = False
    world.project.save()
    client_for(world.annotator2).post(
        url(world, "spans/"), {"start": 0, "end": 9, "label": "Claim"}, format="json"
    )
    seen = client_for(world.annotator).get(
        f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotations/"
    )
    assert [a["annotator"] for a in seen.json()] == ["ann2"]


def test_an_annotator_cannot_open_a_document_not_assigned_to_them(world: World) -> None:
    unassigned = world.documents[2]
    client = client_for(world.annotator)
    assert (
        client.get(f"/api/v1/projects/{world.project.pk}/documents/{unassigned.pk}/").status_code
        == 404
    )
    assert (
        client.post(
            url(world, "spans/", unassigned),
            {"start": 0, "end": 3, "label": "Claim"},
            format="json",
        ).status_code
        == 404
    )


def test_offsets_are_code_points_even_with_emoji(world: World) -> None:
    from ..factories import assign, make_documents

    doc = make_documents(world.project, 1, text="Smile 🙂 then Café said: no.")[0]
    assign(world.project, doc, world.annotator)
    start = doc.text.index("then")
    r = client_for(world.annotator).post(
        url(world, "spans/", doc),
        {"start": start, "end": start + 4, "label": "Claim"},
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["span"]["text"] == "then"


def test_the_document_list_filters_by_label_among_visible_spans_only(world: World) -> None:
    client_for(world.annotator2).post(
        url(world, "spans/"), {"start": 0, "end": 9, "label": "Critique"}, format="json"
    )
    docs = f"/api/v1/projects/{world.project.pk}/documents/?label=Critique"
    assert client_for(world.annotator).get(docs).json()["count"] == 0  # blind
    seen = client_for(world.reviewer).get(docs).json()
    assert [d["id"] for d in seen["results"]] == [world.documents[0].pk]
    assert seen["results"][0]["assigned"] == 2


def test_document_counts_stay_right_under_filters(world: World) -> None:
    client_for(world.annotator).post(url(world, "submit/"), {}, format="json")
    lead = client_for(world.lead)
    base = f"/api/v1/projects/{world.project.pk}/documents/"
    by_status = lead.get(base + "?status=submitted").json()["results"]
    assert [(d["id"], d["assigned"], d["submitted"]) for d in by_status] == [
        (world.documents[0].pk, 2, 1)
    ]
    by_annotator = lead.get(base + f"?annotator={world.annotator2.pk}").json()["results"]
    assert [d["assigned"] for d in by_annotator] == [2, 2]


def test_assigning_a_document_already_worked_on_shows_the_work_in_its_status(
    world: World,
) -> None:
    doc = world.documents[2]
    lead = client_for(world.lead)
    lead.post(url(world, "spans/", doc), {"start": 0, "end": 4, "label": "Claim"}, format="json")
    lead.post(url(world, "submit/", doc), {}, format="json")
    r = lead.post(
        f"/api/v1/projects/{world.project.pk}/assignments/",
        {"document": doc.pk, "annotator": "lead"},
        format="json",
    )
    assert r.status_code == 201
    assert r.json()["status"] == "submitted"


def test_the_first_change_moves_the_assignment_to_in_progress(world: World) -> None:
    client = client_for(world.annotator)
    queue = f"/api/v1/projects/{world.project.pk}/queue/"
    assert client.get(queue).json()["results"][0]["status"] == "assigned"
    client.post(url(world, "spans/"), {"start": 0, "end": 4, "label": "Claim"}, format="json")
    client.post(url(world, "spans/"), {"start": 5, "end": 9, "label": "Claim"}, format="json")
    assert client.get(queue).json()["results"][0]["status"] == "in_progress"


def test_a_retried_span_change_whose_answer_was_lost_succeeds_without_a_new_version(
    world: World,
) -> None:
    """The workspace resends a change when the network dropped its answer; by then the
    version has moved on, and the change is already there."""
    client = client_for(world.annotator)
    client.post(
        url(world, "spans/"),
        {"start": 0, "end": 9, "label": "Claim", "client_id": "a", "version": 0},
        format="json",
    )
    change = {"label": "Critique", "attributes": {"source": "US officials"}, "version": 1}
    first = client.patch(url(world, "spans/a/"), change, format="json")
    retry = client.patch(url(world, "spans/a/"), change, format="json")
    assert (first.status_code, retry.status_code) == (200, 200), retry.content
    assert retry.json()["version"] == first.json()["version"] == 2
    assert retry.json()["span"]["label"] == "Critique"
    # a different change with the stale version is still a conflict
    other = client.patch(url(world, "spans/a/"), {"label": "Claim", "version": 1}, format="json")
    assert other.status_code == 409
