"""PostgreSQL goes away while an annotator works, and comes back.

A real web server process (gunicorn, as in production) reaches PostgreSQL through a TCP proxy;
the workspace is open in Chromium. Cutting the proxy drops the server's pooled connections
mid-flight and refuses new ones, which is what a PostgreSQL restart looks like to the web
server. The annotator keeps labelling meanwhile: the API answers 503 database_unavailable (not
500), the page says it is offline and retrying with every change kept, ``/healthz`` names the
database; when the database is back, every change lands on its own (no click), once, in order.

Runs only on PostgreSQL (CI's second suite run): on SQLite there is no connection to cut.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from tests.e2e.conftest import screenshot
from tests.e2e.workspace_helpers import (
    ARTICLE,
    audit_trail,
    drag_select,
    make_setup,
    open_workspace,
    own_annotation,
    settled,
    signed_in,
    stored_spans,
)

from .infra import TcpProxy, WebServer, database_url, http, start_web

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 6  # a PostgreSQL restart; the outbox's backoff retries at about 1, 3 and 7 s


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch: Any) -> None:
    """As in tests/e2e: the test's own ORM checks run beside Playwright's event loop."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def database_proxy(transactional_db: Any) -> Iterator[TcpProxy]:
    if connection.vendor != "postgresql":
        pytest.skip(
            "the database outage test cuts a web server's connections to PostgreSQL; "
            f"this run's database is {connection.vendor} (set DATABASE_URL=postgres://...)"
        )
    db = connection.settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)).start()
    yield proxy
    proxy.close()


@pytest.fixture
def web(database_proxy: TcpProxy, tmp_path: Path) -> Iterator[WebServer]:
    server = start_web(
        {
            "DATABASE_URL": database_url(port=database_proxy.port),
            # persistent connections, as in production: the outage kills them in the pool
            "DB_CONN_MAX_AGE": "600",
        },
        tmp_path / "web",
    )
    yield server
    server.stop()


def label(page: Any, fragment: str, key: str) -> None:
    start = ARTICLE.index(fragment)
    drag_select(page, start, start + len(fragment))
    page.keyboard.press(key)


def save_box(page: Any) -> tuple[str, str, str]:
    return (
        page.get_attribute("#ws-save", "data-status"),
        page.inner_text("#ws-save-text"),
        page.get_attribute("#ws-save", "title") or "",
    )


def test_postgresql_going_away_mid_annotation_loses_nothing_and_duplicates_nothing(
    database_proxy: TcpProxy, web: WebServer, browser: Any
) -> None:
    try:
        annotate_through_an_outage(database_proxy, web, browser)
    finally:
        # beside Playwright's loop the test's ORM calls get a connection of their own, which
        # would otherwise stay open and keep the test database from being dropped
        connections.close_all()


def annotate_through_an_outage(database_proxy: TcpProxy, web: WebServer, browser: Any) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, web, user)
    answers: list[tuple[float, str, str, int, Any]] = []

    def record(response: Any) -> None:
        if "/api/" in response.url:
            try:
                body = response.json() if response.status >= 400 else None
            except Exception:
                body = response.text()
            answers.append(
                (time.monotonic(), response.request.method, response.url, response.status, body)
            )

    context.on("response", record)
    page = open_workspace(context, f"{web.url}/p/{setup.project.slug}/d/{doc.pk}/annotate/")

    label(page, "United States", "1")  # saved while all is well
    settled(page)
    assert own_annotation(doc, user).version == 1

    # PostgreSQL goes away; the annotator does not notice at first and keeps working
    cut_at = time.monotonic()
    database_proxy.cut()
    label(page, "Officials link the decision", "2")
    # the page notices at its first save (and its header changes: wait, so that the next
    # drag lands on the words it aims at)
    page.wait_for_function(
        "() => document.getElementById('ws-save').dataset.status === 'offline'", timeout=15000
    )
    label(page, "a grave mistake", "3")
    page.locator("#ws-span-list button", has_text="United States").click()
    page.keyboard.press("s")
    page.keyboard.type("Chinese government")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("d")
    page.keyboard.press("2")
    page.wait_for_function(
        "() => window.workspace.sync.pending === 4"
        " && document.getElementById('ws-save').dataset.status === 'offline'",
        timeout=15000,
    )
    status, text, title = save_box(page)
    assert status == "offline"
    assert text == "Offline: 4 changes kept in this browser, retrying", text
    assert "database cannot be reached" in title, title
    assert not page.locator("#ws-retry").is_hidden()
    assert page.inner_text("#ws-span-count") == "3"  # the page shows the work it keeps

    health_status, health = http(web.url + "/healthz", timeout=15)
    assert health_status == 503, health
    assert health["checks"]["database"] != "ok" and health["checks"]["broker"] == "ok", health
    screenshot(page, "faults-database-down")

    # several retries fail while it is down, each a 503 in the API's error shape
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
    during = [a for a in answers if a[0] >= cut_at]
    assert len(during) >= 2, during
    for _, method, url, code, body in during:
        assert code == 503, (method, url, code, body)
        assert body["error"]["code"] == "database_unavailable", body
    assert own_annotation(doc, user).version == 1  # nothing of it reached the database
    reconnects_before = database_proxy.accepted

    restored_at = time.monotonic()
    database_proxy.restore()
    settled(page, timeout=30000)  # on its own: no "Retry now"
    recovered_in = time.monotonic() - restored_at
    assert database_proxy.accepted > reconnects_before  # the web server reconnected

    events = audit_trail(doc, user)
    assert [action for action, _ in events] == [
        "span.create",
        "span.create",
        "span.create",
        "span.update",
        "stance.set",
    ]
    assert [data["start"] for _, data in events[:3]] == [
        ARTICLE.index("United States"),
        ARTICLE.index("Officials"),
        ARTICLE.index("a grave mistake"),
    ]
    annotation = own_annotation(doc, user)
    assert annotation.version == 5  # five changes, none twice
    spans = stored_spans(doc, user)
    assert [s[3] for s in spans] == [
        "United States",
        "Officials link the decision",
        "a grave mistake",
    ]
    assert spans[0][4] == {"source": "Chinese government"}
    assert list(annotation.stances.values_list("value", flat=True)) == ["against"]
    assert save_box(page)[:2] == ("saved", "All changes saved")
    assert http(web.url + "/healthz")[0] == 200
    assert [a for a in answers if a[3] >= 500 and a[3] != 503] == []
    assert page.errors == []
    assert "Traceback" not in web.output(), web.output()
    print(f"outage {OUTAGE_SECONDS} s; all saved {recovered_in:.1f} s after the database returned")
