"""Query helpers: the hot paths' single-row lookup, and the manager that hides soft-deleted
rows."""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def only_row(qs: QuerySet[M]) -> M | None:
    """The row of a lookup that matches at most one (a unique key), or None.

    Unlike ``.first()`` it adds no ORDER BY: compiling the models' default ordering costs more
    than the query itself on the annotation save path, which runs on every keystroke-level
    change.
    """
    return next(iter(qs.order_by()[:1]), None)


class LiveManager(models.Manager[M]):
    """The default manager of what can be soft-deleted (projects, documents, annotations):
    deleted rows are left out of every query made through it, of related managers
    (``document.annotations``) and of prefetches, so no read can forget them. Joins do not go
    through a manager (``Span.objects.filter(annotation__project=…)``): such reads say
    ``annotation__deleted_at__isnull=True`` themselves. ``all_objects`` sees everything (the
    deleted lists, restore, the admin); Django's cascades and forward relations
    (``span.annotation``) use the plain base manager, so they still find deleted rows."""

    def get_queryset(self) -> QuerySet[M]:
        return super().get_queryset().filter(deleted_at__isnull=True)
