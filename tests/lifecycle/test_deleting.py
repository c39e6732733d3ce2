"""Deleting and restoring through the services and the API: confirmation, the audit trail,
restoring exactly what went, a lead resetting one annotator's work, and deleting a project."""

from __future__ import annotations

import json
from typing import Any

import pytest

from projects.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Document,
    Project,
)
from projects.permissions import project_access
from projects.services import annotations as annotation_services
from projects.services import documents as document_services
from projects.services import lifecycle
from projects.services.errors import Conflict, NotFound, ValidationFailed

from ..conftest import World, client_for
from ..factories import make_documents, make_project
from .conftest import doc_api, rows_in_database

# --- documents ------------------------------------------------------------------------------


def test_deleting_a_document_with_annotations_asks_for_its_external_id(annotated: World) -> None:
    world = annotated
    doc = world.documents[0]
    lead = client_for(world.lead)
    r = lead.delete(doc_api(world, doc))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "confirmation_required"
    assert "3 annotations (by ann1, ann2, the gold)" in error["message"]
    assert doc.external_id in error["message"]
    assert error["details"][0]["field"] == "confirm"
    r = lead.delete(doc_api(world, doc) + "?confirm=someone-else")
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "confirm"
    assert Document.objects.filter(pk=doc.pk).exists()
    assert Annotation.objects.filter(document=doc).count() == 3
    r = lead.delete(doc_api(world, doc), {"confirm": doc.external_id}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["id"], body["external_id"], body["annotations"]) == (doc.pk, doc.external_id, 3)
    assert body["deleted_at"]


def test_a_document_nobody_annotated_is_deleted_without_confirmation(world: World) -> None:
    doc = world.documents[2]
    r = client_for(world.lead).delete(doc_api(world, doc))
    assert r.status_code == 200, r.content
    assert r.json()["annotations"] == 0
    # deleting it again: it is gone
    assert client_for(world.lead).delete(doc_api(world, doc)).status_code == 404


def test_deleting_a_document_records_who_what_and_which_annotations(annotated: World) -> None:
    world = annotated
    doc = world.documents[0]
    done = lifecycle.document_delete(
        project=world.project, document=doc, actor_id=world.lead.pk, confirm=doc.external_id
    )
    stored = Document.all_objects.get(pk=doc.pk)
    assert stored.deleted_at == done.document.deleted_at and stored.deleted_by == world.lead
    hidden = Annotation.all_objects.filter(document=doc)
    assert {a.deleted_at for a in hidden} == {stored.deleted_at}
    assert {a.deleted_by_id for a in hidden} == {world.lead.pk}
    event = AuditEvent.objects.get(action="document.delete")
    assert (event.actor, event.project, event.document) == (world.lead, world.project, stored)
    assert event.data["annotations"] == 3
    assert event.data["annotators"] == ["ann1", "ann2", "gold"]
    assert event.data["external_id"] == doc.external_id


def test_restoring_a_document_brings_back_exactly_the_annotations_deleted_with_it(
    annotated: World,
) -> None:
    world = annotated
    doc = world.documents[0]
    ann1 = Annotation.objects.get(document=doc, annotator=world.annotator)
    lifecycle.annotation_delete(
        project=world.project, document=doc, annotation_id=ann1.pk, actor_id=world.lead.pk
    )
    lifecycle.document_delete(
        project=world.project, document=doc, actor_id=world.lead.pk, confirm=doc.external_id
    )
    r = client_for(world.lead).post(doc_api(world, doc, "restore/"), {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["annotations_restored"] == 2
    assert r.json()["external_id"] == doc.external_id
    live = Annotation.objects.filter(document=doc)
    assert sorted(a.annotator.username if a.annotator else "gold" for a in live) == [
        "ann2",
        "gold",
    ]
    assert Annotation.all_objects.get(pk=ann1.pk).deleted_at is not None
    event = AuditEvent.objects.get(action="document.restore")
    assert event.data["annotations"] == 2 and event.actor == world.lead


def test_restoring_a_live_document_changes_nothing(world: World) -> None:
    doc = world.documents[0]
    r = client_for(world.lead).post(doc_api(world, doc, "restore/"), {}, format="json")
    assert r.status_code == 200
    assert r.json()["annotations_restored"] == 0
    assert not AuditEvent.objects.filter(action="document.restore").exists()


def test_a_deleted_documents_id_can_be_imported_again_and_then_it_cannot_be_restored(
    world: World,
) -> None:
    doc = world.documents[2]
    lifecycle.document_delete(project=world.project, document=doc, actor_id=world.lead.pk)
    line = json.dumps({"id": doc.external_id, "text": "A corrected text."})
    result = document_services.documents_import(
        project=world.project, filename="again.jsonl", data=line.encode(), actor_id=world.lead.pk
    )
    assert result.created == 1
    with pytest.raises(Conflict, match="delete that one first"):
        lifecycle.document_restore(
            project=world.project, document_id=doc.pk, actor_id=world.lead.pk
        )
    r = client_for(world.lead).post(doc_api(world, doc, "restore/"), {}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "duplicate"


def test_the_deleted_list_shows_who_deleted_what_and_how_many_annotations_come_back(
    annotated: World,
) -> None:
    world = annotated
    first, third = world.documents[0], world.documents[2]
    lifecycle.document_delete(project=world.project, document=third, actor_id=world.lead.pk)
    lifecycle.document_delete(
        project=world.project, document=first, actor_id=world.lead.pk, confirm=first.external_id
    )
    r = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/documents/deleted/")
    assert r.status_code == 200
    rows = r.json()["results"]
    assert [(d["id"], d["annotations"], d["deleted_by"]) for d in rows] == [
        (first.pk, 3, "lead"),
        (third.pk, 0, "lead"),
    ]


def test_a_first_write_racing_the_deletion_finds_the_document_gone(world: World) -> None:
    """The annotator's document object was read before the lead deleted it: the service still
    refuses to make an annotation on it."""
    doc = world.documents[0]
    access = project_access(world.annotator, world.project.pk)
    lifecycle.document_delete(project=world.project, document=doc, actor_id=world.lead.pk)
    with pytest.raises(NotFound, match="deleted"):
        annotation_services.span_create(access=access, document=doc, start=0, end=9, label="Claim")
    assert not Annotation.all_objects.filter(document=doc).exists()


# --- one annotation -------------------------------------------------------------------------


def test_a_lead_resets_one_annotators_work_and_can_restore_it(annotated: World) -> None:
    world = annotated
    doc = world.documents[0]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator)
    lead = client_for(world.lead)
    r = lead.delete(doc_api(world, doc, f"annotations/{theirs.pk}/"))
    assert r.status_code == 200, r.content
    assert r.json()["annotator"] == "ann1" and r.json()["deleted_at"]
    assignment = Assignment.objects.get(document=doc, annotator=world.annotator)
    assert assignment.status == AssignmentStatus.ASSIGNED
    event = AuditEvent.objects.get(action="annotation.delete")
    assert event.data["spans"] == 2 and event.data["relations"] == 1
    assert event.data["stances"] == 1 and event.data["assignment_was"] == "submitted"
    # the annotator starts over: a new annotation, and the document is open in their queue
    ann1 = client_for(world.annotator)
    r = ann1.post(
        doc_api(world, doc, "annotation/spans/"),
        {"start": 0, "end": 9, "label": "Claim", "version": 0},
        format="json",
    )
    assert r.status_code == 201, r.content
    fresh = r.json()["annotation"]
    assert fresh != theirs.pk
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_PROGRESS
    # the old one cannot come back while the new one lives
    restore = doc_api(world, doc, f"annotations/{theirs.pk}/restore/")
    r = lead.post(restore, {}, format="json")
    assert r.status_code == 409 and "newer annotation" in r.json()["error"]["message"]
    assert lead.delete(doc_api(world, doc, f"annotations/{fresh}/")).status_code == 200
    r = lead.post(restore, {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "submitted" and r.json()["deleted_at"] is None
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SUBMITTED
    r = lead.get(f"/api/v1/projects/{world.project.pk}/annotations/deleted/")
    assert [a["id"] for a in r.json()["results"]] == [fresh]


def test_an_annotation_deleted_with_its_document_is_restored_with_the_document_only(
    annotated: World,
) -> None:
    world = annotated
    doc = world.documents[0]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator)
    lifecycle.document_delete(
        project=world.project, document=doc, actor_id=world.lead.pk, confirm=doc.external_id
    )
    stale = Document.all_objects.get(pk=doc.pk)
    with pytest.raises(Conflict, match="restore the document first"):
        lifecycle.annotation_restore(
            project=world.project, document=stale, annotation_id=theirs.pk, actor_id=1
        )
    r = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/annotations/deleted/")
    assert r.json()["results"] == []


def test_the_gold_can_be_deleted_and_a_new_one_begun(annotated: World) -> None:
    world = annotated
    doc = world.documents[0]
    gold = Annotation.objects.get(document=doc, kind="gold")
    lead = client_for(world.lead)
    assert lead.delete(doc_api(world, doc, f"annotations/{gold.pk}/")).status_code == 200
    assert lead.get(doc_api(world, doc, "gold/")).json()["gold"] is None
    r = lead.post(doc_api(world, doc, "gold/merge/"), {}, format="json")
    assert r.status_code == 201, r.content
    assert Annotation.objects.get(document=doc, kind="gold").pk != gold.pk


def test_an_annotation_of_another_document_is_not_found_through_this_one(
    annotated: World,
) -> None:
    world = annotated
    theirs = Annotation.objects.get(document=world.documents[0], annotator=world.annotator)
    other = world.documents[1]
    lead = client_for(world.lead)
    assert lead.delete(doc_api(world, other, f"annotations/{theirs.pk}/")).status_code == 404
    assert lead.post(doc_api(world, other, f"annotations/{theirs.pk}/restore/")).status_code == 404
    assert Annotation.objects.filter(pk=theirs.pk).exists()


# --- projects -------------------------------------------------------------------------------


def test_deleting_a_project_needs_its_slug_and_hides_it_from_every_member(
    annotated: World,
) -> None:
    world = annotated
    p = world.project.pk
    lead = client_for(world.lead)
    r = lead.delete(f"/api/v1/projects/{p}/")
    assert r.status_code == 409 and r.json()["error"]["code"] == "confirmation_required"
    assert "3 documents and 5 annotations with 5 members" in r.json()["error"]["message"]
    assert lead.delete(f"/api/v1/projects/{p}/?confirm=Alpha").status_code == 400
    before = rows_in_database()
    r = lead.delete(f"/api/v1/projects/{p}/?confirm={world.project.slug}")
    assert r.status_code == 200, r.content
    assert r.json()["slug"] == world.project.slug
    assert rows_in_database() == before
    for user in (world.lead, world.reviewer, world.annotator, world.consumer):
        client = client_for(user)
        assert client.get(f"/api/v1/projects/{p}/").status_code == 404
        assert client.get(f"/api/v1/projects/{world.project.slug}/documents/").status_code == 404
        listed = client.get("/api/v1/projects/").json()["results"]
        assert p not in [row["id"] for row in listed]
    event = AuditEvent.objects.get(action="project.delete")
    assert event.data == {
        "name": "Alpha",
        "slug": world.project.slug,
        "documents": 3,
        "annotations": 5,
        "members": 5,
        "exports": 0,
        **({"request_id": event.data["request_id"]} if "request_id" in event.data else {}),
    }
    # the slug stays taken, and says why
    r = lead.post("/api/v1/projects/", {"name": "Again", "slug": world.project.slug})
    assert r.status_code == 409 and "deleted project" in r.json()["error"]["message"]
    # staff restore it
    lifecycle.project_restore(project_id=p, actor_id=None)
    assert lead.get(f"/api/v1/projects/{p}/").status_code == 200
    assert AuditEvent.objects.filter(action="project.restore", project_id=p).exists()


def test_the_project_services_refuse_a_wrong_or_missing_slug(world: World) -> None:
    with pytest.raises(Conflict):
        lifecycle.project_delete(project=world.project, actor_id=world.lead.pk, confirm=None)
    with pytest.raises(ValidationFailed):
        lifecycle.project_delete(project=world.project, actor_id=world.lead.pk, confirm="beta")
    assert Project.objects.filter(pk=world.project.pk).exists()


def test_a_new_project_gets_a_fresh_slug_beside_a_deleted_one(world: World) -> None:
    lifecycle.project_delete(
        project=world.project, actor_id=world.lead.pk, confirm=world.project.slug
    )
    again = make_project(lead=world.lead, name="Alpha")
    assert again.slug != world.project.slug
    assert make_documents(again, 1)


def test_a_deleted_project_is_not_found_even_by_its_lead_on_the_pages(
    world: World, client: Any
) -> None:
    lifecycle.project_delete(
        project=world.project, actor_id=world.lead.pk, confirm=world.project.slug
    )
    client.force_login(world.lead)
    assert client.get(f"/p/{world.project.slug}/").status_code == 404
    assert world.project.slug not in client.get("/").content.decode()
