"""Concurrent tabs: writes to one annotation are serialised by a row lock, versions never
skip or repeat, and a stale version never overwrites."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from projects.models import Annotation, Span

from ..conftest import World, client_for

THREADS = 6


def _race(world: World, bodies: list[dict[str, Any]]) -> list[int]:
    url = f"/api/v1/projects/{world.project.pk}/documents/{world.documents[0].pk}/annotation/spans/"
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    lock = threading.Lock()

    def one(body: dict[str, Any]) -> None:
        try:
            client = client_for(world.annotator)
            barrier.wait()
            status = client.post(url, body, format="json").status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_with_the_same_version_let_exactly_one_through(world: World) -> None:
    bodies = [
        {"start": 0, "end": 9, "label": "Claim", "client_id": f"tab{i}", "version": 0}
        for i in range(THREADS)
    ]
    assert _race(world, bodies) == [201] + [409] * (THREADS - 1)
    annotation = Annotation.objects.get(annotator=world.annotator)
    assert annotation.version == 1
    assert Span.objects.filter(annotation=annotation).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_without_versions_all_land_with_distinct_versions(
    world: World,
) -> None:
    bodies = [
        {"start": i, "end": i + 5, "label": "Claim", "client_id": f"tab{i}"} for i in range(THREADS)
    ]
    assert _race(world, bodies) == [201] * THREADS
    annotation = Annotation.objects.get(annotator=world.annotator)
    assert annotation.version == THREADS
    assert Span.objects.filter(annotation=annotation).count() == THREADS


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_create_make_one_span(world: World) -> None:
    body = {"start": 0, "end": 9, "label": "Claim", "client_id": "same", "version": 0}
    statuses = _race(world, [body] * THREADS)
    assert statuses == [200] * (THREADS - 1) + [201]
    assert Span.objects.filter(client_id="same").count() == 1


def test_a_stale_first_write_gets_409_with_an_empty_current_state(world: Any) -> None:
    """The first write creates the annotation row inside its transaction; refused as stale,
    the row is rolled back, and the 409 still answers with the (empty) current state rather
    than failing to find it (found by the schema fuzzer: it was a 500)."""
    doc = world.documents[0]
    url = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/"
    r = client_for(world.annotator).post(
        url, {"start": 0, "end": 5, "label": "Claim", "version": 3}, format="json"
    )
    assert r.status_code == 409, r.content
    current = r.json()["error"]["current"]
    assert current["version"] == 0 and current["spans"] == [] and current["annotator"] == "ann1"
    assert not Annotation.objects.filter(document=doc).exists()
