"""A query helper for the hot paths."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def only_row(qs: QuerySet[M]) -> M | None:
    """The row of a lookup that matches at most one (a unique key), or None.

    Unlike ``.first()`` it adds no ORDER BY: compiling the models' default ordering costs more
    than the query itself on the annotation save path, which runs on every keystroke-level
    change.
    """
    return next(iter(qs.order_by()[:1]), None)
