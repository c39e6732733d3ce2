"""The fault tests take real servers away (through a proxy; see infra.py). The browser comes
from the browser tests' fixture (Debian's Chromium)."""

from __future__ import annotations

from ..e2e.conftest import browser  # noqa: F401  (a fixture, used by name)
