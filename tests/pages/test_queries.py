"""The overview must not grow a query per document (or per member)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.services.documents import assignments_auto
from tests.factories import make_documents


@pytest.mark.parametrize("persona", ["lead", "reviewer", "annotator"])
def test_the_overview_renders_with_a_fixed_number_of_queries_as_documents_grow(
    client: Any, world: Any, persona: str, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.persona(persona))
    url = f"/p/{world.project.slug}/"
    client.get(url)  # warm up the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make_documents(world.project, 120)
    assignments_auto(project=world.project, actor_id=world.lead.pk)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"]) == 50
    with django_assert_max_num_queries(len(few)):
        assert client.get(url + "?page=3").status_code == 200
