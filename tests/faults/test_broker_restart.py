"""The broker (Redis or RabbitMQ) goes away in the middle of an export, the worker building
it is killed, and both come back: the export ends done (or failed with a reason), never stuck.

The web server (gunicorn) and the workers reach the broker through a TCP proxy; cutting it
drops their connections and refuses new ones, as a broker restart does. While it is down the
worker building an export is SIGKILLed, an export requested meanwhile gets a clear 503 and is
marked failed, and ``/healthz`` names the broker. A new worker is started while the broker is
still down (an orchestrator restarting it); once the broker is back the worker connects, finds
the dead run's expired lease and builds the export again, once. Twice: with the broker keeping
its data over the restart (the killed worker's unacknowledged message is delivered again as
well) and with the broker losing it (no persistence: only the lease brings the export back).
The web server then queues a new export through its own reconnected broker connection.

Runs when CELERY_BROKER_URL is redis:// (CI's second suite run) or amqp:// (CI's RabbitMQ
step); the filesystem broker has no server to take away.
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
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from kombu import Connection

from projects.models import Export
from projects.services.tokens import token_create

from ..exports import workers
from ..exports.test_worker_exports import in_process_sha256, project_with_work
from ..test_worker import _database_url
from .infra import TcpProxy, WebServer, http, start_web, through

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 3
OUTAGE_SECONDS = 5
SETTLE_SECONDS = 45  # the bound within which every export must have ended


@pytest.fixture
def broker_proxy(transactional_db: Any) -> Iterator[TcpProxy]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "amqp://")):
        pytest.skip(
            "the broker restart test cuts the connections to a broker server; this run's "
            f"broker is {url.split(':', 1)[0]} (set CELERY_BROKER_URL=redis://... or amqp://...)"
        )
    if str(connection.settings_dict["NAME"]).startswith(("file:memorydb", ":memory:")):
        pytest.fail("the worker tests need a file or server database (see SQLITE_TEST_NAME)")
    parts = urlsplit(url)
    default_port = 6379 if parts.scheme == "redis" else 5672
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or default_port).start()
    yield proxy
    proxy.close()


@pytest.fixture
def queue(broker_proxy: TcpProxy) -> Iterator[str]:
    """This test's own queue (a developer's running worker cannot steal from it), removed
    afterwards: RabbitMQ would keep a durable queue forever."""
    name = f"test-faults-{uuid.uuid4().hex[:8]}"
    direct = settings.CELERY_BROKER_URL  # not through the proxy (start_worker changes it)
    yield name
    try:
        with Connection(direct, connect_timeout=5) as conn:
            conn.default_channel.queue_delete(name)
    except Exception as exc:  # cleanup only: the test's outcome is already decided
        print(f"could not delete queue {name}: {exc}")


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def web(broker_proxy: TcpProxy, queue: str, media: Path, tmp_path: Path) -> Iterator[WebServer]:
    server = start_web(
        {
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": through(settings.CELERY_BROKER_URL, broker_proxy),
            "CELERY_QUEUE": queue,
            "MEDIA_ROOT": str(media),
            "EXPORT_LEASE_SECONDS": str(LEASE_SECONDS),
        },
        tmp_path / "web",
    )
    yield server
    server.stop()


@pytest.fixture
def start_worker(
    broker_proxy: TcpProxy, queue: str, media: Path, settings: Any
) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Workers on this test's queue that reach the broker through the proxy."""
    settings.CELERY_BROKER_URL = through(settings.CELERY_BROKER_URL, broker_proxy)
    settings.EXPORT_LEASE_SECONDS = LEASE_SECONDS
    started: list[subprocess.Popen[str]] = []

    def start(*, delay_ms: int) -> subprocess.Popen[str]:
        proc = workers.start_worker(
            queue=queue, media=media, lease_seconds=LEASE_SECONDS, delay_ms=delay_ms
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        workers.stop_worker(proc)


def wait_for(
    check: Callable[[], bool], *, what: str, timeout: float, logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{logs()}")


def forget_messages_of(queue: str, proxy: TcpProxy) -> int:
    """What a broker restart without persistence does to this test's messages (only this
    test's: the machine's broker is shared): the queued ones and the unacknowledged ones go.
    Returns how many went."""
    parts = urlsplit(settings.CELERY_BROKER_URL)
    host, port = proxy.target
    if parts.scheme == "redis":
        import redis

        client = redis.Redis(host=host, port=port, db=int(parts.path.strip("/") or 0))
        gone = client.delete(queue)
        for tag, raw in client.hgetall("unacked").items():
            if queue.encode() in raw:
                gone += client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        client.close()
        return int(gone)
    # RabbitMQ puts a dead connection's unacknowledged messages back in the queue, when it
    # has noticed the connection closed: purge until they are there
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    gone = 0
    with Connection(parts._replace(netloc=f"{auth}{host}:{port}").geturl()) as conn:
        deadline = time.monotonic() + 10
        while not gone and time.monotonic() < deadline:
            gone = conn.default_channel.queue_purge(queue) or 0
            time.sleep(0.2)
    return int(gone)


@pytest.mark.parametrize("broker_keeps_its_data", [True, False], ids=["persistent", "volatile"])
def test_a_broker_restart_and_a_killed_worker_leave_no_export_stuck(
    broker_keeps_its_data: bool,
    broker_proxy: TcpProxy,
    web: WebServer,
    start_worker: Callable[..., subprocess.Popen[str]],
    queue: str,
) -> None:
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    project, lead = project_with_work(40)
    _, token = token_create(user_id=lead.pk, name="faults")
    exports_url = f"{web.url}/api/v1/projects/{project.pk}/exports/"
    first = start_worker(delay_ms=150)  # ~6 s for 40 documents: time to take things away
    output: dict[str, str] = {}

    def logs() -> str:
        rows = list(Export.objects.values_list("pk", "status", "attempts", "error"))
        return f"exports: {rows}\n--- web:\n{web.output()}\n" + "\n".join(
            f"--- {name}:\n{text}" for name, text in output.items()
        )

    status, created = http(
        exports_url,
        method="POST",
        body={"format": "csv", "splits": {"train": 0.5, "test": 0.5}, "seed": 1},
        token=token,
    )
    assert status == 202, created
    export = Export.objects.get(pk=created["id"])

    def halfway() -> bool:
        export.refresh_from_db()
        return export.status == "running" and export.progress_done > 0

    wait_for(halfway, what="the first worker to start the export", timeout=60, logs=logs)

    # the broker goes away, and the worker building the export dies with it
    broker_proxy.cut()
    down_at = time.monotonic()
    os.killpg(first.pid, signal.SIGKILL)
    output["killed worker"] = workers.stop_worker(first)
    export.refresh_from_db()
    assert export.status == "running" and export.progress_done < 40  # left mid-export

    # asked for meanwhile: a clear 503, and the row says why it failed
    asked = time.monotonic()
    status, refused = http(exports_url, method="POST", body={"format": "jsonl"}, token=token)
    refused_in = time.monotonic() - asked
    assert status == 503, refused
    assert refused["error"]["code"] == "unavailable"
    assert "task queue cannot be reached" in refused["error"]["message"]
    assert refused_in < 10, f"the refusal took {refused_in:.1f} s"
    orphan = Export.objects.exclude(pk=export.pk).get(project=project)
    assert orphan.status == "failed"
    assert "task queue could not be reached" in orphan.error
    health_status, health = http(web.url + "/healthz", timeout=15)
    assert health_status == 503, health
    assert health["checks"]["broker"] != "ok" and health["checks"]["database"] == "ok", health

    if not broker_keeps_its_data:
        assert forget_messages_of(queue, broker_proxy) >= 1  # the killed worker's message
    # a new worker is started while the broker is still down: it keeps trying to connect
    second = start_worker(delay_ms=10)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    assert second.poll() is None, workers.stop_worker(second)
    broker_proxy.restore()
    back_at = time.monotonic()

    def ended() -> bool:
        export.refresh_from_db()  # no API reads (they would reap): the worker recovers alone
        return export.status in ("done", "failed")

    wait_for(ended, what="the export to end", timeout=SETTLE_SECONDS, logs=logs)
    ended_in = time.monotonic() - back_at
    assert export.status == "done", export.error
    assert export.attempts == 2  # the dead run's claim and the new worker's, nothing more
    assert export.progress_done == export.progress_total == 40
    with default_storage.open(export.file.name) as f:
        content = f.read()
    assert len(content) == export.size and hashlib.sha256(content).hexdigest() == export.sha256
    assert default_storage.listdir(f"exports/{project.pk}")[1] == [Path(export.file.name).name]
    assert export.sha256 == in_process_sha256(project, export.options)
    Export.objects.filter(requested_by__isnull=True).delete()  # the reference build

    # the web server's own broker connection came back too: a new request is queued and built
    status, again = http(exports_url, method="POST", body={"format": "jsonl"}, token=token)
    assert status == 202, (again, logs())
    wait_for(
        lambda: Export.objects.get(pk=again["id"]).status in ("done", "failed"),
        what="an export requested after the restart",
        timeout=SETTLE_SECONDS,
        logs=logs,
    )
    assert Export.objects.get(pk=again["id"]).status == "done"

    # a late redelivery of the killed worker's message (the persistent case) changes nothing
    time.sleep(LEASE_SECONDS + 1)
    final = {e.pk: (e.status, e.attempts) for e in Export.objects.filter(project=project)}
    assert final == {export.pk: ("done", 2), orphan.pk: ("failed", 0), again["id"]: ("done", 1)}
    output["new worker"] = workers.stop_worker(second)
    assert "Traceback" not in web.output(), web.output()
    print(
        f"broker down {OUTAGE_SECONDS} s, data {'kept' if broker_keeps_its_data else 'lost'}: "
        f"refused in {refused_in:.2f} s; export done {ended_in:.1f} s after the broker returned"
    )


def test_a_worker_that_lives_through_a_broker_restart_finishes_its_export_and_takes_new_ones(
    broker_proxy: TcpProxy, web: WebServer, start_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    """The common case: the broker restarts, the workers keep running. The export being built
    goes on (it needs only the database), ends done once (its acknowledgement is lost with the
    connection, so the broker may deliver it again: that delivery finds it done), and the
    worker reconnects and builds the next one."""
    project, lead = project_with_work(40)
    _, token = token_create(user_id=lead.pk, name="faults")
    exports_url = f"{web.url}/api/v1/projects/{project.pk}/exports/"
    worker = start_worker(delay_ms=150)

    def logs() -> str:
        rows = list(Export.objects.values_list("pk", "status", "attempts", "error"))
        return f"exports: {rows}\n--- web:\n{web.output()}\n--- worker:\n" + (
            workers.stop_worker(worker)
        )

    status, created = http(exports_url, method="POST", body={"format": "jsonl"}, token=token)
    assert status == 202, created
    export = Export.objects.get(pk=created["id"])

    def halfway() -> bool:
        export.refresh_from_db()
        return export.status == "running" and export.progress_done > 0

    wait_for(halfway, what="the worker to start the export", timeout=60, logs=logs)
    broker_proxy.cut()
    time.sleep(OUTAGE_SECONDS)
    broker_proxy.restore()

    def ended() -> bool:
        export.refresh_from_db()
        return export.status in ("done", "failed")

    wait_for(ended, what="the export to end", timeout=SETTLE_SECONDS, logs=logs)
    assert export.status == "done", export.error
    assert export.attempts == 1 and export.progress_done == 40

    status, again = http(exports_url, method="POST", body={"format": "csv"}, token=token)
    assert status == 202, (again, logs())
    wait_for(
        lambda: Export.objects.get(pk=again["id"]).status in ("done", "failed"),
        what="an export requested after the restart",
        timeout=SETTLE_SECONDS,
        logs=logs,
    )
    time.sleep(LEASE_SECONDS + 2)  # room for a redelivery of the first export's message
    final = {e.pk: (e.status, e.attempts) for e in Export.objects.filter(project=project)}
    assert final == {export.pk: ("done", 1), again["id"]: ("done", 1)}, logs()
    assert worker.poll() is None, logs()
