"""Saving from the workspace when things go wrong: the network drops (and the page is
reloaded meanwhile), two tabs change the same annotation, and blind mode under a recording
of every response the page gets."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from projects.permissions import project_access
from projects.services import annotations as annotation_services

from .conftest import screenshot
from .workspace_helpers import (
    ARTICLE,
    audit_trail,
    label_fragment,
    make_setup,
    open_workspace,
    own_annotation,
    settled,
    signed_in,
    stored_spans,
    workspace_url,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

API = "**/api/v1/**"


def label(page: Any, fragment: str, key: str) -> None:
    label_fragment(page, ARTICLE, fragment, key)


def status(page: Any) -> str:
    return page.get_attribute("#ws-save", "data-status")


class Gate:
    """The page's API requests through a switch: refused as by a dropped network ("abort"),
    held unanswered ("hold", to look at the page while they are on their way), or let through
    ("pass"). ``release`` answers the held ones as the new mode says."""

    def __init__(self, page: Any, mode: str = "abort") -> None:
        self.mode = mode
        self.held: list[Any] = []
        page.route(API, self._route)

    def _route(self, route: Any) -> None:
        if self.mode == "hold":
            self.held.append(route)
        elif self.mode == "abort":
            route.abort()
        else:
            route.continue_()

    def release(self, mode: str) -> None:
        self.mode = mode
        held, self.held = self.held, []
        for route in held:
            with contextlib.suppress(PlaywrightError):  # a page that has gone since
                route.abort() if mode == "abort" else route.continue_()


def not_ready_while_held(page: Any, gate: Any) -> None:
    """The page is usable while a restored queue is on its way, but not "ready": that waits
    for what became of the queue (the old order said ready before, and failed here)."""
    page.wait_for_function("() => window.workspace?.sync?.status === 'saving'")
    assert page.get_attribute("#ws", "data-ready") == "false"
    assert page.get_attribute("#ws", "data-interactive") == "true"


def test_five_edits_made_offline_and_across_a_reload_all_reach_the_server_in_order_once(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user)
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    gate = Gate(page)

    label(page, "United States", "1")
    label(page, "Officials link the decision", "2")
    label(page, "a grave mistake", "3")
    page.wait_for_function("() => document.getElementById('ws-save').dataset.status === 'offline'")
    assert "3 changes kept in this browser" in page.inner_text("#ws-save")
    assert own_annotation(doc, user) is None  # nothing reached the server

    # a reload while still offline: the queue is restored from localStorage
    gate.mode = "hold"
    page.reload()
    not_ready_while_held(page, gate)
    gate.release("abort")
    page.wait_for_selector('#ws[data-ready="true"]')
    # ready means the restored queue was tried: the page shows the work and says it is offline
    assert page.inner_text("#ws-span-count") == "3"
    assert status(page) == "offline"
    assert "3 changes kept in this browser" in page.inner_text("#ws-save")
    page.locator("#ws-span-list button", has_text="United States").click()
    page.keyboard.press("s")
    page.keyboard.type("Chinese government")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("d")
    page.keyboard.press("2")
    page.wait_for_function("() => window.workspace.sync.pending === 5")
    assert status(page) == "offline"
    screenshot(page, "workspace-offline")

    page.unroute(API)
    page.click("#ws-retry")
    settled(page, timeout=30000)
    annotation = own_annotation(doc, user)
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
    assert annotation.version == 5  # five changes, none twice
    spans = stored_spans(doc, user)
    assert [s[3] for s in spans] == [
        "United States",
        "Officials link the decision",
        "a grave mistake",
    ]
    assert spans[0][4] == {"source": "Chinese government"}
    assert list(annotation.stances.values_list("value", flat=True)) == ["against"]
    assert (
        page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('annotate:v1:'))")
        == []
    )
    assert page.errors == []


def test_a_queue_restored_by_a_reload_is_saved_before_the_page_says_ready(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user)
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    page.route(API, lambda route: route.abort())
    gate = Gate(page)
    label(page, "United States", "1")
    label(page, "a grave mistake", "3")
    page.wait_for_function("() => window.workspace.sync.status === 'offline'")
    page.evaluate("() => window.workspace.sync.stop()")  # no retry before the reload

    gate.mode = "hold"
    page.reload()
    not_ready_while_held(page, gate)
    assert own_annotation(doc, user) is None
    gate.release("pass")
    page.wait_for_selector('#ws[data-ready="true"]')
    assert status(page) == "saved"
    assert page.evaluate("() => window.workspace.sync.pending") == 0
    assert [s[3] for s in stored_spans(doc, user)] == ["United States", "a grave mistake"]
    assert own_annotation(doc, user).version == 2
    assert page.inner_text("#ws-span-count") == "2"
    assert page.errors == []


def test_two_tabs_on_one_annotation_conflict_visibly_and_lose_nothing(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user)
    url = workspace_url(live_server, setup.project, doc)
    first = open_workspace(context, url)
    second = open_workspace(context, url)

    # the second tab's change waits (its network is down) while the first tab saves
    second.route(API, lambda route: route.abort())
    label(second, "a grave mistake", "3")
    second.wait_for_function("() => window.workspace.sync.pending === 1")
    label(first, "United States", "1")
    settled(first)
    assert own_annotation(doc, user).version == 1

    # back online, the second tab's stale version gets 409: it shows what happened, re-applies
    second.unroute(API)
    second.click("#ws-retry")
    settled(second)
    banner = second.locator("#ws-banner")
    banner.wait_for()
    assert "changed in another tab or window" in banner.inner_text()
    assert "United States" in banner.inner_text()
    assert sorted(s[3] for s in stored_spans(doc, user)) == ["United States", "a grave mistake"]
    assert own_annotation(doc, user).version == 2  # each span saved once
    assert second.inner_text("#ws-span-count") == "2"
    # the first tab picks up the second's span once that tab has saved
    first.wait_for_function("() => window.workspace.local.spans.size === 2")
    screenshot(second, "workspace-conflict")
    assert first.errors == [] and second.errors == []


def test_a_blind_annotator_gets_none_of_another_annotators_work_in_any_response(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc = setup.documents[0]
    access = project_access(setup.annotator, setup.project.pk)
    start = ARTICLE.index("a grave mistake")
    annotation_services.span_create(
        access=access,
        document=doc,
        start=start,
        end=start + len("a grave mistake"),
        label="Critique",
        attributes={"source": "XYZZY-SECRET-SOURCE"},
        client_id="secret-span-of-ann1",
    )
    context = signed_in(browser, live_server, setup.annotator2)
    bodies: list[str] = []

    def record(response: Any) -> None:
        if response.url.startswith(live_server.url):
            try:
                bodies.append(response.text())
            except Exception:  # redirects and aborted loads have no body
                bodies.append("")

    context.on("response", record)
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    assert page.inner_text("#ws-span-count") == "0"
    # working makes requests too: label, set a source (the autocomplete), reload
    label(page, "United States", "1")
    page.keyboard.press("s")
    assert "XYZZY" not in page.inner_text("#ws-card")
    page.keyboard.press("Escape")
    settled(page)
    page.reload()
    page.wait_for_selector('#ws[data-ready="true"]')
    # asking for the other annotator's work is refused, and says nothing of it
    refused = page.goto(workspace_url(live_server, setup.project, doc, "?annotator=ann1"))
    assert refused.status == 403
    assert len(bodies) >= 6
    for body in bodies:
        assert "XYZZY" not in body
        assert "secret-span-of-ann1" not in body
    assert page.errors == []


def test_changes_left_offline_on_one_document_are_sent_from_the_next_one(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE, "Another document, opened next."])
    first, second = setup.documents
    user = setup.annotator
    context = signed_in(browser, live_server, user)
    page = open_workspace(context, workspace_url(live_server, setup.project, first))
    gate = Gate(page)
    label(page, "United States", "1")
    page.wait_for_function("() => document.getElementById('ws-save').dataset.status === 'offline'")
    gate.mode = "hold"
    page.keyboard.press("Shift+N")  # on to the next document, the change still queued
    page.wait_for_url(workspace_url(live_server, setup.project, second))
    page.wait_for_function("() => window.workspace?.drains?.length === 1")
    assert page.get_attribute("#ws", "data-ready") == "false"
    gate.release("abort")
    page.wait_for_selector('#ws[data-ready="true"]')
    # ready once the left queue was tried (and failed): the page says it is waiting
    assert "1 from another document waiting" in page.inner_text("#ws-save-text")
    assert own_annotation(first, user) is None
    page.unroute(API)
    page.click("#ws-retry")
    page.wait_for_function("() => window.workspace.drains.every((d) => d.pending === 0)")
    assert [s[3] for s in stored_spans(first, user)] == ["United States"]
    assert (
        page.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('annotate:v1:'))")
        == []
    )
    assert page.errors == []


@pytest.mark.parametrize("width", [1280, 900, 600])
def test_the_text_stays_put_whatever_the_save_status_says(
    live_server: Any, browser: Any, width: int
) -> None:
    """The status changes when a request comes back, not when the user acts: if its longer
    texts (offline, blocked, a refusal note) made the bar wrap, the article would jump under
    a pointer about to press (a drag then started on the line above: a label key relabelled
    the selected span instead of making a new one, the failure this test was made for)."""
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user, viewport={"width": width, "height": 800})
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    top = "() => document.getElementById('ws-text').getBoundingClientRect().top"
    tops = {"saved": page.evaluate(top)}
    gate = Gate(page, "hold")
    label(page, "United States", "1")
    page.wait_for_function("() => window.workspace.sync.status === 'saving'")
    tops["saving"] = page.evaluate(top)
    gate.release("abort")
    page.wait_for_function("() => window.workspace.sync.status === 'offline'")
    assert page.is_visible("#ws-retry")
    tops["offline"] = page.evaluate(top)
    page.evaluate(
        "() => window.workspace.flash('A “supports” relation cannot start here. '.repeat(3))"
    )
    assert page.is_visible("#ws-note")
    tops["note"] = page.evaluate(top)
    page.unroute(API)
    page.route(API, lambda route: route.fulfill(status=403, json={"error": {"message": "no"}}))
    page.click("#ws-retry")
    page.wait_for_function("() => window.workspace.sync.status === 'blocked'")
    tops["blocked"] = page.evaluate(top)
    page.unroute(API)
    page.click("#ws-retry")
    settled(page)
    tops["saved again"] = page.evaluate(top)
    assert set(tops.values()) == {tops["saved"]}, tops
    # the whole status stays readable (a tooltip where the bar has no room for it)
    assert page.get_attribute("#ws-save-text", "title") == "All changes saved"
    assert page.errors == []
