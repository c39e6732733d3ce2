"""Ids from URLs and query strings that cannot name a row are 404s and 400s, never 500s
(the schema fuzzer found ``?annotator=<30 digits>`` raising OverflowError)."""

from __future__ import annotations

from typing import Any

import pytest

from projects.ids import MAX_ID, as_id

from ..conftest import World, client_for

HUGE = "9" * 30


def test_as_id_accepts_only_ascii_digits_in_range() -> None:
    assert as_id("42") == 42 and as_id(str(MAX_ID)) == MAX_ID
    for bad in (str(MAX_ID + 1), HUGE, "²", "١٢", "-1", "4 2", "", "0x10"):
        assert as_id(bad) is None, bad


@pytest.mark.parametrize(
    "path",
    [
        f"projects/{HUGE}/",
        "projects/²/",
        "projects/{p}/documents/" + HUGE + "/",
        "projects/{p}/documents/" + HUGE + "/annotation/",
        "projects/{p}/assignments/" + HUGE + "/",
    ],
)
def test_an_impossible_id_in_the_path_is_not_found(world: World, path: str) -> None:
    url = "/api/v1/" + path.replace("{p}", str(world.project.pk))
    assert client_for(world.lead).get(url).status_code == 404


@pytest.mark.parametrize("value", [HUGE, "²", "abc"])
@pytest.mark.parametrize("endpoint", ["documents/", "assignments/"])
def test_an_impossible_annotator_filter_is_a_400_naming_it(
    world: World, endpoint: str, value: str
) -> None:
    r = client_for(world.lead).get(
        f"/api/v1/projects/{world.project.pk}/{endpoint}", {"annotator": value}
    )
    assert r.status_code == 400, r.content
    assert r.json()["error"]["details"][0]["field"] == "annotator"


def test_an_impossible_document_id_in_a_page_url_is_not_found(client: Any, world: World) -> None:
    client.force_login(world.lead)
    assert client.get(f"/p/{world.project.slug}/d/{HUGE}/").status_code == 404
