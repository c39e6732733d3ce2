"""The build itself: the records the selector streams, the claim and its lease (a duplicate
delivery does nothing, an expired lease is taken over, a run that lost its lease cannot write),
the reaper, retries of passing faults, and a read path whose query count does not grow."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from projects import selectors_exports
from projects.domain.exports.records import ExportOptions
from projects.models import Document, Export, ExportStatus
from projects.services import exports

from ..conftest import World
from ..factories import make_documents
from .conftest import annotate, build_now


def run_options(**options: Any) -> ExportOptions:
    return exports.options_from({"format": "jsonl", **options})


# --- what the selector streams ----------------------------------------------------------------


def test_documents_stream_in_byte_order_of_their_ids_with_sorted_records(
    annotated: World,
) -> None:
    world = annotated
    # ids whose byte order differs from a locale's: upper before lower, accents last
    for external_id in ("b-doc", "B-doc", "é-doc", "a-doc", "Z10"):
        Document.objects.create(
            project=world.project,
            external_id=external_id,
            text="plain text",
            length=10,
            sha256="0" * 64,
        )
    docs = list(selectors_exports.export_documents(world.project, run_options()))
    ids = [d.external_id for d in docs]
    assert ids == sorted(ids) and len(ids) == 8
    assert ids.index("B-doc") < ids.index("Z10") < ids.index("a-doc") < ids.index("é-doc")
    first = next(d for d in docs if d.external_id == world.documents[0].external_id)
    assert [(a.annotator, a.gold) for a in first.annotations] == [
        ("ann1", False),
        ("ann2", False),
        (None, True),
    ]
    ann1 = first.annotations[0]
    assert [(s.start, s.end, s.label, s.id) for s in ann1.spans] == [
        (0, 9, "Claim", "c1"),
        (10, 14, "Justification", "j1"),
    ]
    assert all(s.text == first.text[s.start : s.end] for s in ann1.spans)
    assert [(r.source, r.target, r.type) for r in ann1.relations] == [("j1", "c1", "supports")]
    assert [s.value for s in ann1.stances] == ["favor"]


def test_only_submitted_work_is_read_unless_unfinished_is_asked_for(world: World) -> None:
    from ..conftest import client_for

    doc = world.documents[0]
    base = f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/annotation/"
    client_for(world.annotator).post(
        base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json"
    )  # in progress, never submitted
    annotate(world, doc, world.annotator2)

    def annotators(**options: Any) -> list[str | None]:
        docs = selectors_exports.export_documents(world.project, run_options(**options))
        found = next(d for d in docs if d.external_id == doc.external_id)
        return [a.annotator for a in found.annotations]

    assert annotators() == ["ann2"]
    assert annotators(include_unfinished=True) == ["ann1", "ann2"]
    assert annotators(annotations="gold") == []


def test_relations_and_stances_left_out_are_not_even_read(
    annotated: World, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):  # documents, annotations, spans
        docs = list(
            selectors_exports.export_documents(
                annotated.project, run_options(relations=False, stances=False)
            )
        )
    assert all(not a.relations and not a.stances for d in docs for a in d.annotations)


def test_the_read_path_query_count_does_not_grow_with_documents(
    world: World, django_assert_max_num_queries: Any, monkeypatch: Any
) -> None:
    """5 documents and 50 documents cost the same number of queries, for the selector alone
    and for a whole build (progress is written per 500 documents or 2 seconds: kept out of
    reach here so the count is exact)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(exports, "PROGRESS_SECONDS", 3600)

    def annotated_docs(n: int) -> None:
        for doc in make_documents(world.project, n):
            from ..factories import assign

            assign(world.project, doc, world.annotator)
            annotate(world, doc, world.annotator)

    def measure() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as read:
            docs = list(selectors_exports.export_documents(world.project, run_options()))
        export = Export.objects.create(project=world.project, format="jsonl")
        with CaptureQueriesContext(connection) as whole:
            assert build_now(export.pk).status == "done"
        assert len(docs) == Document.objects.filter(project=world.project).count()
        return len(read.captured_queries), len(whole.captured_queries)

    annotated_docs(2)  # with the world's 3: 5 documents
    small_read, small_whole = measure()
    annotated_docs(45)
    with django_assert_max_num_queries(small_read):
        docs = list(selectors_exports.export_documents(world.project, run_options()))
    assert len(docs) == 50
    assert sum(len(a.spans) for d in docs for a in d.annotations) == 2 * 47
    assert measure() == (small_read, small_whole)


# --- claim and lease --------------------------------------------------------------------------


def test_a_second_delivery_while_the_first_runs_does_nothing(world: World) -> None:
    export = Export.objects.create(project=world.project, format="jsonl")
    first = exports.export_claim(export_id=export.pk, worker="w1")
    assert first is not None and first.attempt == 1
    assert exports.export_claim(export_id=export.pk, worker="w2") is None
    assert exports.export_run(export_id=export.pk, worker="w2") is None
    export.refresh_from_db()
    assert (export.status, export.claimed_by, export.attempts) == ("running", "w1", 1)
    assert 0 < exports.lease_remaining(export.pk) <= 300
    done = exports.build(first)
    assert done is not None and done.status == "done"
    assert exports.export_run(export_id=export.pk, worker="w3") is None  # finished: nothing
    assert exports.lease_remaining(export.pk) is None
    assert len(default_storage.listdir(f"exports/{world.project.pk}")[1]) == 1


def test_an_expired_lease_is_taken_over_and_the_old_run_cannot_write(world: World) -> None:
    export = Export.objects.create(project=world.project, format="csv")
    dead = exports.export_claim(export_id=export.pk, worker="dead")
    assert dead is not None
    Export.objects.filter(pk=export.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    heir = exports.export_claim(export_id=export.pk, worker="heir")
    assert heir is not None and heir.attempt == 2
    # the first run wakes up: every write of it is fenced off, and it leaves no file behind
    assert exports.build(dead) is None
    export.refresh_from_db()
    assert (export.status, export.claimed_by, export.file.name) == ("running", "heir", "")
    assert not default_storage.exists(f"exports/{world.project.pk}")
    done = exports.build(heir)
    assert done.status == "done" and done.attempts == 2
    assert default_storage.listdir(f"exports/{world.project.pk}")[1] == [Path(done.file.name).name]


def test_an_export_whose_workers_keep_dying_ends_failed_with_the_reason(
    world: World, settings: Any
) -> None:
    settings.EXPORT_MAX_ATTEMPTS = 2
    export = Export.objects.create(project=world.project, format="jsonl")
    past = timezone.now() - timedelta(seconds=1)
    for _ in range(2):
        assert exports.export_claim(export_id=export.pk, worker="doomed") is not None
        Export.objects.filter(pk=export.pk).update(lease_until=past)
    assert exports.export_claim(export_id=export.pk, worker="third") is None
    export.refresh_from_db()
    assert export.status == "failed" and "stopped 2 times" in export.error


def test_the_reaper_queues_a_dead_run_again_or_gives_it_up(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.EXPORT_MAX_ATTEMPTS = 2
    past = timezone.now() - timedelta(seconds=5)
    future = timezone.now() + timedelta(seconds=60)
    retry = Export.objects.create(
        project=world.project, format="jsonl", status="running", attempts=1, lease_until=past
    )
    hopeless = Export.objects.create(
        project=world.project, format="jsonl", status="running", attempts=2, lease_until=past
    )
    alive = Export.objects.create(
        project=world.project, format="jsonl", status="running", attempts=1, lease_until=future
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert exports.export_reap() == 2
    assert len(queued) == 1  # the one queued again is published once the update commits
    states = dict(Export.objects.values_list("pk", "status"))
    assert states == {retry.pk: "pending", hopeless.pk: "failed", alive.pk: "running"}
    assert exports.export_reap() == 0
    # the re-queued one is claimed like a fresh delivery
    claim = exports.export_claim(export_id=retry.pk, worker="next")
    assert claim is not None and claim.attempt == 2


def test_looking_at_an_export_resolves_a_dead_run(world: World, settings: Any) -> None:
    """No beat, no restarted worker: a poll is enough for a dead run to be queued again."""
    from ..conftest import client_for

    settings.EXPORT_MAX_ATTEMPTS = 1
    export = Export.objects.create(
        project=world.project,
        format="jsonl",
        status="running",
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    body = client_for(world.lead).get(f"/api/v1/projects/{world.project.pk}/exports/{export.pk}/")
    assert body.json()["status"] == "failed" and "stopped 1 times" in body.json()["error"]


# --- failures and retries ---------------------------------------------------------------------


def test_an_unexpected_error_fails_the_export_with_the_reason_and_no_retry(
    world: World, monkeypatch: Any
) -> None:
    from projects.tasks import export_run

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("a writer bug")

    monkeypatch.setattr(exports, "write_export", broken)
    export = Export.objects.create(project=world.project, format="jsonl")
    export_run.apply(args=[export.pk])
    export.refresh_from_db()
    assert export.status == "failed" and export.attempts == 1
    assert "ValueError: a writer bug" in export.error


def test_a_storage_that_keeps_failing_is_retried_then_the_export_fails(
    world: World, settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """A real storage fault: the media folder is a file, so every save raises an OSError.
    Each retry claims the export afresh (the failed attempt released it)."""
    from projects.tasks import export_run

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.MEDIA_ROOT = str(blocked)
    monkeypatch.setattr(export_run, "max_retries", 2)
    export = Export.objects.create(project=world.project, format="jsonl")
    export_run.apply(args=[export.pk])  # eager: the retries run at once, one after the other
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.attempts == 3  # the first try and two retries
    assert "passing fault" in export.error and "Error" in export.error
    assert export.file.name == ""


def test_a_storage_fault_that_passes_is_retried_to_done(
    world: World, settings: Any, tmp_path: Path
) -> None:
    """The first attempt finds the media folder blocked, the retry finds it free (the blocking
    file is removed when the first attempt releases its claim)."""
    from projects.tasks import export_run

    blocked = tmp_path / "media-later"
    blocked.write_text("")
    settings.MEDIA_ROOT = str(blocked)
    release = exports._release

    def release_and_unblock(claim: Any) -> None:
        release(claim)
        if blocked.is_file():
            blocked.unlink()

    import projects.services.exports as module

    module._release = release_and_unblock  # type: ignore[assignment]
    try:
        export = Export.objects.create(project=world.project, format="jsonl")
        export_run.apply(args=[export.pk])
    finally:
        module._release = release  # type: ignore[assignment]
    export.refresh_from_db()
    assert (export.status, export.attempts) == ("done", 2)
    assert default_storage.exists(export.file.name)


def test_the_task_does_nothing_with_a_finished_or_missing_export(world: World) -> None:
    from projects.tasks import export_run

    export = Export.objects.create(project=world.project, format="jsonl")
    build_now(export.pk)
    export.refresh_from_db()
    before = (export.status, export.attempts, export.file.name, export.finished_at)
    export_run.apply(args=[export.pk])
    export_run.apply(args=[987654])
    export.refresh_from_db()
    assert (export.status, export.attempts, export.file.name, export.finished_at) == before


def test_options_stored_in_a_row_are_checked_again_at_build_time(world: World) -> None:
    export = Export.objects.create(
        project=world.project, format="jsonl", options={"format": "jsonl", "seed": "x"}
    )
    result = build_now(export.pk)
    assert result.status == ExportStatus.FAILED and "seed" in result.error


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "conll", "brat", "spacy", "hf"])
def test_every_format_builds_from_the_database(annotated: World, fmt: str) -> None:
    export = Export.objects.create(project=annotated.project, format=fmt, options={"format": fmt})
    result = build_now(export.pk)
    assert result.status == "done", result.error
    assert result.file.name.endswith(result.extension)
    manifest = json.loads(result.manifest)
    assert manifest["format"] == fmt and manifest["counts"]["documents"] == 2
    with default_storage.open(result.file.name) as f:
        assert len(f.read()) == result.size


def test_a_delivery_that_finds_a_live_run_checks_back_when_its_lease_ends(
    world: World, monkeypatch: Any, settings: Any
) -> None:
    from projects.tasks import export_run

    checks: list[dict[str, Any]] = []
    monkeypatch.setattr(export_run, "apply_async", lambda **kw: checks.append(kw))
    export = Export.objects.create(project=world.project, format="jsonl")
    assert exports.export_claim(export_id=export.pk, worker="alive") is not None
    export_run.apply(args=[export.pk])  # a duplicate delivery
    export.refresh_from_db()
    assert (export.status, export.attempts, export.claimed_by) == ("running", 1, "alive")
    assert len(checks) == 1 and checks[0]["args"] == [export.pk]
    lease = settings.EXPORT_LEASE_SECONDS
    assert lease - 30 < checks[0]["countdown"] <= lease + 1  # when the live lease ends
    # a finished export needs no check-back
    Export.objects.filter(pk=export.pk).update(status="failed", error="x", lease_until=None)
    export_run.apply(args=[export.pk])
    assert len(checks) == 1
