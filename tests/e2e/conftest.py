"""Real headless Chromium (Debian's package) driven by Playwright, against a live server.

Playwright's own browser download does not work here, so the browser is the system one
(``CHROMIUM_PATH``, default /usr/bin/chromium). Without it these tests skip, unless
``E2E_REQUIRED`` is set (CI sets it), in which case they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parent.parent.parent / "var" / "e2e"


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch: Any) -> None:
    """Playwright's sync API keeps an event loop in the test's thread, and Django refuses ORM
    calls from a thread with a running loop; the tests' own ORM checks are safe here. Set for
    each test only, so it never leaks into other tests or subprocesses."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser() -> Iterator[Any]:
    """One browser per test: Playwright's loop must not outlive the test, or every later
    test's database calls in this thread would be refused."""
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
