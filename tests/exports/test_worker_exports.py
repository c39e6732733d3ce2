"""Exports built by a REAL Celery worker process (not eager mode), from the configured broker:
the filesystem broker by default, Redis in CI (CELERY_BROKER_URL).

The kill test SIGKILLs the worker mid-export and starts another one: the export must end done,
once, with a complete file whose checksum is right and whose bytes equal an in-process build of
the same options. With the filesystem broker the killed worker's message is gone (that
transport deletes a message when it hands it out), so the export is recovered by the reaper
once its lease runs out; with Redis the unacknowledged message also comes back after the
visibility timeout. Either way one run finishes it and the other delivery does nothing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from projects.models import Export

from ..conftest import client_for
from ..factories import add_member, assign, make_documents, make_project, make_user
from . import workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"test-exports-{uuid.uuid4().hex[:8]}"
LEASE_SECONDS = 3


@pytest.fixture
def start_worker(media: Path, settings: Any) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start real worker processes on this test's own queue, sharing its database, broker and
    media folder; every one still running is stopped at the end."""
    if str(connection.settings_dict["NAME"]).startswith(("file:memorydb", ":memory:")):
        pytest.fail("the worker tests need a file or server database (see SQLITE_TEST_NAME)")
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    settings.EXPORT_LEASE_SECONDS = LEASE_SECONDS
    started: list[subprocess.Popen[str]] = []

    def start(*, delay_ms: int = 0, pool: str = "solo") -> subprocess.Popen[str]:
        proc = workers.start_worker(
            queue=QUEUE, media=media, lease_seconds=LEASE_SECONDS, delay_ms=delay_ms, pool=pool
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        workers.stop_worker(proc)


def output_of(proc: subprocess.Popen[str]) -> str:
    return workers.stop_worker(proc)


def project_with_work(documents: int) -> tuple[Any, Any]:
    lead = make_user("export-lead")
    project = make_project(lead=lead, name="Worker exports")
    docs = make_documents(project, documents)
    annotator = make_user("export-ann")
    add_member(project, annotator, "annotator")
    client = client_for(annotator)
    for doc in docs[:3]:
        assign(project, doc, annotator)
        base = f"/api/v1/projects/{project.pk}/documents/{doc.pk}/annotation/"
        client.post(base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json")
        client.post(base + "submit/", {}, format="json")
    return project, lead


def wait_for(
    check: Callable[[], bool], *, what: str, workers: list[Any], timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for proc in workers:
            if proc.poll() is not None and proc.returncode not in (-signal.SIGKILL,):
                pytest.fail(f"a worker exited early while waiting for {what}:\n{output_of(proc)}")
        time.sleep(0.3)
    logs = "\n----\n".join(output_of(p) for p in workers)
    pytest.fail(f"timed out waiting for {what}; worker output:\n{logs}")


def in_process_sha256(project: Any, options: dict[str, Any]) -> str:
    """The same options built in this process: the reference bytes."""
    from .conftest import build_now

    reference = Export.objects.create(project=project, format=options["format"], options=options)
    return str(build_now(reference.pk).sha256)


def test_a_real_worker_builds_an_export_requested_through_the_api(
    start_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    project, lead = project_with_work(5)
    worker = start_worker()
    client = client_for(lead)
    url = f"/api/v1/projects/{project.pk}/exports/"
    created = client.post(url, {"format": "jsonl", "annotations": "all"}, format="json")
    assert created.status_code == 202, created.content
    detail = created["Location"]
    wait_for(
        lambda: client.get(detail).json()["status"] in ("done", "failed"),
        what="the export",
        workers=[worker],
    )
    body = client.get(detail).json()
    assert body["status"] == "done", body["error"]
    assert body["attempts"] == 1 and body["progress"]["done"] == 5
    download = client.get(body["urls"]["download"])
    content = b"".join(download.streaming_content)
    assert hashlib.sha256(content).hexdigest() == body["sha256"]
    assert content.count(b"\n") == 3  # the three documents with submitted work
    assert body["sha256"] == in_process_sha256(project, body["options"])


def test_a_worker_killed_mid_export_is_replaced_and_the_export_completes_once(
    start_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    project, lead = project_with_work(40)
    first = start_worker(delay_ms=150)  # ~6 s for 40 documents: time to kill it halfway
    client = client_for(lead)
    created = client.post(
        f"/api/v1/projects/{project.pk}/exports/",
        {"format": "csv", "splits": {"train": 0.5, "test": 0.5}, "seed": 1},
        format="json",
    )
    assert created.status_code == 202, created.content
    export = Export.objects.get(pk=created.json()["id"])

    def halfway() -> bool:
        export.refresh_from_db()
        return export.status == "running" and export.progress_done > 0

    wait_for(halfway, what="the first worker to start the export", workers=[first])
    assert export.progress_done < 40
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=20)
    export.refresh_from_db()
    assert export.status == "running" and export.attempts == 1  # left mid-export

    second = start_worker(delay_ms=10)
    detail = created["Location"]
    wait_for(
        lambda: client.get(detail).json()["status"] in ("done", "failed"),
        what="the export to be taken over",
        workers=[second],
    )
    export.refresh_from_db()
    assert export.status == "done", export.error
    assert export.attempts == 2 and export.claimed_by != ""
    assert export.progress_done == export.progress_total == 40
    with default_storage.open(export.file.name) as f:
        content = f.read()
    assert len(content) == export.size
    assert hashlib.sha256(content).hexdigest() == export.sha256
    # one file: the killed run never stored anything
    assert default_storage.listdir(f"exports/{project.pk}")[1] == [Path(export.file.name).name]
    # complete and right: the same bytes as an uninterrupted build of the same options
    assert export.sha256 == in_process_sha256(project, export.options)
    # a late duplicate delivery (Redis's redelivery, a check-back) changes nothing
    time.sleep(LEASE_SECONDS + 2)
    again = Export.objects.get(pk=export.pk)
    assert (again.status, again.attempts, again.file.name) == ("done", 2, export.file.name)


def pool_children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_pool_process_killed_mid_export_is_replaced_by_the_same_worker(
    start_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    """The usual production failure (the out-of-memory killer takes the pool process, the big
    one): the worker requeues the task at once (task_reject_on_worker_lost), the redelivery
    finds the dead run's lease still live and checks back when it ends, and then takes over."""
    project, lead = project_with_work(30)
    worker = start_worker(delay_ms=150, pool="prefork")
    client = client_for(lead)
    created = client.post(
        f"/api/v1/projects/{project.pk}/exports/", {"format": "jsonl"}, format="json"
    )
    export = Export.objects.get(pk=created.json()["id"])

    def halfway() -> bool:
        export.refresh_from_db()
        return export.status == "running" and export.progress_done > 0

    wait_for(halfway, what="the pool process to start the export", workers=[worker])
    children = pool_children(worker.pid)
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)

    def finished() -> bool:
        export.refresh_from_db()  # no API reads here: the worker must recover on its own
        return export.status in ("done", "failed")

    wait_for(finished, what="the export to be taken over", workers=[worker])
    assert export.status == "done", export.error
    assert export.attempts == 2
    assert default_storage.listdir(f"exports/{project.pk}")[1] == [Path(export.file.name).name]
    assert export.sha256 == in_process_sha256(project, export.options)
