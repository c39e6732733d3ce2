"""Review: getting an agreement report, computed in the request for small projects and by a
worker for large ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from projects import selectors
from projects.models import Project

from .errors import Unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AgreementAnswer:
    report: Any | None  # None while a worker computes it
    progress: dict[str, int] | None = None

    @property
    def computing(self) -> bool:
        return self.report is None


def agreement_get(*, project: Project, filters: selectors.AgreementFilters) -> AgreementAnswer:
    """The cached report, or a fresh one (small projects), or a worker asked to make it.

    A lock in the shared cache makes sure one worker, not one per reload, computes a report;
    the worker removes it when done (or it expires after an hour).
    """
    key = selectors.agreement_key(project, filters)
    cached = selectors.cached_agreement(key)
    if cached is not None:
        return AgreementAnswer(cached)
    if not selectors.agreement_is_large(project):
        return AgreementAnswer(selectors.agreement_for(project, filters, key=key))
    if cache.add(f"{key}:lock", 1, timeout=3600):
        from projects.tasks import agreement_compute

        try:
            agreement_compute.apply_async(
                args=[project.pk, filters.to_json(), key],
                queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                retry=False,
            )
        except Exception as exc:  # kombu raises several kinds; all mean "not queued"
            cache.delete(f"{key}:lock")
            log.warning("agreement task not queued: %s", exc)
            raise Unavailable(
                "The agreement report of this large project is computed by a worker, and the "
                "task queue cannot be reached right now. Try again in a minute."
            ) from exc
    total = selectors.agreement_total(project, filters)
    return AgreementAnswer(None, selectors.agreement_progress(key) or {"done": 0, "total": total})
