"""Starting and stopping real Celery worker processes for the export tests (the pattern of
tests/test_worker.py, with the settings an export run reads)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from ..test_worker import ROOT, _database_url


def start_worker(
    *,
    queue: str,
    media: Path,
    lease_seconds: int,
    delay_ms: int = 0,
    pool: str = "solo",
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """A worker on ``queue`` sharing this test's database, broker and media folder, in its
    own process group (so it and its pool processes can be signalled together)."""
    import uuid

    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "true",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": queue,  # where its reaper and check-backs publish
        "CELERY_VISIBILITY_TIMEOUT": "4",  # Redis: redeliver an unacknowledged task soon
        "MEDIA_ROOT": str(media),
        "EXPORT_LEASE_SECONDS": str(lease_seconds),
        "EXPORT_TEST_DELAY_MS": str(delay_ms),
        **(extra_env or {}),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "annotator",
            "worker",
            "--concurrency=1",
            f"--pool={pool}",
            "--loglevel=INFO",
            "-Q",
            queue,
            f"--hostname=export-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen[str]) -> str:
    """Stop the worker (if it still runs) and return the tail of its output."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        return proc.communicate(timeout=20)[0][-4000:]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.communicate()[0][-4000:]
