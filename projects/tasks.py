"""Celery tasks: thin. They take ids, call a service, and are safe to run twice (tasks are
acknowledged late, so a task whose worker dies is delivered again).

The agreement report of a large project is computed here into the shared cache; a round trip
proves that a worker consumes from the configured broker and writes to the same database as the
web process. Exports are built here too (``export_run``), and ``export_reap`` resolves exports
whose worker died.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

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


# --- exports --------------------------------------------------------------------------------


class ExportTask(Task):
    """Marks the export failed when the task gives up (retries exhausted), so the row always
    ends done or failed."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from projects.services import exports

        export_id = args[0] if args else kwargs.get("export_id")
        if export_id is None:
            return
        if isinstance(exc, exports.TRANSIENT_ERRORS):
            reason = (
                f"The export failed after {self.request.retries} retries of a passing fault: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            reason = f"The export task failed: {type(exc).__name__}: {exc}"
        exports.export_fail(export_id=int(export_id), reason=reason)


@shared_task(
    name="projects.export_run",
    base=ExportTask,
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.EXPORT_SOFT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT,
    # only passing faults are retried: the database connection, storage I/O
    autoretry_for=(OperationalError, InterfaceError, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=settings.EXPORT_MAX_RETRIES,
)
def export_run(self: Task, export_id: int) -> None:
    """Build one export. Safe to deliver twice: a delivery that finds the row finished does
    nothing, and one that finds it held by a live run only checks back when that run's lease
    ends (a worker's pool process killed mid-export is re-delivered at once, while its lease
    still looks alive); a delivery after the lease ran out takes the export over."""
    from projects.services import exports

    claim = exports.export_claim(export_id=export_id, worker=self.request.hostname or "")
    if claim is None:
        wait = exports.lease_remaining(export_id)
        if wait is not None:
            try:
                export_run.apply_async(
                    args=[export_id], countdown=wait + 1, queue=settings.CELERY_TASK_DEFAULT_QUEUE
                )
            except Exception:  # the live run is unharmed; the reaper still watches its lease
                logging.getLogger(__name__).warning(
                    "export %s: could not schedule a check-back", export_id, exc_info=True
                )
        return
    exports.build(claim)


@shared_task(name="projects.export_reap", acks_late=True)
def export_reap() -> int:
    """Queue again (or fail) exports whose worker died; periodic (CELERY_BEAT_SCHEDULE) and
    run when a worker starts."""
    from projects.services import exports

    return exports.export_reap()


@worker_ready.connect
def _reap_when_a_worker_starts(**kwargs: Any) -> None:
    """A worker that starts after a crash picks up what the crashed one left. Runs in the
    worker's main process, which then forks: its database connection must not be inherited."""
    from django.db import connections

    from projects.services import exports

    try:
        exports.export_reap()
    except Exception:
        logging.getLogger(__name__).exception("export reap at worker start failed")
    finally:
        connections.close_all()
