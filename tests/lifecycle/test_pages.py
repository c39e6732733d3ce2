"""The pages of deleting and restoring: a confirmation page that says what will be hidden,
the Deleted page with Restore, and deleting a project by typing its slug. Leads only."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Annotation, AuditEvent, Document, Project
from projects.services import lifecycle

from ..conftest import World
from ..factories import make_documents


def _lead(client: Any, world: World) -> Any:
    client.force_login(world.lead)
    return client


def test_the_document_page_offers_delete_to_leads_only(annotated: World, client: Any) -> None:
    world = annotated
    slug, doc = world.project.slug, world.documents[0]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator)
    delete = f"/p/{slug}/d/{doc.pk}/delete/"
    one = f"/p/{slug}/d/{doc.pk}/annotations/{theirs.pk}/delete/"
    html = _lead(client, world).get(f"/p/{slug}/d/{doc.pk}/").content.decode()
    assert delete in html and one in html
    client.force_login(world.reviewer)
    html = client.get(f"/p/{slug}/d/{doc.pk}/").content.decode()
    assert delete not in html and one not in html


def test_the_confirmation_page_says_how_many_annotations_by_whom_will_be_hidden(
    annotated: World, client: Any
) -> None:
    world = annotated
    slug, doc = world.project.slug, world.documents[0]
    response = _lead(client, world).get(f"/p/{slug}/d/{doc.pk}/delete/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 annotations (6 spans) will be hidden with it" in html
    for who in ("ann1", "ann2", "Gold"):
        assert f'<th scope="row">{who}</th>' in html
    assert Document.objects.filter(pk=doc.pk).exists(), "a GET deletes nothing"


def test_deleting_on_the_page_hides_the_document_and_restoring_brings_it_back(
    annotated: World, client: Any
) -> None:
    world = annotated
    slug, doc = world.project.slug, world.documents[0]
    _lead(client, world)
    response = client.post(f"/p/{slug}/d/{doc.pk}/delete/", {"confirm": doc.external_id})
    assert response.status_code == 302 and response["Location"] == f"/p/{slug}/"
    assert client.get(f"/p/{slug}/d/{doc.pk}/").status_code == 404
    deleted = client.get(f"/p/{slug}/deleted/")
    assert [d.pk for d in deleted.context["documents"]] == [doc.pk]
    assert deleted.context["documents"][0].annotation_count == 3
    assert f"/p/{slug}/d/{doc.pk}/restore/" in deleted.content.decode()
    response = client.post(f"/p/{slug}/d/{doc.pk}/restore/")
    assert response.status_code == 302
    assert response["Location"] == f"/p/{slug}/d/{doc.pk}/"
    assert client.get(f"/p/{slug}/d/{doc.pk}/").status_code == 200
    assert Annotation.objects.filter(document=doc).count() == 3


def test_a_post_without_the_confirmation_deletes_nothing(annotated: World, client: Any) -> None:
    world = annotated
    slug, doc = world.project.slug, world.documents[0]
    response = _lead(client, world).post(f"/p/{slug}/d/{doc.pk}/delete/")
    assert response.status_code == 400
    assert "confirm" in response.content.decode()
    assert Document.objects.filter(pk=doc.pk).exists()


def test_deleting_one_annotation_on_the_page_and_restoring_it(
    annotated: World, client: Any
) -> None:
    world = annotated
    slug, doc = world.project.slug, world.documents[0]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator2)
    _lead(client, world)
    page = client.get(f"/p/{slug}/d/{doc.pk}/annotations/{theirs.pk}/delete/")
    assert page.status_code == 200
    assert "2 spans, 1 relation and 1 stance" in page.content.decode()
    response = client.post(f"/p/{slug}/d/{doc.pk}/annotations/{theirs.pk}/delete/")
    assert response.status_code == 302
    assert not Annotation.objects.filter(pk=theirs.pk).exists()
    deleted = client.get(f"/p/{slug}/deleted/")
    assert [a.pk for a in deleted.context["annotations"]] == [theirs.pk]
    assert deleted.context["annotations"][0].span_count == 2
    response = client.post(f"/p/{slug}/d/{doc.pk}/annotations/{theirs.pk}/restore/")
    assert response.status_code == 302
    assert Annotation.objects.filter(pk=theirs.pk).exists()


def test_the_deleted_page_reads_in_a_fixed_number_of_queries(
    world: World, client: Any, django_assert_max_num_queries: Any
) -> None:
    _lead(client, world)
    url = f"/p/{world.project.slug}/deleted/"
    lifecycle.document_delete(
        project=world.project, document=world.documents[2], actor_id=world.lead.pk
    )
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    for doc in make_documents(world.project, 30):
        lifecycle.document_delete(project=world.project, document=doc, actor_id=world.lead.pk)
    with django_assert_max_num_queries(10):
        assert len(client.get(url).context["documents"]) == 31


@pytest.mark.parametrize("persona", ["reviewer", "annotator", "consumer"])
def test_only_leads_open_the_deletion_pages(world: World, client: Any, persona: str) -> None:
    client.force_login(world.persona(persona))
    slug, doc = world.project.slug, world.documents[0]
    for url in (f"/p/{slug}/deleted/", f"/p/{slug}/delete/", f"/p/{slug}/d/{doc.pk}/delete/"):
        assert client.get(url).status_code == 403, url


def test_a_project_is_deleted_only_when_its_slug_is_typed(world: World, client: Any) -> None:
    slug = world.project.slug
    _lead(client, world)
    page = client.get(f"/p/{slug}/delete/")
    assert page.status_code == 200
    assert "3 documents, 0 annotations, 5 members and 0 exports" in page.content.decode()
    wrong = client.post(f"/p/{slug}/delete/", {"confirm": "Alpha"})
    assert wrong.status_code == 400
    assert "is not this project" in wrong.content.decode()
    empty = client.post(f"/p/{slug}/delete/", {"confirm": ""})
    assert empty.status_code == 400 and "Type the project" in empty.content.decode()
    assert Project.objects.filter(pk=world.project.pk).exists()
    response = client.post(f"/p/{slug}/delete/", {"confirm": slug})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get(f"/p/{slug}/").status_code == 404
    assert f"/p/{slug}/" not in client.get("/").content.decode()
    assert Project.all_objects.get(pk=world.project.pk).deleted_by == world.lead
    event = AuditEvent.objects.get(action="project.delete")
    assert event.data["documents"] == 3 and event.data["slug"] == slug


def test_the_overview_links_the_deleted_page_and_project_deletion_for_leads(
    world: World, client: Any
) -> None:
    slug = world.project.slug
    html = _lead(client, world).get(f"/p/{slug}/").content.decode()
    assert f"/p/{slug}/deleted/" in html and f"/p/{slug}/delete/" in html
    client.force_login(world.reviewer)
    html = client.get(f"/p/{slug}/").content.decode()
    assert f"/p/{slug}/deleted/" not in html and f"/p/{slug}/delete/" not in html
