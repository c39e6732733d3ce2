"""Queries of a fixed shape whose SQL is built once per process.

On the hot paths (every span saved, every annotation page loaded) building the SQL in the
ORM — ``filter()``, joins, ``as_sql()`` — costs several times what the database takes to run
it. A :class:`Prepared` query is written with the ORM as usual, compiled once with marker
values for its arguments, and then run with the same SQL and the caller's values in their
places; the rows go through the same converters the ORM would apply (JSON, datetimes,
booleans), so they are exactly what ``values_list()`` returns. :func:`insert`,
:func:`insert_many`, :func:`update_row` and :func:`update_rows` do the same for the INSERT of
new rows and the UPDATE of named fields.

What the ORM does around a save and these skip: ``pre_save``/``post_save`` signals (the models
written this way have no receivers) and the ``TransactionManagementError`` check of
``select_for_update`` outside a transaction (callers run inside one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model, QuerySet
from django.db.models.sql import InsertQuery

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


# Field types whose ``get_db_prep_save`` returns an exact ``int``, ``str`` or None unchanged
# (and whose ``pre_save`` is the plain attribute read): the INSERT passes such values as they
# are instead of through two method calls per field.
_PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)
_PLAIN_VALUES = (int, str, type(None))
_INSERTS: dict[tuple[type[Model], str, str], tuple[str, list[Any], bool, list[Any]]] = {}


def _plain(field: Any) -> bool:
    if field.get_internal_type() not in _PLAIN_TYPES or type(field).pre_save is not Field.pre_save:
        return False
    if field.is_relation:  # a key to an integer primary key
        return field.target_field.get_internal_type() in _PLAIN_TYPES - {"CharField", "TextField"}
    return True


def _insert_entry(
    model: type[Model], obj: Model, using: str
) -> tuple[str, list[Any], bool, list[Any]]:
    meta = model._meta
    connection = connections[using]
    key = (model, using, connection.vendor)
    entry = _INSERTS.get(key)
    if entry is None:
        fields = [
            f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field
        ]
        query = InsertQuery(model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = meta.db_returning_fields
        ((sql, _params),) = compiler.as_sql()
        returning = list(compiler.returning_params or [])
        entry = _INSERTS[key] = (
            sql,
            returning,
            bool(compiler.returning_fields and connection.features.can_return_columns_from_insert),
            [(f, f.attname if _plain(f) else None) for f in fields],
        )
    return entry


def _row_params(obj: Model, fields_plain: list[Any], connection: Any) -> list[Any]:
    params = []
    for field, attname in fields_plain:
        if attname is not None:
            value = getattr(obj, attname)
            if type(value) in _PLAIN_VALUES:
                params.append(value)
                continue
        params.append(field.get_db_prep_save(field.pre_save(obj, True), connection=connection))
    return params


def insert(obj: Model, using: str = DEFAULT_DB_ALIAS) -> None:
    """``obj.save()`` of a new row (primary key from the database) with its INSERT's SQL built
    once per process: the same fields, values (``auto_now`` set, JSON encoded) and returned
    primary key as ``Model.save()``."""
    model = type(obj)
    meta = model._meta
    connection = connections[using]
    sql, returning, returns_columns, fields_plain = _insert_entry(model, obj, using)
    params = _row_params(obj, fields_plain, connection)
    if returning:
        params.append(returning)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returns_columns:
            row = connection.ops.fetch_returned_insert_columns(cursor, returning)
        else:
            row = (connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column),)
    for value, field in zip(row, meta.db_returning_fields, strict=False):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using


def insert_many(objs: Sequence[Model], using: str = DEFAULT_DB_ALIAS) -> None:
    """``bulk_create(objs)`` of new rows of one model, each given its primary key, without
    compiling every row through the ORM (for 2,000 documents that cost more than the
    database's work): one multi-row ``INSERT … RETURNING`` per batch, as many rows as the
    database takes parameters, with the values :func:`insert` would send."""
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    connection = connections[using]
    if not connection.features.can_return_rows_from_bulk_insert:  # pragma: no cover
        model._default_manager.using(using).bulk_create(objs)
        return
    _sql, _returning, _returns, fields_plain = _insert_entry(model, objs[0], using)
    q = connection.ops.quote_name
    head = (
        f"INSERT INTO {q(meta.db_table)} "  # noqa: S608 - quoted names of the model only
        f"({', '.join(q(f.column) for f, _ in fields_plain)}) VALUES "
    )
    row = f"({', '.join(['%s'] * len(fields_plain))})"
    tail = f" RETURNING {q(meta.pk.column)}"
    per_batch = max(1, (connection.features.max_query_params or 30_000) // len(fields_plain))
    per_batch = min(per_batch, 1000)
    for first in range(0, len(objs), per_batch):
        batch = objs[first : first + per_batch]
        params: list[Any] = []
        for obj in batch:
            params += _row_params(obj, fields_plain, connection)
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([row] * len(batch)) + tail, params)
            ids = cursor.fetchall()
        for obj, (pk,) in zip(batch, ids, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = using


_UPDATES: dict[tuple[type[Model], tuple[str, ...], tuple[str, ...], str], str] = {}


def update_row(model: type[Model], pk: Any, using: str = DEFAULT_DB_ALIAS, **values: Any) -> None:
    """``UPDATE … SET <values> WHERE pk = <pk>`` with the SQL built once per process, for a
    row the caller holds locked (no manager filters: the row is known to be there)."""
    update_rows(model, {model._meta.pk.name: pk}, using=using, **values)


def update_rows(
    model: type[Model], where: Mapping[str, Any], using: str = DEFAULT_DB_ALIAS, **values: Any
) -> int:
    """``UPDATE … SET <values> WHERE <field> = <value> AND …`` with the SQL built once per
    process; the number of rows changed. Plain equality on the model's own columns only (no
    manager filters, no lookups): the hot paths' ``filter(...).update(...)``."""
    connection = connections[using]
    meta = model._meta
    names, keys = tuple(values), tuple(where)
    fields = [meta.get_field(name) for name in names]
    key_fields = [meta.get_field(name) for name in keys]
    key = (model, names, keys, connection.vendor)
    sql = _UPDATES.get(key)
    if sql is None:
        q = connection.ops.quote_name
        sets = ", ".join(f"{q(f.column)} = %s" for f in fields)
        cond = " AND ".join(f"{q(f.column)} = %s" for f in key_fields)
        # only quoted table and column names of the model go into the text; values are params
        sql = f"UPDATE {q(meta.db_table)} SET {sets} WHERE {cond}"  # noqa: S608
        _UPDATES[key] = sql
    params = [f.get_db_prep_save(values[f.name], connection=connection) for f in fields]
    params += [
        f.get_db_prep_value(where[n], connection) for f, n in zip(key_fields, keys, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
