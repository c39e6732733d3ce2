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
    worker_ping.apply_async(args=[token], queue=QUEUE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if AuditEvent.objects.filter(action="worker.ping", object_id=token).exists():
            break
        if worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()}")
        time.sleep(0.25)
    else:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0]
        pytest.fail(f"no worker ran the task within 60 s; worker output:\n{output[-3000:]}")
