"""Exports: request one, build it (in a worker, or in-process for the CLI), delete it.

The Export row is the only truth. ``export_create`` writes it and queues ``export_run`` once the
row is committed; if the broker cannot be reached the row is marked failed and the caller gets
:class:`Unavailable` (503), so nothing waits in silence. A build starts by *claiming* the row with
a conditional UPDATE that takes a time-limited lease (``status`` pending → running, or running
with a lease that ran out), and every later write of the run is fenced on the claim number
(``attempts``): a duplicate delivery claims nothing and does nothing, a re-delivery after a worker
died takes the expired lease over, and the run that lost its lease can no longer write. A lease
nobody took over is found by :func:`export_reap` (run when a worker starts, by Celery beat, and
whenever an export is looked at), which queues the export again or, after
``EXPORT_MAX_ATTEMPTS`` claims, fails it with the reason: no export stays ``running`` forever.
"""

from __future__ import annotations

import logging
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from projects import selectors_exports
from projects.domain.exports.records import ExportDocument, ExportOptions
from projects.domain.exports.select import InvalidExportOptions, shape_document, validate_options
from projects.domain.exports.writer import ExportSummary, write_export
from projects.domain.problems import Problem
from projects.models import Export, ExportStatus, Project, Role
from projects.models.export import export_upload_to

from .audit import audit_record
from .errors import Conflict, Forbidden, Unavailable, ValidationFailed

log = logging.getLogger(__name__)

#: Who may request, download and delete exports: everyone but annotators (consumers exist for
#: this). Annotators would otherwise read each other's work, which blind mode forbids.
EXPORTERS = frozenset({Role.LEAD, Role.REVIEWER, Role.CONSUMER})

#: Errors worth retrying: the database connection dropped, or the storage could not be written.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, OSError)

#: Progress (and the lease) is written at most once per this many documents, or per
#: PROGRESS_SECONDS when documents are slow: a cheap UPDATE, never one per document.
PROGRESS_EVERY = 500
PROGRESS_SECONDS = 2.0

_ROOT = Path(__file__).resolve().parent.parent.parent


class LeaseLost(Exception):
    """This run's claim was taken over (its lease had run out) or the export was deleted."""


@cache
def tool_version() -> str:
    """``stance-annotator <version>`` from pyproject.toml, recorded in every manifest."""
    try:
        data = tomllib.loads((_ROOT / "pyproject.toml").read_text())
        return f"stance-annotator {data['project']['version']}"
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "stance-annotator"


def options_from(raw: Mapping[str, Any]) -> ExportOptions:
    """Options from the API, the page or the CLI, or ValidationFailed naming each bad field."""
    fmt = raw.get("format")
    if fmt is not None and not isinstance(fmt, str):
        # the domain looks the format up in a mapping, which an object or a list cannot be
        message = f"must be one of the format names, not {type(fmt).__name__}"
        raise ValidationFailed(
            f"Invalid export options: format: {message}",
            problems=[Problem(message, field="format")],
        )
    try:
        return validate_options(dict(raw))
    except InvalidExportOptions as exc:
        raise ValidationFailed(
            f"Invalid export options: {exc}",
            problems=[Problem(p.message, field=p.field) for p in exc.problems],
        ) from None


# --- request ----------------------------------------------------------------------------------


def export_create(
    *,
    project: Project,
    actor_id: int | None,
    options: Mapping[str, Any],
    queue: bool = True,
) -> Export:
    """Write the Export row and queue its build once the row is committed (``queue=False``:
    the caller builds it in-process, as the CLI does, with :func:`export_claim` and
    :func:`build`).

    Raises ValidationFailed (bad options) or Unavailable (the broker cannot be reached within
    CELERY_BROKER_CONNECTION_TIMEOUT seconds; the row is then marked failed with the reason).
    """
    chosen = options_from(options)
    with transaction.atomic():
        export = Export.objects.create(
            project=project,
            requested_by_id=actor_id,
            format=chosen.format,
            options=chosen.as_dict(),
        )
        audit_record(
            actor_id=actor_id,
            action="export.create",
            project=project,
            object_type="export",
            object_id=export.pk,
            data=chosen.as_dict(),
        )
        # Published after the commit (so the worker finds the row); a failure raises here, on
        # the way out of this block, after the row is marked failed.
        if queue:
            transaction.on_commit(lambda: _queue(export.pk, refuse=True))
    return export


def _queue(export_id: int, *, refuse: bool) -> bool:
    """Publish ``export_run``; on failure mark the row failed, and raise Unavailable when
    ``refuse`` (a request waits for the answer) or return False (the reaper)."""
    from projects.tasks import export_run

    try:
        # retry: once, on a new connection (CELERY_TASK_PUBLISH_RETRY_POLICY), so a broker
        # restarted since the last publish is no failure; a broker that is down still fails fast
        export_run.apply_async(
            args=[export_id], queue=settings.CELERY_TASK_DEFAULT_QUEUE, retry=True
        )
    except Exception as exc:  # kombu raises several kinds; all mean "not queued"
        log.warning("export %s not queued: %s", export_id, exc)
        _mark_failed(
            Export.objects.filter(pk=export_id, status=ExportStatus.PENDING),
            "The task queue could not be reached, so no worker was asked to build this "
            f"export ({type(exc).__name__}: {exc}). Nothing was built; request it again later.",
        )
        if refuse:
            raise Unavailable(
                "Exports are built by a background worker, and the task queue cannot be "
                "reached right now. The export was marked failed; try again in a minute."
            ) from exc
        return False
    return True


def _mark_failed(rows: Any, reason: str) -> int:
    return int(
        rows.update(
            status=ExportStatus.FAILED,
            error=reason[:2000] or "failed",
            lease_until=None,
            finished_at=timezone.now(),
        )
    )


# --- build ------------------------------------------------------------------------------------


@dataclass
class Claim:
    """A run's hold on an export: ``attempt`` is the fencing token of every later write."""

    export: Export
    attempt: int
    worker: str


def _lease_end() -> Any:
    return timezone.now() + timedelta(seconds=settings.EXPORT_LEASE_SECONDS)


def export_claim(*, export_id: int, worker: str) -> Claim | None:
    """Take the export if it is pending, or running on a lease that ran out; None otherwise
    (done, failed, deleted, or another run holds a live lease: a duplicate delivery).

    A conditional UPDATE is atomic on both databases, so of two workers racing for one row
    exactly one gets it; reading the row back in the same transaction tells the winner its
    claim number before anyone else can change it.
    """
    now = timezone.now()
    expired = Q(status=ExportStatus.RUNNING, lease_until__lt=now)
    with transaction.atomic():
        given_up = _mark_failed(
            Export.objects.filter(
                expired, pk=export_id, attempts__gte=settings.EXPORT_MAX_ATTEMPTS
            ),
            _given_up_reason(),
        )
        if given_up:
            return None
        taken = Export.objects.filter(
            Q(status=ExportStatus.PENDING) | expired, pk=export_id
        ).update(
            status=ExportStatus.RUNNING,
            lease_until=_lease_end(),
            attempts=F("attempts") + 1,
            claimed_by=worker[:255],
            started_at=now,
            progress_done=0,
            error="",
        )
        if not taken:
            return None
        export = Export.objects.select_related("project").get(pk=export_id)
    return Claim(export=export, attempt=export.attempts, worker=worker)


def _given_up_reason() -> str:
    return (
        f"The worker building this export stopped {settings.EXPORT_MAX_ATTEMPTS} times without "
        "finishing (killed, out of memory, or the machine went away), so it was given up. "
        "Look at the worker logs; a smaller export (fewer formats, or gold only) may fit."
    )


def _fenced(claim: Claim) -> Any:
    return Export.objects.filter(
        pk=claim.export.pk, status=ExportStatus.RUNNING, attempts=claim.attempt
    )


class _Lease:
    """Progress and lease renewal, written together, throttled; raises LeaseLost when the
    row no longer carries this claim."""

    def __init__(self, claim: Claim, total: int) -> None:
        self.claim = claim
        self.total = total
        self.done = 0
        self._written = 0
        self._at = time.monotonic()

    def advance(self, done: int) -> None:
        self.done = done
        if (
            done - self._written >= PROGRESS_EVERY
            or time.monotonic() - self._at >= PROGRESS_SECONDS
        ):
            self.renew()

    def renew(self) -> None:
        updated = _fenced(self.claim).update(
            progress_done=min(self.done, self.total), lease_until=_lease_end()
        )
        self._written, self._at = self.done, time.monotonic()
        if not updated:
            raise LeaseLost(f"export {self.claim.export.pk} attempt {self.claim.attempt}")


def export_run(*, export_id: int, worker: str = "") -> Export | None:
    """Claim and build one export; the Export row after the run, or None when this delivery
    had nothing to do (a duplicate, or the export is finished or gone).

    Transient errors (database connection, storage I/O) release the claim and propagate, so
    the task can retry; any other error marks the export failed with the reason.
    """
    claim = export_claim(export_id=export_id, worker=worker)
    if claim is None:
        log.info("export %s: nothing to do (finished, gone, or claimed by a live run)", export_id)
        return None
    return build(claim)


def build(claim: Claim, *, progress: Callable[[int, int], None] | None = None) -> Export | None:
    """Build a claimed export: stream, shape, write to a temporary file, store, finish.

    ``progress(done, total)`` (the CLI's bar) is called as documents are read.
    """
    export = claim.export
    stored: str | None = None
    try:
        options = options_from({**export.options, "format": export.format})
        project = export.project
        scheme = selectors_exports.export_scheme(project)
        total = selectors_exports.export_document_count(project)
        _fenced(claim).update(progress_total=total)
        lease = _Lease(claim, total)
        delay = settings.EXPORT_TEST_DELAY_MS / 1000

        def shaped() -> Iterator[ExportDocument]:
            documents = selectors_exports.export_documents(project, options)
            for done, document in enumerate(documents, start=1):
                if delay:
                    time.sleep(delay)
                lease.advance(done)
                if progress is not None:
                    progress(done, total)
                result = shape_document(document, options)
                if result is not None:
                    yield result

        # the hf dataset card quotes the project's agreement (a worker may compute it here)
        agreement = selectors_exports.agreement_summary(project) if options.format == "hf" else None
        lease.renew()
        with tempfile.TemporaryFile(prefix=f"export-{export.pk}-") as tmp:
            summary = write_export(
                shaped(),
                tmp,
                options=options,
                scheme=scheme,
                project=project.slug,
                tool_version=tool_version(),
                progress=lambda _written: lease.advance(lease.done),
                agreement=agreement,
            )
            lease.renew()  # still ours? (a long final phase may have outlived the lease)
            stored = _store(export, claim.attempt, tmp, summary)
        finished = _fenced(claim).update(
            status=ExportStatus.DONE,
            file=stored,
            sha256=summary.sha256,
            size=summary.size,
            counts=dict(summary.counts),
            manifest=summary.manifest.decode("utf-8"),
            progress_done=lease.done,
            progress_total=lease.done,
            lease_until=None,
            finished_at=timezone.now(),
        )
        if not finished:
            raise LeaseLost(f"export {export.pk} attempt {claim.attempt}")
    except LeaseLost:
        log.warning(
            "export %s: attempt %s lost its lease; its work is dropped", export.pk, claim.attempt
        )
        _discard(stored)
        return None
    except SoftTimeLimitExceeded:
        _discard(stored)
        _mark_failed(
            _fenced(claim),
            "The export took longer than EXPORT_SOFT_TIME_LIMIT "
            f"({settings.EXPORT_SOFT_TIME_LIMIT} s) and was stopped. Raise the limit, or export "
            "less (gold only, fewer documents).",
        )
    except ValidationFailed as exc:
        _mark_failed(_fenced(claim), f"The stored options are no longer valid: {exc.message}")
    except TRANSIENT_ERRORS:
        _discard(stored)
        _release(claim)
        raise
    except Exception as exc:
        log.exception("export %s failed", export.pk)
        _discard(stored)
        _mark_failed(_fenced(claim), f"The export failed: {type(exc).__name__}: {exc}")
    return Export.objects.select_related("project").filter(pk=export.pk).first()


def _store(export: Export, attempt: int, tmp: BinaryIO, summary: ExportSummary) -> str:
    """Save through the storage API; the name carries the attempt, so two runs never collide."""
    tmp.seek(0)
    name = export_upload_to(
        export, f"{export.project.slug}-{export.pk}-{attempt}{export.extension}"
    )
    return str(default_storage.save(name, File(tmp, name=name)))


def _discard(stored: str | None) -> None:
    if stored:
        try:
            default_storage.delete(stored)
        except OSError:
            log.warning("could not delete %s", stored, exc_info=True)


def _release(claim: Claim) -> None:
    """Give the claim back after a transient failure, so the retry can take it at once."""
    try:
        _fenced(claim).update(status=ExportStatus.PENDING, lease_until=None, claimed_by="")
    except TRANSIENT_ERRORS:
        log.warning(
            "export %s: could not release the claim; its lease will run out", claim.export.pk
        )


def lease_remaining(export_id: int) -> float | None:
    """Seconds until a live lease on the export runs out; None when nobody holds one (the
    export is pending, finished or gone). A delivery that found the export held by another run
    checks back after this long: if that run died meanwhile, the check-back takes over."""
    lease_until = (
        Export.objects.filter(pk=export_id, status=ExportStatus.RUNNING)
        .values_list("lease_until", flat=True)
        .first()
    )
    if lease_until is None:
        return None
    return max(0.0, (lease_until - timezone.now()).total_seconds())


def export_fail(*, export_id: int, reason: str) -> None:
    """Mark an unfinished export failed (the task gave up retrying)."""
    _mark_failed(Export.objects.filter(pk=export_id).exclude(status=ExportStatus.DONE), reason)


def export_reap(*, project: Project | None = None) -> int:
    """Resolve exports whose lease ran out with nobody taking over: queue each again (it is
    claimed like a re-delivery), or fail it after EXPORT_MAX_ATTEMPTS claims. Returns how many
    were resolved. Cheap when there is nothing to do: one indexed query."""
    rows = Export.objects.filter(status=ExportStatus.RUNNING, lease_until__lt=timezone.now())
    if project is not None:
        rows = rows.filter(project=project)
    resolved = 0
    for pk, attempts in rows.values_list("pk", "attempts"):
        expired = Export.objects.filter(
            pk=pk, status=ExportStatus.RUNNING, lease_until__lt=timezone.now()
        )
        if attempts >= settings.EXPORT_MAX_ATTEMPTS:
            resolved += _mark_failed(expired, _given_up_reason())
        elif expired.update(status=ExportStatus.PENDING, lease_until=None, claimed_by=""):
            log.warning("export %s: its worker stopped (lease expired); queued again", pk)
            transaction.on_commit(lambda pk=pk: _queue(pk, refuse=False))
            resolved += 1
    return resolved


# --- delete -----------------------------------------------------------------------------------


def export_delete(*, export: Export, actor_id: int, actor_role: Role) -> None:
    """Remove the file and the row. Leads delete any export, others their own requests. A run
    still building it loses its lease and drops its work."""
    if actor_role != Role.LEAD and export.requested_by_id != actor_id:
        raise Forbidden("Only a lead or the person who requested an export may delete it.")
    name = export.file.name if export.file else None
    with transaction.atomic():
        deleted, _ = Export.objects.filter(pk=export.pk).delete()
        if not deleted:
            raise Conflict("This export was deleted already.")
        audit_record(
            actor_id=actor_id,
            action="export.delete",
            project_id=export.project_id,
            object_type="export",
            object_id=export.pk,
            data={"format": export.format, "sha256": export.sha256},
        )
    _discard(name)
