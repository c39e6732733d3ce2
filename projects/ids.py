"""Row ids as they arrive in URLs and query strings.

A database id is a 64-bit integer; a longer string of digits names no row, and handing it to
the database raises (SQLite: OverflowError; PostgreSQL: "out of range"), which would be a 500
instead of the 404 or 400 it deserves. Everything that turns user text into an id goes through
here.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1

__all__ = ["MAX_ID", "IdConverter", "as_id"]


def as_id(raw: object) -> int | None:
    """The id ``raw`` spells (digits only, within range), or None."""
    text = str(raw)
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


class IdConverter:
    """``<id:name>`` in URL patterns: like ``<int:…>`` but only ids that can exist, so a
    too-long number is simply not found."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = as_id(value)
        if number is None:
            raise ValueError(f"{value} is not a row id")
        return number

    def to_url(self, value: int) -> str:
        return str(value)
