"""The workspace with the keyboard alone, from "my work" to the next document: spans, a
relation, attributes, the document stance and submit, without touching the mouse. And the
screenshots (empty, a busy article, the help overlay, 200% zoom) the issue asks for."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from projects.models import Document, Project, Relation
from projects.permissions import project_access
from projects.services import annotations as annotation_services
from tests.factories import assign, make_documents

from .conftest import screenshot
from .workspace_helpers import (
    ARTICLE,
    make_setup,
    move_cursor_to,
    own_annotation,
    settled,
    signed_in,
    stored_spans,
    workspace_url,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tab_to(page: Any, text: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement && document.activeElement.innerText")
        if focused and focused.strip().startswith(text):
            return
    raise AssertionError(f"no control starting with {text!r} reachable by Tab")


def test_a_whole_document_is_labelled_and_submitted_with_the_keyboard_alone(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE, "A second document to open next."])
    doc, user = setup.documents[0], setup.annotator
    page = signed_in(browser, live_server, user).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/p/{setup.project.slug}/work/")
    assert "0 of 2 submitted" in page.inner_text("main")
    tab_to(page, "Start")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector('#ws[data-ready="true"]')
    assert page.evaluate("() => document.activeElement.id") == "ws-text"

    move_cursor_to(page, "United")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("1")  # Claim: "United States"
    page.keyboard.press("t")
    page.keyboard.press("1")  # its stance: favor
    move_cursor_to(page, "Officials")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")  # Justification: "Officials link the decision"
    page.keyboard.press("s")
    page.keyboard.type("US officials")
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("+")  # supports: the claim is the only other span
    page.keyboard.press("Enter")
    page.keyboard.press("d")
    page.keyboard.press("3")  # document stance: neutral
    settled(page)

    spans = stored_spans(doc, user)
    assert [(s[3], s[2], s[4]) for s in spans] == [
        ("United States", "Claim", {"stance": "favor"}),
        ("Officials link the decision", "Justification", {"source": "US officials"}),
    ]
    annotation = own_annotation(doc, user)
    relation = Relation.objects.select_related("source", "target", "type").get(
        annotation=annotation
    )
    assert (relation.source.start, relation.type.name, relation.target.start) == (
        spans[1][0],
        "supports",
        spans[0][0],
    )
    assert list(annotation.stances.values_list("value", flat=True)) == ["neutral"]

    with page.expect_navigation():
        page.keyboard.press("Control+Enter")  # submit, and the next document opens
    annotation.refresh_from_db()
    assert annotation.status == "submitted"
    assert page.url == workspace_url(live_server, setup.project, setup.documents[1])
    page.goto(f"{live_server.url}/p/{setup.project.slug}/work/")
    assert "1 of 2 submitted" in page.inner_text("main")
    screenshot(page, "my-work")
    assert errors == []


def test_screenshots_of_the_empty_busy_and_help_views_at_two_sizes(
    live_server: Any, browser: Any
) -> None:
    """Saved to var/e2e/ for a person to look at; the checks here are the layout's: no
    horizontal scrolling at 200% zoom, the help lists every key."""
    call_command("load_demo", stdout=StringIO())
    project = Project.objects.get(slug="demo")
    doc = Document.objects.get(project=project)
    users = get_user_model().objects
    annotator1, lead = users.get(username="annotator1"), users.get(username="lead")

    # empty: a newly assigned document, with the help overlay
    fresh_doc = make_documents(project, 1, text=ARTICLE)[0]
    assign(project, fresh_doc, annotator1)
    page = signed_in(browser, live_server, annotator1).new_page()
    page.goto(workspace_url(live_server, project, fresh_doc))
    page.wait_for_selector('#ws[data-ready="true"]')
    screenshot(page, "workspace-empty")
    page.keyboard.press("?")
    page.wait_for_selector("#ws-help[open]")
    help_text = page.inner_text("#ws-help")
    for key in ["Shift+→", "Ctrl+Enter", "Ctrl+Z", "Tab", "Delete", "Esc", "+", "d"]:
        assert key in help_text
    page.screenshot(path=str(screenshot(page, "workspace-help").with_name("workspace-help.png")))
    page.keyboard.press("Escape")
    assert page.evaluate("() => document.getElementById('ws-help').open") is False

    # busy: annotator1's nine spans and seven relations on the demo article
    busy = signed_in(browser, live_server, annotator1, viewport={"width": 1280, "height": 720})
    page = busy.new_page()
    page.goto(workspace_url(live_server, project, doc))
    page.wait_for_selector('#ws[data-ready="true"]')
    assert page.inner_text("#ws-span-count") == "9"
    assert page.locator("path.ws-arc").count() == 7
    page.locator("#ws-span-list button").first.click()
    page.screenshot(
        path=str(screenshot(page, "workspace-busy").with_name("workspace-busy-viewport.png"))
    )
    screenshot(page, "workspace-busy")

    # 200% zoom on a 1280x720 window: 640x360 CSS pixels
    zoomed = signed_in(
        browser,
        live_server,
        annotator1,
        viewport={"width": 640, "height": 360},
        device_scale_factor=2,
    )
    page = zoomed.new_page()
    page.goto(workspace_url(live_server, project, doc))
    page.wait_for_selector('#ws[data-ready="true"]')
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    # the card lies below the text here: editing the source there brings the span back to view
    page.keyboard.press("Tab")
    page.keyboard.press("s")
    assert page.evaluate("() => document.activeElement.id") == "ws-attr-source"
    page.keyboard.press("Escape")
    in_view = """() => { const w = window.workspace;
        const r = w.map.range(...[w.local.spans.get(w.selected)].map((s) => [s.start, s.end])[0])
            .getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight; }"""
    assert page.evaluate(in_view)
    page.screenshot(
        path=str(screenshot(page, "workspace-zoom200").with_name("workspace-zoom200-viewport.png"))
    )

    # a lead reads annotator1's work, read-only
    reader = signed_in(browser, live_server, lead).new_page()
    reader.goto(workspace_url(live_server, project, doc, "?annotator=annotator1"))
    reader.wait_for_selector('#ws[data-ready="true"]')
    assert "Read-only" in reader.inner_text(".ws-readonly")
    reader.keyboard.press("1")
    reader.wait_for_function(
        "() => document.getElementById('ws-alert').textContent.includes('Read-only')",
        timeout=5000,
    )
    screenshot(reader, "workspace-read-only")


def test_tab_walks_the_spans_brackets_move_their_ends_and_skip_asks_for_a_reason(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE, "The next document."])
    doc, user = setup.documents[0], setup.annotator
    access = project_access(user, setup.project.pk)
    for fragment, label in [("United States", "Claim"), ("grave mistake", "Critique")]:
        start = ARTICLE.index(fragment)
        annotation_services.span_create(
            access=access, document=doc, start=start, end=start + len(fragment), label=label
        )
    page = signed_in(browser, live_server, user).new_page()
    page.goto(workspace_url(live_server, setup.project, doc))
    page.wait_for_selector('#ws[data-ready="true"]')
    selected = "() => { const w = window.workspace; const s = w.local.spans.get(w.selected);"
    selected += " return s ? w.map.cp.slice(s.start, s.end) : null; }"
    page.keyboard.press("Tab")
    assert page.evaluate(selected) == "United States"
    assert "Claim" in page.inner_text("#ws-live")
    page.keyboard.press("Tab")
    assert page.evaluate(selected) == "grave mistake"
    page.keyboard.press("[")  # start a word earlier
    page.keyboard.press("]")  # end a word later
    settled(page)
    assert page.evaluate(selected) == "a grave mistake. The"
    assert [s[3] for s in stored_spans(doc, user)][1] == "a grave mistake. The"
    page.keyboard.press("}")  # end a word earlier again
    page.keyboard.press("{")  # and the start a word later
    settled(page)
    assert [s[3] for s in stored_spans(doc, user)][1] == "grave mistake"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(selected) == "United States"
    page.keyboard.press("Shift+Tab")  # before the first span: Tab leaves the text
    assert page.evaluate("() => document.activeElement.id") != "ws-text"

    page.focus("#ws-text")
    page.keyboard.press("Shift+S")
    page.wait_for_selector("#ws-skip[open]")
    page.keyboard.type("Not about the resolution")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == workspace_url(live_server, setup.project, setup.documents[1])
    assignment = doc.assignments.get(annotator=user)
    assert (assignment.status, assignment.skip_reason) == ("skipped", "Not about the resolution")
