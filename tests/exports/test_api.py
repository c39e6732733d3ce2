"""Exports through the API: request, poll, download (with its checksum), manifest, delete;
who may do what; another project's export is never found; bad options name their field; the
list's query count does not grow."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from projects.models import Export, ExportStatus, Membership, Role

from ..conftest import World, client_for
from .conftest import api, build_now


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_lead_requests_polls_and_downloads_an_export(annotated: World) -> None:
    world = annotated
    client = client_for(world.lead)
    r = client.post(api(world), {"format": "jsonl", "annotations": "all"}, format="json")
    assert r.status_code == 202, r.content
    created = r.json()
    assert created["status"] == "pending" and created["format"] == "jsonl"
    assert r["Location"] == created["urls"]["self"] == api(world, f"{created['id']}/")
    assert created["urls"]["download"] is None
    assert created["requested_by"] == "lead"
    assert created["options"]["annotations"] == "all"

    build_now(created["id"])  # what the worker does

    polled = client.get(created["urls"]["self"]).json()
    assert polled["status"] == "done", polled
    assert polled["progress"] == {"done": 3, "total": 3, "percent": 100}
    assert polled["counts"]["documents"] == 2  # document 2 has no submitted work
    assert polled["counts"]["annotations"] == 5  # 2 x 2 annotators + 1 gold
    # 2 spans per annotator on each document, and the two the gold merge agreed on
    assert (polled["counts"]["spans"], polled["counts"]["relations"]) == (10, 5)
    assert polled["counts"]["stances"] == 5
    download = client.get(polled["urls"]["download"])
    assert download.status_code == 200
    content = body_of(download)
    assert len(content) == polled["size"]
    assert hashlib.sha256(content).hexdigest() == polled["sha256"] == download["X-Export-SHA256"]
    assert (
        download["Content-Disposition"]
        == f'attachment; filename="{world.project.slug}-{created["id"]}.jsonl"'
    )
    lines = [json.loads(line) for line in content.decode().splitlines()]
    assert [d["id"] for d in lines] == sorted(d.external_id for d in world.documents[:2])
    first = next(d for d in lines if d["id"] == world.documents[0].external_id)
    names = [a["annotator"] for a in first["annotations"]]
    assert names == ["ann1", "ann2", None]  # by name, the gold last
    assert first["annotations"][2]["gold"] is True
    span = first["annotations"][0]["spans"][0]
    assert span["text"] == world.documents[0].text[span["start"] : span["end"]]
    assert first["annotations"][0]["relations"] == [{"from": "j1", "to": "c1", "type": "supports"}]
    assert first["annotations"][0]["stances"][0]["value"] == "favor"

    manifest = client.get(polled["urls"]["manifest"])
    assert manifest.status_code == 200
    data = json.loads(manifest.content)
    assert data["counts"] == polled["counts"]
    assert [entry["sha256"] for entry in data["files"].values()] == [polled["sha256"]]
    assert data["options"] == polled["options"]

    listed = client.get(api(world)).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == created["id"]


def test_the_same_options_give_a_byte_identical_file(annotated: World) -> None:
    client = client_for(annotated.lead)
    options = {
        "format": "csv",
        "annotations": "merged",
        "splits": {"train": 0.5, "test": 0.5},
        "seed": 3,
    }
    ids = [client.post(api(annotated), options, format="json").json()["id"] for _ in range(2)]
    first, second = (build_now(pk) for pk in ids)
    assert first.status == second.status == "done"
    assert first.sha256 == second.sha256 and first.file.name != second.file.name
    assert first.manifest == second.manifest


def test_bad_options_are_a_400_naming_each_field(world: World) -> None:
    r = client_for(world.lead).post(
        api(world),
        {"format": "xml", "annotations": "some", "splits": {"train": 0.5}, "colour": 1},
        format="json",
    )
    assert r.status_code == 400, r.content
    fields = {d.get("field") for d in r.json()["error"]["details"]}
    assert {"format", "annotations", "splits", "colour"} <= fields
    assert "format" in r.json()["error"]["message"]
    assert not Export.objects.exists()


def test_a_json_array_is_not_options(world: World) -> None:
    r = client_for(world.lead).post(api(world), ["jsonl"], format="json")
    assert r.status_code == 400


@pytest.mark.parametrize("value", [{}, [], 3, None])
def test_a_format_that_is_not_a_name_is_a_400(world: World, value: Any) -> None:
    """Found by the schema fuzzer: an object as the format was a 500."""
    r = client_for(world.lead).post(api(world), {"format": value}, format="json")
    assert r.status_code == 400, r.content
    assert [d["field"] for d in r.json()["error"]["details"]] == ["format"]


def test_a_download_before_the_export_is_done_is_a_409(world: World) -> None:
    client = client_for(world.lead)
    created = client.post(api(world), {"format": "jsonl"}, format="json").json()
    for what in ("download/", "manifest/"):
        r = client.get(api(world, f"{created['id']}/{what}"))
        assert r.status_code == 409, r.content
        assert r.json()["error"]["code"] == "not_ready"
        assert r.json()["error"]["status"] == "pending"


@pytest.mark.parametrize("persona", ["lead", "reviewer", "consumer"])
def test_leads_reviewers_and_consumers_export_and_download(annotated: World, persona: str) -> None:
    client = client_for(annotated.persona(persona))
    created = client.post(api(annotated), {"format": "conll"}, format="json")
    assert created.status_code == 202, created.content
    build_now(created.json()["id"])
    download = client.get(api(annotated, f"{created.json()['id']}/download/"))
    assert download.status_code == 200
    assert body_of(download)


def test_annotators_cannot_export_or_download(annotated: World) -> None:
    export = Export.objects.create(project=annotated.project, format="jsonl")
    build_now(export.pk)
    client = client_for(annotated.annotator)
    assert client.post(api(annotated), {"format": "jsonl"}, format="json").status_code == 403
    for path in ("", f"{export.pk}/", f"{export.pk}/download/", f"{export.pk}/manifest/"):
        r = client.get(api(annotated, path))
        assert r.status_code == 403, path
        assert "annotator" in r.json()["error"]["message"]
    assert client.delete(api(annotated, f"{export.pk}/")).status_code == 403


def test_an_export_of_project_a_is_not_found_under_project_b_whoever_asks(
    annotated: World,
) -> None:
    world = annotated
    export = Export.objects.create(project=world.project, format="jsonl")
    build_now(export.pk)
    # a lead of both projects: A's export id under B's URL is 404
    Membership.objects.create(project=world.other_project, user=world.lead, role=Role.LEAD)
    under_b = f"/api/v1/projects/{world.other_project.pk}/exports/{export.pk}/"
    client = client_for(world.lead)
    for path in ("", "download/", "manifest/"):
        assert client.get(under_b + path).status_code == 404, path
    assert client.delete(under_b).status_code == 404
    assert client.get(api(world, f"{export.pk}/download/")).status_code == 200
    # a member of B only gets 404 on A's URLs (nothing reveals that A exists)
    other = client_for(world.other_lead)
    for path in ("", f"{export.pk}/", f"{export.pk}/download/", f"{export.pk}/manifest/"):
        assert other.get(api(world, path)).status_code == 404, path
    assert Export.objects.filter(pk=export.pk).exists()


def test_a_lead_deletes_any_export_and_its_file(annotated: World) -> None:
    from django.core.files.storage import default_storage

    export = Export.objects.create(
        project=annotated.project, format="jsonl", requested_by=annotated.consumer
    )
    name = build_now(export.pk).file.name
    assert default_storage.exists(name)
    r = client_for(annotated.lead).delete(api(annotated, f"{export.pk}/"))
    assert r.status_code == 204
    assert not Export.objects.filter(pk=export.pk).exists()
    assert not default_storage.exists(name)
    assert client_for(annotated.lead).get(api(annotated, f"{export.pk}/")).status_code == 404


def test_others_delete_only_their_own_exports(annotated: World) -> None:
    mine = Export.objects.create(
        project=annotated.project, format="csv", requested_by=annotated.consumer
    )
    theirs = Export.objects.create(
        project=annotated.project, format="csv", requested_by=annotated.reviewer
    )
    client = client_for(annotated.consumer)
    refused = client.delete(api(annotated, f"{theirs.pk}/"))
    assert refused.status_code == 403 and "lead" in refused.json()["error"]["message"]
    assert client.delete(api(annotated, f"{mine.pk}/")).status_code == 204
    assert list(Export.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_token_authentication_works_for_the_whole_flow(annotated: World) -> None:
    from rest_framework.test import APIClient

    from projects.services.tokens import token_create

    _token, key = token_create(user_id=annotated.consumer.pk, name="ml")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    created = client.post(api(annotated), {"format": "jsonl"}, format="json")
    assert created.status_code == 202, created.content
    build_now(created.json()["id"])
    assert client.get(created["Location"]).json()["status"] == "done"
    assert client.get(api(annotated, f"{created.json()['id']}/download/")).status_code == 200


def test_the_export_list_query_count_does_not_grow(
    annotated: World, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(n: int) -> None:
        for _ in range(n):
            export = Export.objects.create(
                project=annotated.project, format="jsonl", requested_by=annotated.reviewer
            )
            build_now(export.pk)

    client = client_for(annotated.lead)
    make(2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(api(annotated)).json()["count"] == 2
    baseline = len(small.captured_queries)
    make(12)
    with django_assert_max_num_queries(baseline):
        assert len(client.get(api(annotated)).json()["results"]) == 14


def test_the_openapi_schema_documents_the_export_endpoints(client: Any, db: Any) -> None:
    paths = client.get("/api/schema/?format=json").json()["paths"]
    base = "/api/v1/projects/{project_id}/exports/"
    assert {"get", "post"} <= set(paths[base])
    assert {"get", "delete"} <= set(paths[base + "{export_id}/"])
    assert "get" in paths[base + "{export_id}/download/"]
    assert "get" in paths[base + "{export_id}/manifest/"]
    assert "202" in paths[base]["post"]["responses"]
    assert "503" in paths[base]["post"]["responses"]


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_request_is_a_503_and_the_row_is_failed(
    world: World, monkeypatch: Any
) -> None:
    """The publish fails the way kombu fails when the broker cannot be reached (the same
    approach as the agreement test; a real worker runs exports in test_worker_exports.py).
    The database is transactional here so the publish really happens on commit."""
    from kombu.exceptions import OperationalError

    from projects.tasks import export_run

    def unreachable(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(export_run, "apply_async", unreachable)
    r = client_for(world.lead).post(api(world), {"format": "hf"}, format="json")
    assert r.status_code == 503, r.content
    assert r.json()["error"]["code"] == "unavailable"
    export = Export.objects.get()
    assert export.status == ExportStatus.FAILED
    assert "task queue could not be reached" in export.error
    assert "Connection refused" in export.error
    assert export.finished_at is not None
    assert not Export.objects.filter(status=ExportStatus.PENDING).exists()


@pytest.mark.django_db(transaction=True)
def test_a_request_publishes_the_build_task_after_the_commit(
    world: World, monkeypatch: Any, settings: Any
) -> None:
    from projects.tasks import export_run

    published: list[tuple[Any, ...]] = []

    def publish(args: Any, **options: Any) -> None:
        # the row is committed and visible before the task is published
        assert Export.objects.filter(pk=args[0], status="pending").exists()
        published.append((args, options["queue"]))

    monkeypatch.setattr(export_run, "apply_async", publish)
    r = client_for(world.consumer).post(api(world), {"format": "jsonl"}, format="json")
    assert r.status_code == 202
    assert published == [([r.json()["id"]], settings.CELERY_TASK_DEFAULT_QUEUE)]
