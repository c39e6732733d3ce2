"""The hot path of the annotation page: a span saved and a page loaded with a token. Their
statement counts are the budget the peer benchmark measured (bench/peers/README.md); the
queries whose SQL is built once per process (``Prepared``) give the ORM's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from projects.models import Annotation, ApiToken, Document, Span
from projects.models.prepared import Prepared, columns, instance
from projects.services.tokens import token_create

from ..conftest import World


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user_id=user.pk, name='t')[1]}")
    return client


def statements(ctx: CaptureQueriesContext) -> list[str]:
    """What ran, without the transaction and savepoint bookkeeping (which differs by
    database)."""
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(skip)]


def test_a_span_on_an_existing_annotation_costs_five_statements(world: World) -> None:
    doc = world.documents[0]
    client = token_client(world.annotator)
    url = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/"
    first = client.post(url, {"start": 0, "end": 4, "label": "Claim"}, format="json")
    assert first.status_code == 201, first.content
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(url, {"start": 5, "end": 9, "label": "Claim"}, format="json")
    assert r.status_code == 201, r.content
    # token + user; membership + project + document; the annotation's version raised (which
    # locks it), returning the span of that client id; INSERT span; INSERT audit event
    assert len(statements(ctx)) == 5, statements(ctx)
    assert r.json()["version"] == 2
    assert Annotation.objects.get(document=doc, annotator=world.annotator).version == 2


def test_a_documents_first_span_costs_seven_statements(world: World) -> None:
    doc, warm = world.documents[0], world.documents[1]
    client = token_client(world.annotator)
    url = f"/api/v1/projects/{world.project.pk}/documents/{{}}/annotation/spans/"
    # the token's last use and the scheme's labels are read once, by an earlier request
    body = {"start": 0, "end": 4, "label": "Claim", "version": 0}
    assert client.post(url.format(warm.pk), body, format="json").status_code == 201
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(url.format(doc.pk), body, format="json")
    assert r.status_code == 201, r.content
    # token + user; membership + project + document; the annotation's UPDATE (none yet); INSERT the
    # annotation from the live document, at version 1; INSERT span; UPDATE assignment to in
    # progress; INSERT audit event. No document lock, no version UPDATE.
    assert len(statements(ctx)) == 7, "\n".join(q[:100] for q in statements(ctx))
    annotation = Annotation.objects.get(document=doc, annotator=world.annotator)
    assert (r.json()["annotation"], r.json()["version"]) == (annotation.pk, 1)
    assert annotation.version == 1 and annotation.spans.count() == 1
    assert annotation.updated_at >= annotation.created_at


def test_insert_annotation_does_nothing_when_there_is_one_or_the_document_is_gone(
    world: World,
) -> None:
    from projects.models import AnnotationKind
    from projects.services.annotations import insert_annotation

    doc, gone = world.documents[0], world.documents[1]
    mine = {"annotator_id": world.annotator.pk, "kind": AnnotationKind.ANNOTATOR}
    made = insert_annotation(doc, **mine)
    assert made is not None and not made._state.adding
    assert Annotation.objects.get(pk=made.pk).version == 0
    assert insert_annotation(doc, **mine) is None
    # the other annotator and the gold are other rows, each once
    other = insert_annotation(doc, annotator_id=world.annotator2.pk, kind=AnnotationKind.ANNOTATOR)
    gold = insert_annotation(doc, kind=AnnotationKind.GOLD, version=1)
    assert other is not None and gold is not None and gold.annotator_id is None
    assert insert_annotation(doc, kind=AnnotationKind.GOLD) is None
    assert Annotation.objects.filter(document=doc).count() == 3
    # a deleted annotation makes room for a new one; a deleted document takes none
    Annotation.objects.filter(pk=made.pk).update(deleted_at=made.created_at)
    assert insert_annotation(doc, **mine) is not None
    Document.objects.filter(pk=gone.pk).update(deleted_at=made.created_at)
    assert insert_annotation(gone, **mine) is None
    assert not Annotation.all_objects.filter(document=gone).exists()


def test_the_annotation_page_costs_five_statements(world: World) -> None:
    doc = world.documents[0]
    client = token_client(world.annotator)
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    client.post(base + "spans/", {"start": 0, "end": 4, "label": "Claim"}, format="json")
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(base, {"include": "document"})
    assert r.status_code == 200
    # token + user; membership + project + document; annotation with its spans; relations;
    # stances
    assert len(statements(ctx)) == 5, statements(ctx)
    assert [s["text"] for s in r.json()["spans"]] == [doc.text[0:4]]


def test_a_prepared_query_gives_the_orm_rows_for_each_call(world: World) -> None:
    """Arguments land in their places on every call (not the first call's values), and the
    values are converted as the ORM converts them (datetimes, JSON, booleans)."""
    q = Prepared(
        lambda project, title: (
            Document.objects.filter(project_id=project, title__gte=title)
            .order_by("pk")
            .values_list("pk", "created_at", "meta", "project__blind")
        ),
        project=0,
        title="",
    )
    for project, title in [(world.project.pk, ""), (world.other_project.pk, "Document 1")]:
        orm = list(
            Document.objects.filter(project_id=project, title__gte=title)
            .order_by("pk")
            .values_list("pk", "created_at", "meta", "project__blind")
        )
        assert q(project=project, title=title) == orm and orm
        assert isinstance(orm[0][1], datetime) and isinstance(orm[0][3], bool)


def test_a_prepared_row_makes_the_orm_instance(world: World) -> None:
    token, _key = token_create(user_id=world.lead.pk, name="t")
    q = Prepared(lambda pk: ApiToken.objects.filter(pk=pk).values_list(*columns(ApiToken)), pk=0)
    made = instance(ApiToken, q(pk=token.pk)[0])
    fresh = ApiToken.objects.get(pk=token.pk)
    assert [getattr(made, f.attname) for f in ApiToken._meta.concrete_fields] == [
        getattr(fresh, f.attname) for f in ApiToken._meta.concrete_fields
    ]
    assert made.user == world.lead and not made._state.adding


def test_a_prepared_query_must_use_every_argument(db: Any) -> None:
    q = Prepared(lambda pk, other: Span.objects.filter(pk=pk).values_list("pk"), pk=0, other=0)
    with pytest.raises(ValueError, match="other"):
        q(pk=1, other=2)


def test_deferred_columns_load_on_first_use(world: World) -> None:
    doc = world.documents[0]
    q = Prepared(
        lambda pk: Document.objects.filter(pk=pk).values_list(*columns(Document, skip=["text"])),
        pk=0,
    )
    made = instance(Document, q(pk=doc.pk)[0], skip=["text"])
    assert made.get_deferred_fields() == {"text"}
    assert made.text == doc.text
    assert Annotation.objects.count() == 0


def test_insert_writes_the_row_save_would(world: World) -> None:
    """Same columns (auto_now set, JSON encoded), the primary key from the database, and an
    instance that then behaves as a saved one."""
    from projects.models import AuditEvent
    from projects.models.prepared import insert

    fields = [f.attname for f in AuditEvent._meta.concrete_fields if f.attname != "id"]
    made = []
    for how in ("save", "insert", "insert"):
        event = AuditEvent(
            project_id=world.project.pk, actor_id=world.lead.pk, action="x", data={"b": [1, "é"]}
        )
        event.save() if how == "save" else insert(event)
        assert event.pk is not None and not event._state.adding
        made.append(AuditEvent.objects.get(pk=event.pk))
    assert len({e.pk for e in made}) == 3
    saved, *inserted = made
    for other in inserted:
        same = {f: getattr(other, f) for f in fields if f != "created_at"}
        assert same == {f: getattr(saved, f) for f in fields if f != "created_at"}
        assert other.created_at >= saved.created_at


def test_insert_writes_choices_keys_and_json_as_save_does(world: World) -> None:
    """The plain-value shortcut (exact ints and strings passed as they are) leaves what needs
    converting to the fields: a choices member, a JSON value, a datetime."""
    from projects.models import AnnotationKind, AnnotationStatus, Label
    from projects.models.prepared import insert

    doc = world.documents[0]
    annotation = Annotation(
        project_id=world.project.pk,
        document=doc,
        annotator=world.annotator,
        kind=AnnotationKind.ANNOTATOR,
        status=AnnotationStatus.SUBMITTED,
        adjudication={"é": [1, None]},
    )
    insert(annotation)
    label = Label.objects.filter(project=world.project).first()
    span = Span(annotation=annotation, client_id="c1", start=0, end=4, label=label)
    span.attributes = {"stance": "pro"}
    insert(span)
    fresh = Annotation.objects.get(pk=annotation.pk)
    assert (fresh.kind, fresh.status, fresh.adjudication) == (
        "annotator",
        "submitted",
        {"é": [1, None]},
    )
    assert fresh.created_at is not None and fresh.annotator_id == world.annotator.pk
    stored = Span.objects.get(pk=span.pk)
    assert (stored.annotation_id, stored.label_id, stored.start, stored.end) == (
        annotation.pk,
        label.pk,
        0,
        4,
    )
    assert stored.attributes == {"stance": "pro"} and stored.client_id == "c1"


def test_insert_many_writes_the_rows_bulk_create_would(world: World) -> None:
    """Several batches (SQLite takes 999 parameters a statement), each row given its own
    primary key in order, the same stored values as ``bulk_create`` (auto_now set, JSON)."""
    from projects.models.prepared import insert_many

    def documents(prefix: str) -> list[Document]:
        return [
            Document(
                project=world.project,
                external_id=f"{prefix}-{i}",
                title=f"T{i}",
                text=f"text é {i}",
                length=len(f"text é {i}"),
                sha256=f"{i:064x}",
                meta={"n": i, "tags": ["a", None]},
            )
            for i in range(250)
        ]

    made, reference = documents("fast"), documents("orm")
    insert_many(made)
    Document.objects.bulk_create(reference)
    assert all(d.pk is not None and not d._state.adding for d in made)
    assert len({d.pk for d in made}) == 250
    skip = {"id", "external_id", "created_at"}
    names = [f.attname for f in Document._meta.concrete_fields if f.attname not in skip]
    for fast, orm in zip(made, reference, strict=True):
        stored = Document.objects.get(pk=fast.pk)
        assert stored.external_id == fast.external_id
        assert [getattr(stored, n) for n in names] == [
            getattr(Document.objects.get(pk=orm.pk), n) for n in names
        ]
        assert stored.created_at is not None
    insert_many([])  # nothing to do


def test_update_rows_changes_the_matching_rows_only(world: World) -> None:
    from projects.models import Assignment, AssignmentStatus
    from projects.models.prepared import update_rows

    doc = world.documents[0]
    assigned = Assignment.objects.filter(document=doc).count()
    assert assigned
    n = update_rows(
        Assignment,
        {"document_id": doc.pk, "annotator_id": world.annotator.pk, "status": "assigned"},
        status=AssignmentStatus.IN_PROGRESS,
    )
    assert n == 1
    assert Assignment.objects.get(document=doc, annotator=world.annotator).status == "in_progress"
    assert Assignment.objects.filter(document=doc, status="in_progress").count() == 1
    again = {"document_id": doc.pk, "annotator_id": world.annotator.pk, "status": "assigned"}
    assert update_rows(Assignment, again, status=AssignmentStatus.SUBMITTED) == 0


def test_update_row_sets_only_the_named_fields(world: World) -> None:
    from projects.models.prepared import update_row

    doc = world.documents[0]
    update_row(Document, doc.pk, title="Renamed")
    fresh = Document.objects.get(pk=doc.pk)
    assert (fresh.title, fresh.text) == ("Renamed", doc.text)


@pytest.mark.parametrize("model_name", ["Annotation", "Span", "AuditEvent"])
def test_models_written_without_save_have_no_save_signal_receivers(model_name: str) -> None:
    """``insert`` and ``update_row`` skip ``pre_save``/``post_save``: a receiver connected to
    one of these models would silently never run on the hot path. Whoever adds one must route
    these writes through ``save()`` again (and this test tells them)."""
    from django.apps import apps
    from django.db.models.signals import post_save, pre_save

    model = apps.get_model("projects", model_name)
    assert not pre_save.has_listeners(model)
    assert not post_save.has_listeners(model)
