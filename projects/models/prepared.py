"""Queries of a fixed shape whose SQL is built once per process.

On the hot paths (every span saved, every annotation page loaded) building the SQL in the
ORM — ``filter()``, joins, ``as_sql()`` — costs several times what the database takes to run
it. A :class:`Prepared` query is written with the ORM as usual, compiled once with marker
values for its arguments, and then run with the same SQL and the caller's values in their
places; the rows go through the same converters the ORM would apply (JSON, datetimes,
booleans), so they are exactly what ``values_list()`` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)

# Marker values stand for the arguments while the query is compiled: numbers and strings no
# real lookup uses, found again by identity of value in the compiled parameters.
_INT_MARK = -7_340_000_000_000
_STR_MARK = "\x00prepared-argument-"


class Prepared:
    """``build(**arguments)`` returns a ``values_list()`` queryset; calling the instance with
    the same keyword arguments returns its rows as a list of tuples.

    Each argument is declared with an example value of its type (``int`` or ``str``), so the
    markers pass the fields' validation while the SQL is built. The SQL is kept per database
    alias and vendor; the query must not depend on anything but its arguments (no
    ``timezone.now()``, no settings read at build time).
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **arguments: int | str) -> None:
        self.build = build
        self.arguments = arguments
        self._compiled: dict[tuple[str, str], tuple[str, list[Any], dict[int, Any], Any]] = {}

    def _marks(self) -> dict[str, int | str]:
        marks: dict[str, int | str] = {}
        for i, (name, example) in enumerate(self.arguments.items()):
            if isinstance(example, bool) or not isinstance(example, int | str):
                raise TypeError(f"argument {name}: only int and str arguments can be prepared")
            marks[name] = _INT_MARK - i if isinstance(example, int) else f"{_STR_MARK}{i}"
        return marks

    def _compile(self, alias: str) -> tuple[str, list[Any], dict[int, Any], Any]:
        marks = self._marks()
        qs = self.build(**marks)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        by_mark = {mark: name for name, mark in marks.items()}
        slots: list[Any] = []
        found = set()
        for p in params:
            name = by_mark.get(p) if isinstance(p, int | str) else None
            if name is not None:
                found.add(name)
                slots.append(_Slot(name))
            else:
                slots.append(p)
        missing = set(marks) - found
        if missing:
            raise ValueError(f"prepared query does not use its arguments {sorted(missing)}")
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        return sql, slots, converters, compiler

    def __call__(self, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        connection = connections[using]
        key = (using, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        sql, slots, converters, compiler = compiled
        params = [values[p.name] if isinstance(p, _Slot) else p for p in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters and rows:
            return [tuple(r) for r in compiler.apply_converters(rows, converters)]
        return [tuple(r) for r in rows]


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


def columns(model: type[Model], prefix: str = "", skip: Sequence[str] = ()) -> list[str]:
    """The ``values_list()`` names of a model's concrete fields, in the order
    :func:`instance` wants them (``prefix`` follows a relation, e.g. ``"project__"``)."""
    return [prefix + f.attname for f in model._meta.concrete_fields if f.attname not in skip]


def instance(
    model: type[M], values: Sequence[Any], skip: Sequence[str] = (), using: str = DEFAULT_DB_ALIAS
) -> M:
    """A model instance from the :func:`columns` of a row, as the ORM builds one; fields in
    ``skip`` are deferred (loaded on first use)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
    return model.from_db(using, names, list(values))
