"""Every page of a project resolves it through project_access: outsiders get 404, too-low
roles 403."""

from __future__ import annotations

from typing import Any

import pytest


def _pages(world: Any) -> list[str]:
    slug = world.project.slug
    return [
        f"/p/{slug}/",
        f"/p/{slug}/scheme/",
        f"/p/{slug}/import/",
        f"/p/{slug}/d/{world.documents[0].pk}/",
        f"/p/{slug}/agreement/",
        f"/p/{slug}/d/{world.documents[0].pk}/compare/",
        f"/p/{slug}/adjudication/",
        f"/p/{slug}/d/{world.documents[0].pk}/adjudicate/",
        f"/p/{slug}/exports/",
        f"/p/{slug}/work/",
        f"/p/{slug}/d/{world.documents[0].pk}/annotate/",
        f"/p/{slug}/d/{world.documents[0].pk}/history/",
        # leads only (tests/pages/test_lifecycle.py checks the roles)
        f"/p/{slug}/deleted/",
        f"/p/{slug}/delete/",
        f"/p/{slug}/d/{world.documents[0].pk}/delete/",
        f"/p/{slug}/d/{world.documents[0].pk}/annotations/{_annotation(world)}/delete/",
    ]


def _annotation(world: Any) -> int:
    """ann1's annotation of the first document (made on first use)."""
    from projects.models import Annotation
    from projects.permissions import project_access
    from projects.services import annotations as annotation_services

    found = Annotation.objects.filter(
        document=world.documents[0], annotator=world.annotator
    ).first()
    if found is None:
        access = project_access(world.annotator, world.project.pk)
        change = annotation_services.span_create(
            access=access, document=world.documents[0], start=0, end=9, label="Claim"
        )
        found = change.annotation
    return found.pk


def _lead_export(world: Any) -> int:
    from projects.models import Export

    export = Export.objects.filter(project=world.project, requested_by=world.lead).first()
    if export is None:
        export = Export.objects.create(
            project=world.project, format="jsonl", requested_by=world.lead
        )
    return export.pk


def _posts(world: Any) -> list[str]:
    slug = world.project.slug
    membership = world.project.memberships.get(user=world.annotator)
    doc = world.documents[0]
    assignment = doc.assignments.first()
    # the lead's export: others may not delete it (a lead, or whoever requested it, may)
    export = _lead_export(world)
    return [
        f"/p/{slug}/exports/{export}/delete/",
        f"/p/{slug}/d/{doc.pk}/assign/",
        f"/p/{slug}/d/{doc.pk}/assign/{assignment.pk}/remove/",
        f"/p/{slug}/settings/",
        f"/p/{slug}/members/",
        f"/p/{slug}/members/{membership.pk}/role/",
        f"/p/{slug}/members/{membership.pk}/remove/",
        f"/p/{slug}/assign/",
        f"/p/{slug}/scheme/",
        f"/p/{slug}/import/",
        f"/p/{slug}/delete/",
        f"/p/{slug}/d/{doc.pk}/delete/",
        f"/p/{slug}/d/{doc.pk}/restore/",
        f"/p/{slug}/d/{doc.pk}/annotations/{_annotation(world)}/delete/",
        f"/p/{slug}/d/{doc.pk}/annotations/{_annotation(world)}/restore/",
    ]


def _review_posts(world: Any) -> list[str]:
    """Posts that reviewers may make too (adjudication); leads-only posts are in _posts."""
    base = f"/p/{world.project.slug}/d/{world.documents[0].pk}/adjudicate/"
    return [base + "merge/", base + "decide/", base + "undo/", base + "submit/"]


def test_an_outsider_gets_404_on_every_page_of_another_project(client: Any, world: Any) -> None:
    client.force_login(world.outsider)
    for url in _pages(world):
        assert client.get(url).status_code == 404, url
    for url in _posts(world) + _review_posts(world):
        assert client.post(url).status_code == 404, url


@pytest.mark.parametrize("persona", ["annotator", "consumer"])
def test_only_reviewers_and_leads_may_adjudicate(client: Any, world: Any, persona: str) -> None:
    client.force_login(world.persona(persona))
    for url in _review_posts(world):
        assert client.post(url).status_code == 403, url


def test_a_member_of_another_project_gets_404_too(client: Any, world: Any) -> None:
    client.force_login(world.other_lead)
    for url in _pages(world):
        assert client.get(url).status_code == 404, url


def test_a_document_of_another_project_is_not_found_through_this_one(
    client: Any, world: Any
) -> None:
    client.force_login(world.lead)
    url = f"/p/{world.project.slug}/d/{world.other_documents[0].pk}/"
    assert client.get(url).status_code == 404


def test_an_annotator_gets_403_on_import(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    response = client.get(f"/p/{world.project.slug}/import/")
    assert response.status_code == 403
    assert "annotator" in response.content.decode()


@pytest.mark.parametrize("persona", ["reviewer", "annotator", "consumer"])
def test_only_leads_may_change_anything(client: Any, world: Any, persona: str) -> None:
    client.force_login(world.persona(persona))
    for url in _posts(world):
        assert client.post(url).status_code == 403, url


def test_an_annotator_cannot_see_unassigned_documents(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    slug = world.project.slug
    unassigned, assigned = world.documents[2], world.documents[0]
    assert client.get(f"/p/{slug}/d/{unassigned.pk}/").status_code == 404
    assert client.get(f"/p/{slug}/d/{assigned.pk}/").status_code == 200
    overview = client.get(f"/p/{slug}/")
    assert [d.pk for d in overview.context["page"]] == [d.pk for d in world.documents[:2]]


def test_a_consumer_sees_only_the_header_and_a_note(client: Any, world: Any) -> None:
    client.force_login(world.consumer)
    response = client.get(f"/p/{world.project.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha" in html and "exports" in html.lower()
    assert world.documents[0].title not in html
    assert "page" not in response.context
    assert client.get(f"/p/{world.project.slug}/d/{world.documents[0].pk}/").status_code == 403


def test_a_reviewer_sees_documents_members_and_progress_read_only(client: Any, world: Any) -> None:
    client.force_login(world.reviewer)
    response = client.get(f"/p/{world.project.slug}/")
    html = response.content.decode()
    assert len(response.context["page"]) == 3
    assert "ann1" in html and "ann2" in html
    assert "/members/" not in html and "/settings/" not in html and "/assign/" not in html


def test_an_annotator_sees_only_their_own_progress(client: Any, world: Any) -> None:
    client.force_login(world.annotator)
    response = client.get(f"/p/{world.project.slug}/")
    assert [row["username"] for row in response.context["progress"]] == ["ann1"]
    assert "ann2" not in response.content.decode()


def test_posts_without_a_csrf_token_are_refused(world: Any) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.lead)
    response = client.post(f"/p/{world.project.slug}/assign/")
    assert response.status_code == 403
    assert not world.project.assignments.filter(document=world.documents[2]).exists()


def test_every_project_page_is_in_these_lists(world: Any) -> None:
    """A new page without an access test fails here."""
    from django.urls import get_resolver

    patterns = [
        str(p.pattern)
        for p in get_resolver().url_patterns
        if str(p.pattern) == ""
        for p in p.url_patterns
    ]
    project_patterns = {p for p in patterns if p.startswith("p/<slug:slug>/")}
    covered = {
        "/".join(
            "X" if part.isdigit() or part == world.project.slug else part
            for part in url.strip("/").split("/")
        )
        for url in _pages(world) + _posts(world) + _review_posts(world)
    }
    normalised = {
        "/".join("X" if part.startswith("<") else part for part in p.strip("/").split("/"))
        for p in project_patterns
    }
    assert normalised - covered == set()


@pytest.mark.parametrize("persona", ["lead", "reviewer", "consumer"])
def test_exports_are_open_to_everyone_but_annotators(client: Any, world: Any, persona: str) -> None:
    client.force_login(world.persona(persona))
    response = client.get(f"/p/{world.project.slug}/exports/")
    assert response.status_code == 200
    assert f'href="/p/{world.project.slug}/exports/"' in response.content.decode()
    client.force_login(world.annotator)
    assert client.get(f"/p/{world.project.slug}/exports/").status_code == 403
    header = client.get(f"/p/{world.project.slug}/").content.decode()
    assert f"/p/{world.project.slug}/exports/" not in header
