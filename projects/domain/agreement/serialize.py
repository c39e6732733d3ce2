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
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, Fraction):
        return float(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        data = {
            f.name: to_jsonable(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not f.name.startswith("_")
        }
        for name in getattr(obj, "JSON_PROPERTIES", ()):
            data[name] = to_jsonable(getattr(obj, name))
        return data
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
