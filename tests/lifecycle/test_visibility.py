"""A deleted document or annotation disappears from every read (lists, queues, progress, the
workspace, agreement, adjudication, exports, the API) and comes back, exactly, on restore."""

from __future__ import annotations

import json
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Prefetch

from projects import selectors, selectors_exports
from projects.models import Annotation, Document, Export, Span
from projects.permissions import project_access
from projects.services import exports, lifecycle

from ..conftest import World, client_for
from .conftest import build_now, doc_api, rows_in_database


def _delete_document(world: World, doc: Any) -> dict[str, Any]:
    r = client_for(world.lead).delete(
        doc_api(world, doc) + f"?confirm={doc.external_id}", format="json"
    )
    assert r.status_code == 200, r.content
    return r.json()


def _restore_document(world: World, doc: Any) -> dict[str, Any]:
    r = client_for(world.lead).post(doc_api(world, doc, "restore/"), {}, format="json")
    assert r.status_code == 200, r.content
    return r.json()


def _agreement(world: World) -> dict[str, Any]:
    r = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/agreement/")
    assert r.status_code == 200, r.content
    return r.json()["report"]


def _agreed_documents(report: dict[str, Any]) -> set[int]:
    """Documents the report compares two or more annotators on."""
    return {int(doc_id) for doc_id, m in report["spans"]["per_document"] if m["n"]}


def _exported(world: World) -> dict[str, list[tuple[str | None, bool]]]:
    """A jsonl export built now: each document's external id → its annotators."""
    export = Export.objects.create(
        project=world.project,
        format="jsonl",
        options=exports.options_from({"format": "jsonl"}).as_dict(),
        requested_by=world.lead,
    )
    build_now(export.pk)
    export.refresh_from_db()
    with default_storage.open(export.file.name, "rb") as f:
        lines = [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]
    return {
        line["id"]: [(a.get("annotator"), bool(a.get("gold"))) for a in line["annotations"]]
        for line in lines
    }


def test_a_deleted_document_leaves_agreement_and_comes_back_on_restore(annotated: World) -> None:
    world = annotated
    doc = world.documents[1]
    assert _agreed_documents(_agreement(world)) == {world.documents[0].pk, doc.pk}
    _delete_document(world, doc)
    assert _agreed_documents(_agreement(world)) == {world.documents[0].pk}
    _restore_document(world, doc)
    assert _agreed_documents(_agreement(world)) == {world.documents[0].pk, doc.pk}


def test_a_deleted_annotation_leaves_agreement_and_comes_back_on_restore(
    annotated: World,
) -> None:
    world = annotated
    doc = world.documents[1]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator2)
    lead = client_for(world.lead)
    before = _agreement(world)
    assert lead.delete(doc_api(world, doc, f"annotations/{theirs.pk}/")).status_code == 200
    # one annotator left on document 1: nothing to compare there any more
    assert _agreed_documents(_agreement(world)) == {world.documents[0].pk}
    r = lead.post(doc_api(world, doc, f"annotations/{theirs.pk}/restore/"), {}, format="json")
    assert r.status_code == 200, r.content
    assert _agreement(world)["spans"] == before["spans"]


def test_deleted_documents_and_annotations_are_left_out_of_exports(annotated: World) -> None:
    world = annotated
    first, second = world.documents[0], world.documents[1]
    everything = _exported(world)
    assert everything[first.external_id] == [("ann1", False), ("ann2", False), (None, True)]
    _delete_document(world, second)
    gold = Annotation.objects.get(document=first, kind="gold")
    lifecycle.annotation_delete(
        project=world.project, document=first, annotation_id=gold.pk, actor_id=world.lead.pk
    )
    trimmed = _exported(world)
    assert second.external_id not in trimmed
    assert trimmed[first.external_id] == [("ann1", False), ("ann2", False)]
    _restore_document(world, second)
    lifecycle.annotation_restore(
        project=world.project, document=first, annotation_id=gold.pk, actor_id=world.lead.pk
    )
    assert _exported(world) == everything


def test_the_export_stream_skips_a_deleted_document_whose_id_was_imported_again(
    annotated: World,
) -> None:
    """The spans of the deleted document share the external id of the live one: they must not
    slip into its annotations."""
    world = annotated
    doc = world.documents[0]
    _delete_document(world, doc)
    Document.objects.create(
        project=world.project,
        external_id=doc.external_id,
        text=doc.text,
        length=doc.length,
        sha256=doc.sha256,
    )
    options = exports.options_from({"format": "jsonl", "include_unfinished": True})
    streamed = {
        d.external_id: d for d in selectors_exports.export_documents(world.project, options)
    }
    assert streamed[doc.external_id].annotations == ()
    assert selectors_exports.export_document_count(world.project) == 3


def test_a_deleted_document_leaves_the_adjudication_queue(annotated: World) -> None:
    world = annotated
    url = f"/api/v1/projects/{world.project.pk}/adjudication/"
    lead = client_for(world.lead)
    queued = {row["document"] for row in lead.get(url).json()["results"]}
    assert world.documents[1].pk in queued
    _delete_document(world, world.documents[1])
    assert world.documents[1].pk not in {row["document"] for row in lead.get(url).json()["results"]}


def test_a_deleted_document_leaves_lists_queues_progress_and_the_workspace(
    annotated: World,
) -> None:
    world = annotated
    doc = world.documents[1]
    p = world.project.pk
    ann1, lead = client_for(world.annotator), client_for(world.lead)

    def listed() -> tuple[set[int], set[int], set[int], int]:
        documents = {
            d["id"] for d in lead.get(f"/api/v1/projects/{p}/documents/").json()["results"]
        }
        queue = {a["document"] for a in ann1.get(f"/api/v1/projects/{p}/queue/").json()["results"]}
        assigned = {
            a["document"] for a in lead.get(f"/api/v1/projects/{p}/assignments/").json()["results"]
        }
        progress = lead.get(f"/api/v1/projects/{p}/progress/").json()["annotators"]
        total = next(row["total"] for row in progress if row["username"] == "ann1")
        return documents, queue, assigned, total

    before = listed()
    assert doc.pk in before[0] and doc.pk in before[1] and doc.pk in before[2]
    _delete_document(world, doc)
    documents, queue, assigned, total = listed()
    assert doc.pk not in documents | queue | assigned
    assert total == before[3] - 1
    for client, path in (
        (lead, ""),
        (lead, "annotations/"),
        (ann1, "annotation/"),
        (lead, "gold/"),
    ):
        assert client.get(doc_api(world, doc, path)).status_code == 404, path
    # writes too: the annotator's next change cannot land on a deleted document
    r = ann1.post(
        doc_api(world, doc, "annotation/spans/"),
        {"start": 0, "end": 4, "label": "Claim"},
        format="json",
    )
    assert r.status_code == 404
    page = lead.get(f"/api/v1/projects/{p}/documents/?label=Claim").json()["results"]
    assert doc.pk not in {d["id"] for d in page}
    _restore_document(world, doc)
    assert listed() == before


def test_the_pages_leave_a_deleted_document_out(annotated: World, client: Any) -> None:
    world = annotated
    doc = world.documents[1]
    _delete_document(world, doc)
    client.force_login(world.lead)
    slug = world.project.slug
    overview = client.get(f"/p/{slug}/")
    assert doc.pk not in [d.pk for d in overview.context["page"]]
    assert client.get(f"/p/{slug}/d/{doc.pk}/").status_code == 404
    assert client.get(f"/p/{slug}/d/{doc.pk}/annotate/").status_code == 404
    assert client.get(f"/p/{slug}/d/{doc.pk}/compare/").status_code == 404
    client.force_login(world.annotator)
    work = client.get(f"/p/{slug}/work/")
    assert doc.pk not in [row["document"] for row in work.context["queue"]]
    projects = client.get("/")
    counts = {m.project_id: m.document_count for m in projects.context["memberships"]}
    assert counts[world.project.pk] == 2


def test_a_deleted_annotation_leaves_the_annotation_list_and_attribute_suggestions(
    annotated: World,
) -> None:
    world = annotated
    doc = world.documents[0]
    r = client_for(world.annotator).patch(
        doc_api(world, doc, "annotation/spans/c1/"),
        {"attributes": {"source": "Amnesty"}},
        format="json",
    )
    assert r.status_code == 200, r.content
    access = project_access(world.annotator, world.project.pk)
    assert selectors.attribute_values_in_use(access, ["source"]) == {"source": ["Amnesty"]}
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator)
    lead = client_for(world.lead)
    assert lead.delete(doc_api(world, doc, f"annotations/{theirs.pk}/")).status_code == 200
    names = [a["annotator"] for a in lead.get(doc_api(world, doc, "annotations/")).json()]
    assert "ann1" not in names
    assert lead.get(doc_api(world, doc, f"annotations/{theirs.pk}/")).status_code == 404
    # the annotator starts again from nothing
    mine = client_for(world.annotator).get(doc_api(world, doc, "annotation/")).json()
    assert mine["version"] == 0 and mine["spans"] == []
    assert selectors.attribute_values_in_use(access, ["source"]) == {"source": []}


def test_no_row_is_removed_by_deleting_and_restoring(annotated: World) -> None:
    world = annotated
    before = rows_in_database()
    first, second = world.documents[0], world.documents[1]
    theirs = Annotation.objects.get(document=first, annotator=world.annotator)
    lifecycle.annotation_delete(
        project=world.project, document=first, annotation_id=theirs.pk, actor_id=world.lead.pk
    )
    _delete_document(world, second)
    _delete_document(world, first)
    r = client_for(world.lead).delete(
        f"/api/v1/projects/{world.project.pk}/?confirm={world.project.slug}"
    )
    assert r.status_code == 200
    assert rows_in_database() == before
    lifecycle.project_restore(project_id=world.project.pk, actor_id=None)
    _restore_document(world, first)
    _restore_document(world, second)
    assert rows_in_database() == before
    # the annotation deleted on its own before its document stays deleted: a document's
    # restore brings back only what went with it
    assert Annotation.all_objects.get(pk=theirs.pk).deleted_at is not None
    assert Annotation.objects.filter(document=first).count() == 2


def test_managers_hide_deleted_rows_and_relations_still_reach_them(annotated: World) -> None:
    """``objects`` and related managers leave deleted rows out (prefetches too); forward
    relations (``span.annotation``) and ``all_objects`` still reach them, as the admin and
    restore need."""
    world = annotated
    doc = world.documents[0]
    theirs = Annotation.objects.get(document=doc, annotator=world.annotator)
    lifecycle.annotation_delete(
        project=world.project, document=doc, annotation_id=theirs.pk, actor_id=world.lead.pk
    )
    assert theirs.pk not in [a.pk for a in doc.annotations.all()]
    fetched = Document.objects.prefetch_related(Prefetch("annotations")).get(pk=doc.pk)
    assert theirs.pk not in [a.pk for a in fetched.annotations.all()]
    span = Span.objects.select_related("annotation").filter(annotation_id=theirs.pk).first()
    assert span is not None and span.annotation.pk == theirs.pk
    assert Span.objects.filter(annotation_id=theirs.pk).first().annotation.deleted_at
    assert Annotation.all_objects.filter(pk=theirs.pk).exists()
    lifecycle.document_delete(
        project=world.project, document=doc, actor_id=world.lead.pk, confirm=doc.external_id
    )
    assert not world.project.documents.filter(pk=doc.pk).exists()
    assert Annotation.all_objects.get(pk=theirs.pk).document.pk == doc.pk
