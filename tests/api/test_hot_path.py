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


def test_a_span_on_an_existing_annotation_costs_six_statements(world: World) -> None:
    doc = world.documents[0]
    client = token_client(world.annotator)
    url = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/spans/"
    first = client.post(url, {"start": 0, "end": 4, "label": "Claim"}, format="json")
    assert first.status_code == 201, first.content
    with CaptureQueriesContext(connection) as ctx:
        r = client.post(url, {"start": 5, "end": 9, "label": "Claim"}, format="json")
    assert r.status_code == 201, r.content
    # token + user; membership + project + document; the annotation locked with the span of
    # that client id; INSERT span; UPDATE version; INSERT audit event
    assert len(statements(ctx)) == 6, statements(ctx)
    assert r.json()["version"] == 2


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
