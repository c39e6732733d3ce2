"""The two ways the records of an export are read give the same records.

On PostgreSQL outside a transaction (a worker, the CLI), ``export_documents`` reads one
``COPY`` on a connection of its own, the database grouping each document's work; inside a
transaction, and on SQLite, it merges five streams on the current connection. The exports of
CI's PostgreSQL pass go through both, so here the two are compared on the same, awkward,
committed data under every option that changes the query.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from projects import selectors_exports
from projects.domain.exports.records import ExportDocument
from projects.models import (
    Annotation,
    AnnotationKind,
    AnnotationStatus,
    Document,
    Export,
    Label,
    Relation,
    RelationType,
    Span,
    Stance,
    StanceTarget,
)
from projects.services import exports

from ..conftest import World
from ..factories import make_user

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY read is PostgreSQL's"
)

OPTIONS = (
    {},
    {"include_unfinished": True},
    {"annotations": "gold"},
    {"annotations": "merged"},
    {"relations": False, "stances": False},
    {"relations": False, "include_unfinished": True},
)


def awkward(world: World) -> None:
    """Work whose order differs between byte order and a locale's or insertion order, deleted
    rows, unicode, attributes, a gold, unfinished work and a relation to another annotation's
    span. Built with the ORM (committed, in a transactional test)."""
    project = world.project
    labels = {label.name: label for label in Label.objects.filter(project=project)}
    rtype = RelationType.objects.filter(project=project).first()
    target = StanceTarget.objects.filter(project=project).first()
    assert labels and rtype is not None and target is not None
    # "Zed" sorts before "ann1" in byte order, after it in most locales
    zed = make_user("Zed")
    text = "Café owners 🙂 said: the family 👨\u200d👩\u200d👧 agrees.\n中国人民 talks"
    for external_id in ("b-doc", "B-doc", "é-doc", "a-doc", "Z10", "\U0001f600 doc"):
        Document.objects.create(
            project=project,
            external_id=external_id,
            title="Ünïcode",
            text=text,
            length=len(text),
            sha256="0" * 64,
            meta={"z": 1.5, "a": {"nested": ["x", "ÿ"]}, "n": None},
        )
    gone = Document.objects.create(
        project=project, external_id="gone", text=text, length=len(text), sha256="0" * 64
    )
    docs = list(Document.objects.filter(project=project, external_id__in=["b-doc", "é-doc"]))
    docs.append(gone)
    names = sorted(labels)
    for number, doc in enumerate(docs):
        for user, kind, status in (
            (world.annotator, AnnotationKind.ANNOTATOR, AnnotationStatus.SUBMITTED),
            (zed, AnnotationKind.ANNOTATOR, AnnotationStatus.SUBMITTED),
            (world.annotator2, AnnotationKind.ANNOTATOR, AnnotationStatus.IN_PROGRESS),
            (None, AnnotationKind.GOLD, AnnotationStatus.SUBMITTED),
        ):
            annotation = Annotation.objects.create(
                project=project, document=doc, annotator=user, kind=kind, status=status
            )
            # same extent under every label; ids whose byte order is not insertion order
            spans = [
                Span.objects.create(
                    annotation=annotation,
                    client_id=client_id,
                    start=start,
                    end=end,
                    label=labels[name],
                    attributes=attributes,
                )
                for client_id, start, end, name, attributes in (
                    ("b", 12, 13, names[-1], {"stance": "favor", "source": "é"}),
                    ("A", 12, 13, names[-1], {}),
                    ("B", 12, 13, names[0], {}),
                    ("é", 0, 4, names[0], {"source": "=cmd"}),
                    ("a", 0, 11, names[-1], {"stance": "against"}),
                    ("Z", 0, 4, names[-1], {}),
                )
            ]
            Relation.objects.create(
                annotation=annotation, client_id="r1", source=spans[0], target=spans[3], type=rtype
            )
            Relation.objects.create(
                annotation=annotation, client_id="r2", source=spans[2], target=spans[0], type=rtype
            )
            Stance.objects.create(annotation=annotation, target=target, value=f"v{number}")
    # a relation pointing at another annotation's span is left out by both reads
    first, second = Annotation.objects.filter(document=docs[0])[:2]
    Relation.objects.create(
        annotation=first,
        client_id="stray",
        source=first.spans.get(client_id="b"),
        target=Span.objects.create(
            annotation=second, client_id="elsewhere", start=1, end=2, label=labels[names[0]]
        ),
        type=rtype,
    )
    # deleted work is never read: an annotation on its own, a document with its annotations
    Annotation.objects.filter(document=docs[1], annotator=zed).update(deleted_at=timezone.now())
    Annotation.objects.filter(document=gone).update(deleted_at=timezone.now())
    Document.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())


def both_reads(world: World, **raw: Any) -> tuple[list[ExportDocument], list[ExportDocument]]:
    options = exports.options_from({"format": "jsonl", **raw})
    copied = list(selectors_exports._copied_documents(world.project, options))
    streamed = list(selectors_exports._streamed_documents(world.project, options))
    return copied, streamed


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("raw", OPTIONS, ids=lambda raw: ",".join(raw) or "defaults")
def test_the_copy_read_gives_the_records_the_five_streams_give(
    world: World, raw: dict[str, Any]
) -> None:
    awkward(world)
    copied, streamed = both_reads(world, **raw)
    assert copied == streamed
    ids = [document.external_id for document in copied]
    assert ids == sorted(ids) and "gone" not in ids and len(ids) == 9
    annotators = {a.annotator for d in copied for a in d.annotations}
    assert "Zed" in annotators or raw.get("annotations") == "gold"


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_awkward_data_is_as_awkward_as_intended(world: World) -> None:
    """What the comparison above relies on: the orders really differ from insertion order,
    the stray relation and the deleted rows are really there to be left out."""
    awkward(world)
    copied, _ = both_reads(world, include_unfinished=True)
    doc = next(d for d in copied if d.external_id == "b-doc")
    assert [a.annotator for a in doc.annotations] == ["Zed", "ann1", "ann2", None]
    spans = doc.annotations[0].spans
    assert [s.id for s in spans] == ["é", "Z", "a", "B", "A", "b"]
    assert spans[-1].attributes == {"source": "é", "stance": "favor"}
    assert spans[-1].text == doc.text[12:13] == "🙂"
    ann1 = doc.annotations[1]
    assert [(r.source, r.target) for r in ann1.relations] == [("B", "b"), ("b", "é")]
    stray = Relation.objects.get(client_id="stray")
    assert stray.annotation_id != stray.target.annotation_id
    assert doc.meta == {"z": 1.5, "a": {"nested": ["x", "ÿ"]}, "n": None}
    other = next(d for d in copied if d.external_id == "é-doc")
    assert "Zed" not in [a.annotator for a in other.annotations]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_an_export_reads_by_copy_and_builds_the_same_file(
    world: World, monkeypatch: Any
) -> None:
    from .conftest import build_now

    awkward(world)
    copies: list[str] = []
    real = selectors_exports._copy_rows

    def spy(query: str, params: Any) -> Any:
        copies.append(query)
        return real(query, params)

    monkeypatch.setattr(selectors_exports, "_copy_rows", spy)
    export = Export.objects.create(project=world.project, format="jsonl")
    copied = build_now(export.pk)
    assert copied.status == "done" and len(copies) == 1
    with transaction.atomic():
        export = Export.objects.create(project=world.project, format="jsonl")
        streamed = build_now(export.pk)
    assert streamed.status == "done" and len(copies) == 1
    assert copied.sha256 == streamed.sha256 and copied.counts == streamed.counts


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_copy_read_dropped_half_way_gives_its_connection_back(world: World) -> None:
    awkward(world)

    def backends() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            )
            return int(cursor.fetchone()[0])

    before = backends()
    options = exports.options_from({"format": "jsonl"})
    documents = selectors_exports._copied_documents(world.project, options)
    next(documents)
    assert backends() == before + 1
    documents.close()
    for _ in range(100):  # the server ends the backend a moment after the client hangs up
        if backends() == before:
            break
        time.sleep(0.05)
    assert backends() == before


def test_inside_a_transaction_an_export_reads_the_transactions_own_rows(world: World) -> None:
    """A second connection would not see them: inside a transaction (this test's, or a
    caller's) the read stays on the current connection, on every database."""
    options = exports.options_from({"format": "jsonl"})
    with transaction.atomic():
        Document.objects.create(
            project=world.project, external_id="new", text="new text", length=8, sha256="0" * 64
        )
        ids = [d.external_id for d in selectors_exports.export_documents(world.project, options)]
    assert "new" in ids
