"""List endpoints keep a fixed number of queries as data grows (no N+1)."""

from __future__ import annotations

from typing import Any

from projects.permissions import project_access
from projects.services import annotations as annotation_services

from ..conftest import World, client_for
from ..factories import assign, make_documents


def grow(world: World, n: int) -> None:
    """Add ``n`` documents assigned to the annotator, each with three of their spans; the
    first document of the world gets spans too, so every prefetch already runs."""
    docs = make_documents(world.project, n)
    if not world.documents[0].annotations.exists():
        docs.insert(0, world.documents[0])
    for doc in docs:
        if doc != world.documents[0]:
            assign(world.project, doc, world.annotator)
        access = project_access(world.annotator, world.project.pk)
        for i in range(3):
            annotation_services.span_create(
                access=access, document=doc, start=i * 5, end=i * 5 + 4, label="Claim"
            )


def count_queries(user: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_endpoints_do_not_grow_with_the_data(
    world: World, django_assert_max_num_queries: Any
) -> None:
    p = world.project.pk
    doc = world.documents[0]
    endpoints = [
        (world.lead, "/api/v1/projects/"),
        (world.lead, f"/api/v1/projects/{p}/documents/"),
        (world.annotator, f"/api/v1/projects/{p}/documents/"),
        (world.lead, f"/api/v1/projects/{p}/assignments/"),
        (world.annotator, f"/api/v1/projects/{p}/queue/"),
        (world.lead, f"/api/v1/projects/{p}/progress/"),
        (world.lead, f"/api/v1/projects/{p}/members/"),
        (world.lead, f"/api/v1/projects/{p}/scheme/"),
        (world.lead, f"/api/v1/projects/{p}/documents/{doc.pk}/annotations/"),
        (world.annotator, f"/api/v1/projects/{p}/documents/{doc.pk}/annotation/"),
    ]
    grow(world, 2)
    small = {url: count_queries(user, url) for user, url in endpoints}
    grow(world, 25)
    # a second annotator's work on the same document: one more annotation, same queries
    access = project_access(world.annotator2, p)
    annotation_services.span_create(access=access, document=doc, start=0, end=4, label="Claim")
    for user, url in endpoints:
        with django_assert_max_num_queries(small[url]):
            assert client_for(user).get(url).status_code == 200
    assert max(small.values()) <= 10
