"""API tokens, project creation and the scheme's rules for labels in use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import ApiToken, Label, Span

from ..conftest import World, client_for
from ..factories import PASSWORD, demo_scheme


def test_a_user_creates_a_token_with_their_password_and_uses_it(world: World) -> None:
    anon = APIClient()
    r = anon.post(
        "/api/v1/auth/tokens/",
        {"username": "ann1", "password": PASSWORD, "name": "laptop"},
        format="json",
    )
    assert r.status_code == 201
    key = r.json()["token"]
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert key not in (token.key_hash, token.prefix)  # only a hash is stored
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon.get("/api/v1/me/").json()["username"] == "ann1"
    listed = anon.get("/api/v1/auth/tokens/").json()["results"]
    assert [t["name"] for t in listed] == ["laptop"] and "token" not in listed[0]


def test_a_wrong_password_gets_no_token(world: World) -> None:
    r = APIClient().post(
        "/api/v1/auth/tokens/", {"username": "ann1", "password": "nope"}, format="json"
    )
    assert r.status_code in (401, 403)
    assert not ApiToken.objects.exists()


def test_a_revoked_or_expired_token_no_longer_works(world: World) -> None:
    client = client_for(world.annotator)
    created = client.post("/api/v1/auth/tokens/", {"name": "t"}, format="json").json()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {created['token']}")
    assert other.get("/api/v1/me/").status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{created['id']}/").status_code == 204
    assert other.get("/api/v1/me/").status_code == 401
    second = client.post("/api/v1/auth/tokens/", {"name": "t2"}, format="json").json()
    ApiToken.objects.filter(pk=second["id"]).update(expires_at=timezone.now() - timedelta(1))
    other.credentials(HTTP_AUTHORIZATION=f"Token {second['token']}")
    r = other.get("/api/v1/me/")
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def test_a_user_cannot_revoke_someone_elses_token(world: World) -> None:
    mine = (
        client_for(world.annotator)
        .post("/api/v1/auth/tokens/", {"name": "t"}, format="json")
        .json()
    )
    assert (
        client_for(world.outsider).delete(f"/api/v1/auth/tokens/{mine['id']}/").status_code == 404
    )
    assert ApiToken.objects.get(pk=mine["id"]).revoked_at is None


def test_a_token_in_the_url_is_not_accepted(world: World) -> None:
    created = (
        client_for(world.annotator)
        .post("/api/v1/auth/tokens/", {"name": "t"}, format="json")
        .json()
    )
    assert APIClient().get(f"/api/v1/me/?token={created['token']}").status_code == 401


def test_creating_a_project_makes_the_creator_its_lead(world: World) -> None:
    r = client_for(world.outsider).post(
        "/api/v1/projects/",
        {"name": "Policy debates", "scheme": demo_scheme(), "annotators_per_document": 3},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["role"] == "lead" and body["slug"] == "policy-debates"
    assert [lab["name"] for lab in body["scheme"]["span_labels"]] == [
        "Claim",
        "Justification",
        "Critique",
    ]


def test_an_invalid_scheme_names_every_problem(world: World) -> None:
    scheme = demo_scheme()
    scheme["span_labels"][0]["color"] = "blue"
    scheme["span_labels"][1]["name"] = "Claim"
    r = client_for(world.lead).put(
        f"/api/v1/projects/{world.project.pk}/scheme/", scheme, format="json"
    )
    assert r.status_code == 400
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"span_labels[0].color", "span_labels[1].name"} <= fields


def _use_label(world: World, label: str) -> None:
    client_for(world.annotator).post(
        f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotation/spans/",
        {"start": 0, "end": 9, "label": label},
        format="json",
    )


def test_a_label_in_use_cannot_be_deleted_but_can_be_retired_or_renamed(world: World) -> None:
    _use_label(world, "Critique")
    url = f"/api/v1/projects/{world.project.pk}/scheme/"
    lead = client_for(world.lead)
    scheme = lead.get(url).json()
    without = {**scheme, "span_labels": scheme["span_labels"][:2]}
    r = lead.put(url, without, format="json")
    assert r.status_code == 409
    assert "Critique" in r.json()["error"]["message"]
    assert Span.objects.filter(label__name="Critique").count() == 1
    renamed = {
        **scheme,
        "span_labels": [
            *scheme["span_labels"][:2],
            {**scheme["span_labels"][2], "name": "Objection"},
        ],
    }
    r = lead.put(url, renamed, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["version"] == scheme["version"] + 1
    assert Span.objects.get().label.name == "Objection"
    retired = {**r.json()}
    retired["span_labels"][2]["retired"] = True
    assert lead.put(url, retired, format="json").status_code == 200
    assert Label.objects.get(name="Objection").retired
    # a retired label keeps its spans, but takes no new ones
    doc = world.documents[1]
    new = client_for(world.annotator).post(
        f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/",
        {"start": 0, "end": 4, "label": "Objection"},
        format="json",
    )
    assert new.status_code == 400


def test_an_unused_label_can_be_deleted(world: World) -> None:
    url = f"/api/v1/projects/{world.project.pk}/scheme/"
    lead = client_for(world.lead)
    scheme = lead.get(url).json()
    r = lead.put(url, {**scheme, "span_labels": scheme["span_labels"][:2]}, format="json")
    assert r.status_code == 200
    assert not Label.objects.filter(project=world.project, name="Critique").exists()


def test_auto_assignment_gives_each_document_k_annotators_balanced(world: World) -> None:
    from ..factories import make_documents

    make_documents(world.project, 7)
    lead = client_for(world.lead)
    r = lead.post(f"/api/v1/projects/{world.project.pk}/assignments/auto/", {"k": 2}, format="json")
    assert r.status_code == 200, r.content
    rows = lead.get(f"/api/v1/projects/{world.project.pk}/assignments/?page_size=500").json()
    per_doc: dict[int, set[str]] = {}
    for a in rows["results"]:
        per_doc.setdefault(a["document"], set()).add(a["annotator"])
    assert all(len(v) == 2 for v in per_doc.values()) and len(per_doc) == 10
    again = lead.post(f"/api/v1/projects/{world.project.pk}/assignments/auto/", {}, format="json")
    assert again.json()["created"] == 0


def test_the_queue_keeps_a_stable_order(world: World) -> None:
    client = client_for(world.annotator)
    url = f"/api/v1/projects/{world.project.pk}/queue/"
    first = [a["document"] for a in client.get(url).json()["results"]]
    client.post(
        f"/api/v1/projects/{world.project.pk}/documents/{first[0]}/annotation/submit/",
        {},
        format="json",
    )
    body: Any = client.get(url).json()
    assert [a["document"] for a in body["results"]] == first == sorted(first)
    assert body["next_document"] == first[1]


def test_after_a_rename_new_spans_take_the_new_name_and_the_same_label_row(world: World) -> None:
    _use_label(world, "Claim")  # warms the per-process label cache at the old version
    url = f"/api/v1/projects/{world.project.pk}/scheme/"
    lead = client_for(world.lead)
    scheme = lead.get(url).json()
    scheme["span_labels"][0]["name"] = "Assertion"
    assert lead.put(url, scheme, format="json").status_code == 200
    doc = world.documents[1]
    r = client_for(world.annotator).post(
        f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/",
        {"start": 0, "end": 4, "label": "Assertion"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert {s.label_id for s in Span.objects.all()} == {scheme["span_labels"][0]["id"]}
    old = client_for(world.annotator).post(
        f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/",
        {"start": 5, "end": 9, "label": "Claim"},
        format="json",
    )
    assert old.status_code == 400
