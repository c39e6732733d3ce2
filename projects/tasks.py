"""Celery tasks: thin. They take ids, call a service, and are safe to run twice (tasks are
acknowledged late, so a task whose worker dies is delivered again).

Exports arrive with their own task; this module starts with a round trip that proves a worker
consumes from the configured broker and writes to the same database as the web process.
"""

from __future__ import annotations

from celery import shared_task

from projects.services.audit import audit_record


@shared_task(name="projects.worker_ping")
def worker_ping(token: str) -> None:
    """Leave a trace the caller can look for. Idempotent in effect: a re-delivery adds a
    second event with the same token, which the caller treats the same."""
    audit_record(actor_id=None, action="worker.ping", object_type="ping", object_id=token[:64])
