"""Agreement results as plain JSON values, for the API, CSV tables and the cache.

One generic walk instead of a serializer per result class: a new field in a result shows up in
the API without anyone remembering to add it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

JSON = Any


def _key(value: object) -> str:
    return "" if value is None else str(value)


def to_jsonable(obj: object) -> JSON:
    """Dataclasses become objects (private fields left out); mappings with string keys stay
    objects; mappings with tuple keys (annotator pairs, label pairs) become lists of
    ``{"key": [...], "value": ...}``; fractions become floats and NaN becomes null."""
    kind = type(obj)
    if kind is str or kind is int or obj is None or kind is bool:
        return obj
    if kind is float:
        return None if math.isnan(obj) or math.isinf(obj) else obj  # type: ignore[arg-type]
    if kind is tuple or kind is list:
        return [to_jsonable(v) for v in obj]  # type: ignore[attr-defined]
    names = _FIELDS.get(kind)
    if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        names = _FIELDS[kind] = _json_names(kind)
    if names is not None:
        return {name: to_jsonable(getattr(obj, name)) for name in names}
    return _other(obj)


#: dataclass -> the names its JSON object carries: public fields, then derived properties
_FIELDS: dict[type, tuple[str, ...]] = {}


def _json_names(kind: type) -> tuple[str, ...]:
    fields = tuple(f.name for f in dataclasses.fields(kind) if not f.name.startswith("_"))
    return fields + tuple(getattr(kind, "JSON_PROPERTIES", ()))


def _other(obj: object) -> JSON:
    if isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, Fraction):
        return float(obj)
    if isinstance(obj, Mapping):
        if all(not isinstance(k, tuple) for k in obj):
            return {_key(k): to_jsonable(v) for k, v in obj.items()}
        return [
            {
                "key": [_key(part) for part in k] if isinstance(k, tuple) else [_key(k)],
                "value": to_jsonable(v),
            }
            for k, v in obj.items()
        ]
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        return [to_jsonable(v) for v in items]
    return str(obj)
