"""Problems found while validating user input.

Every check in the domain collects *all* problems instead of stopping at the first one: a user
fixing a 10 000-line upload should see every bad line in one round trip, not one per upload attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_PROBLEMS", "ImportFailed", "Problem"]

#: More problems than this are summarised: a file that is wrong on every line would otherwise
#: produce a response nobody reads (and that may itself be too large to send).
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located precisely enough for a person to fix it.

    ``code`` is for machines (the API's error shape, tests); ``message`` is a sentence for people.
    """

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None
    code: str = "invalid"

    def as_dict(self) -> dict[str, object]:
        """Serialise for the API error ``details``; absent locations are left out, not null."""
        data: dict[str, object] = {"code": self.code, "message": self.message}
        if self.file is not None:
            data["file"] = self.file
        if self.line is not None:
            data["line"] = self.line
        if self.field is not None:
            data["field"] = self.field
        return data

    def __str__(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ImportFailed(Exception):
    """Raised with every problem found, so an import is all-or-nothing and fully explained."""

    problems: tuple[Problem, ...]
    #: what could be read despite the problems: the caller adds the checks only it can make
    #: (ids already stored, annotators who are members), so one attempt reports everything
    documents: tuple[Any, ...]
    #: True when the problems were cut at MAX_PROBLEMS
    truncated: bool

    def __init__(self, problems: Iterable[Problem], documents: Iterable[Any] = ()) -> None:
        found = tuple(problems)
        self.documents = tuple(documents)
        self.truncated = len(found) > MAX_PROBLEMS
        if self.truncated:
            rest = len(found) - MAX_PROBLEMS
            found = (
                *found[:MAX_PROBLEMS],
                Problem(f"... and {rest} more problems", code="truncated"),
            )
        self.problems = found
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.problems:
            return "import failed"
        first = str(self.problems[0])
        more = len(self.problems) - 1
        return first if more == 0 else f"{first} (and {more} more)"
