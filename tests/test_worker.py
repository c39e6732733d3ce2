"""A real Celery worker process (not eager mode) consumes a task from the configured broker:
the filesystem broker by default, Redis in CI (CELERY_BROKER_URL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from annotator.logs import bind_request_id, unbind_request_id
from projects.models import AuditEvent
from projects.tasks import worker_ping

ROOT = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


QUEUE = f"test-{uuid.uuid4().hex[:8]}"  # its own queue: a developer's running worker can't steal it


@pytest.fixture
def worker(transactional_db: Any) -> Any:
    if str(connection.settings_dict["NAME"]).startswith(("file:memorydb", ":memory:")):
        pytest.fail("the worker test needs a file or server database (see SQLITE_TEST_NAME)")
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "true",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "annotator",
            "worker",
            "--concurrency=1",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            QUEUE,
            f"--hostname=test-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.worker
def test_a_real_worker_process_runs_a_task_from_the_broker(worker: Any) -> None:
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    token = uuid.uuid4().hex
    bound = bind_request_id("req-from-the-web")
    try:
        worker_ping.apply_async(args=[token], queue=QUEUE)
    finally:
        unbind_request_id(bound)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        event = AuditEvent.objects.filter(action="worker.ping", object_id=token).first()
        if event is not None:
            # the task ran with the id of the request that queued it
            assert event.data["request_id"] == "req-from-the-web"
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.25)
    else:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0]
        pytest.fail(f"no worker ran the task within 60 s; worker output:\n{output[-3000:]}")


@pytest.mark.worker
def test_a_large_projects_agreement_is_computed_by_the_worker(worker: Any, settings: Any) -> None:
    """Above AGREEMENT_SYNC_MAX_ANNOTATIONS the API answers 202 with progress, a real worker
    computes the report into the shared cache, and the same request then answers 200."""
    from django.core.cache import cache

    from .conftest import client_for
    from .factories import add_member, make_documents, make_project, make_user

    settings.AGREEMENT_SYNC_MAX_ANNOTATIONS = 1
    settings.CELERY_TASK_DEFAULT_QUEUE = QUEUE
    cache.clear()
    lead = make_user("worker-lead")
    project = make_project(lead=lead, name="Worker agreement")
    docs = make_documents(project, 3)
    for name in ("w1", "w2"):
        user = make_user(name)
        add_member(project, user, "annotator")
        client = client_for(user)
        for doc in docs:
            from .factories import assign

            assign(project, doc, user)
            base = f"/api/v1/projects/{project.pk}/documents/{doc.pk}/annotation/"
            client.post(base + "spans/", {"start": 0, "end": 9, "label": "Claim"}, format="json")
            client.post(base + "submit/", {}, format="json")
    url = f"/api/v1/projects/{project.pk}/agreement/"
    first = client_for(lead).get(url)
    assert first.status_code == 202, first.content
    assert first.json()["progress"]["total"] == 3
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client_for(lead).get(url)
        if r.status_code == 200:
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.5)
    else:
        worker.send_signal(signal.SIGTERM)
        pytest.fail("no worker computed the report: " + worker.communicate(timeout=20)[0][-3000:])
    assert r.json()["report"]["documents"] == 3
    assert r.json()["report"]["spans"]["exact_labelled"]["f1"]["value"] == 1.0
