"""Celery tasks: thin. They take ids, call a service, and are safe to run twice (tasks are
acknowledged late, so a task whose worker dies is delivered again).

The agreement report of a large project is computed here into the shared cache; a round trip
proves that a worker consumes from the configured broker and writes to the same database as the
web process.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.cache import cache

from projects.services.audit import audit_record


@shared_task(name="projects.worker_ping")
def worker_ping(token: str) -> None:
    """Leave a trace the caller can look for. Idempotent in effect: a re-delivery adds a
    second event with the same token, which the caller treats the same."""
    audit_record(actor_id=None, action="worker.ping", object_type="ping", object_id=token[:64])


@shared_task(
    name="projects.agreement_compute", acks_late=True, time_limit=3600, soft_time_limit=3300
)
def agreement_compute(project_id: int, filters: dict[str, Any], key: str) -> None:
    """Compute one agreement report into the shared cache. Safe to run twice: the second run
    finds the report cached and does nothing."""
    from projects import selectors
    from projects.models import Project

    project = Project.objects.filter(pk=project_id).first()
    try:
        if project is not None:
            selectors.agreement_for(project, selectors.AgreementFilters.from_json(filters), key=key)
    finally:
        cache.delete(f"{key}:lock")
