"""The exports page: the form, a request from it, the history with progress, download and
delete (with a confirmation that needs no JavaScript), and a fixed number of queries."""

from __future__ import annotations

import re
from typing import Any

from projects.models import Export

from ..conftest import World
from .conftest import build_now


def page_url(world: World) -> str:
    return f"/p/{world.project.slug}/exports/"


def form(**overrides: Any) -> dict[str, Any]:
    data = {
        "format": "hf",
        "annotations": "all",
        "train": "0.8",
        "validation": "0.1",
        "test": "0.1",
        "seed": "7",
        "relations": "on",
        "stances": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_offers_every_format_and_option(client: Any, world: World) -> None:
    client.force_login(world.consumer)
    response = client.get(page_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for fmt in ("jsonl", "csv", "conll", "brat", "spacy", "hf"):
        assert f'value="{fmt}"' in html
    for name in ("annotations", "include_unfinished", "train", "validation", "test", "seed"):
        assert f'name="{name}"' in html
    assert 'name="relations"' in html and 'name="stances"' in html
    assert "No exports yet" in html
    # the progress script is a module file; nothing inline (a strict CSP is coming)
    assert re.search(r'<script type="module" src="[^"]+/exports/exports\.js"></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_a_posted_form_requests_the_export_with_those_options(client: Any, world: World) -> None:
    client.force_login(world.reviewer)
    response = client.post(page_url(world), form(stances=None), follow=True)
    assert response.status_code == 200
    export = Export.objects.get()
    assert export.requested_by == world.reviewer and export.format == "hf"
    assert export.options["splits"] == [["train", 0.8], ["validation", 0.1], ["test", 0.1]]
    assert export.options["seed"] == 7
    assert export.options["relations"] is True and export.options["stances"] is False
    html = response.content.decode()
    assert f"Export #{export.pk} (hf) requested" in html
    # still building: a progress bar the script polls, and a refresh for browsers without JS
    assert 'role="progressbar"' in html
    assert f'data-export-poll="/api/v1/projects/{world.project.pk}/exports/{export.pk}/"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html


def test_splits_that_do_not_add_up_are_shown_on_the_form(client: Any, world: World) -> None:
    client.force_login(world.lead)
    response = client.post(page_url(world), form(train="0.5", validation="0", test="0.1"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Split shares" in html and "add up to 1" in html
    assert not Export.objects.exists()


def test_the_history_shows_a_finished_export_with_its_checksum_and_download(
    client: Any, annotated: World
) -> None:
    world = annotated
    export = Export.objects.create(
        project=world.project,
        format="jsonl",
        requested_by=world.consumer,
        options={"format": "jsonl", "annotations": "gold"},
    )
    done = build_now(export.pk)
    client.force_login(world.consumer)
    html = client.get(page_url(world)).content.decode()
    assert f'id="export-{export.pk}"' in html
    assert "consumer" in html and "gold, submitted" in html
    assert done.sha256[:10] in html and f'title="{done.sha256}"' in html
    assert f"/api/v1/projects/{world.project.pk}/exports/{export.pk}/download/" in html
    assert "1 document, 1 annotation," in html  # the gold only
    assert "refresh" not in html  # nothing is building
    download = client.get(f"/api/v1/projects/{world.project.pk}/exports/{export.pk}/download/")
    assert download.status_code == 200  # the page's session is enough


def test_a_failed_export_shows_its_reason(client: Any, world: World) -> None:
    Export.objects.create(
        project=world.project,
        format="jsonl",
        status="failed",
        error="The task queue could not be reached.",
    )
    client.force_login(world.lead)
    assert "The task queue could not be reached." in client.get(page_url(world)).content.decode()


def test_delete_asks_for_confirmation_then_removes_the_export(client: Any, world: World) -> None:
    export = Export.objects.create(project=world.project, format="csv", requested_by=world.consumer)
    build_now(export.pk)
    client.force_login(world.consumer)
    html = client.get(page_url(world)).content.decode()
    assert f'href="?delete={export.pk}#confirm"' in html
    confirm = client.get(page_url(world) + f"?delete={export.pk}").content.decode()
    assert f"Delete export #{export.pk}?" in confirm
    action = f'action="/p/{world.project.slug}/exports/{export.pk}/delete/"'
    assert action in confirm
    response = client.post(f"/p/{world.project.slug}/exports/{export.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert f"Export #{export.pk} and its file were deleted." in response.content.decode()
    assert not Export.objects.exists()


def test_no_delete_button_on_someone_elses_export(client: Any, world: World) -> None:
    export = Export.objects.create(project=world.project, format="csv", requested_by=world.lead)
    client.force_login(world.reviewer)
    html = client.get(page_url(world)).content.decode()
    assert f"?delete={export.pk}" not in html
    assert (
        "Delete export" not in client.get(page_url(world) + f"?delete={export.pk}").content.decode()
    )
    response = client.post(f"/p/{world.project.slug}/exports/{export.pk}/delete/")
    assert response.status_code == 403
    assert Export.objects.filter(pk=export.pk).exists()


def test_an_export_of_another_project_cannot_be_deleted_through_this_one(
    client: Any, world: World
) -> None:
    theirs = Export.objects.create(project=world.other_project, format="csv")
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/exports/{theirs.pk}/delete/")
    assert response.status_code == 404
    assert Export.objects.filter(pk=theirs.pk).exists()


def test_the_page_query_count_does_not_grow_with_the_history(
    client: Any, annotated: World, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(n: int) -> None:
        for _ in range(n):
            export = Export.objects.create(
                project=annotated.project, format="jsonl", requested_by=annotated.consumer
            )
            build_now(export.pk)

    client.force_login(annotated.lead)
    make(2)
    with CaptureQueriesContext(connection) as small:
        client.get(page_url(annotated))
    make(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(page_url(annotated)).content.decode()
    assert html.count('data-export-row="') == 12
