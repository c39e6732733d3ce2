"""Labelling spans in the workspace, in real Chromium: by mouse and by keyboard, on a text
with emoji, a family emoji, CJK and accented names. Every stored span's offsets slice (in
Python) to exactly the text the page highlighted."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import screenshot
from .workspace_helpers import (
    UNICODE_TEXT,
    drag_select,
    highlighted_texts,
    make_setup,
    move_cursor_to,
    open_workspace,
    selection_text,
    settled,
    signed_in,
    stored_spans,
    workspace_url,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def cp(text: str, fragment: str) -> tuple[int, int]:
    """Code point offsets of ``fragment`` (Python's str indices, as the server stores)."""
    start = text.index(fragment)
    return start, start + len(fragment)


def test_spans_labelled_by_mouse_and_keyboard_store_what_was_highlighted(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([UNICODE_TEXT])
    doc = setup.documents[0]
    context = signed_in(browser, live_server, setup.annotator)
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    seen: list[str] = []

    # 1. mouse: from inside "🙂" to inside the family emoji, label Claim (key 1)
    drag_select(page, *cp(doc.text, "🙂 then the family 👨‍👩‍👧"))
    seen.append(selection_text(page))
    assert seen[-1] == "🙂 then the family 👨‍👩‍👧"
    page.keyboard.press("1")

    # 2. mouse: half of a CJK word snaps to whole words; label Justification (key 2)
    drag_select(page, *cp(doc.text, "京欢"))
    seen.append(selection_text(page))
    page.keyboard.press("2")

    # 3. mouse: a name with its trailing full stop: the stop is trimmed
    drag_select(page, *cp(doc.text, "José."))
    seen.append(selection_text(page))
    assert seen[-1] == "José"
    page.keyboard.press("3")

    # 4. keyboard: → to "Zoë", Shift+→ over "Nguyễn", key 1
    page.keyboard.press("Escape")
    page.focus("#ws-text")
    move_cursor_to(page, "Zoë")
    page.keyboard.press("Shift+ArrowRight")
    seen.append(selection_text(page))
    assert seen[-1] == "Zoë Nguyễn"
    page.keyboard.press("1")

    # 5. keyboard: a word with a combining accent, labelled straight from the cursor
    move_cursor_to(page, "q\u0303uoted")
    page.keyboard.press("2")
    seen.append("q\u0303uoted")

    # 6. keyboard, exact characters: the closing quote kept with Alt+Shift+→
    move_cursor_to(page, "final")
    page.keyboard.press("Alt+Shift+ArrowRight")
    seen.append(selection_text(page))
    assert seen[-1] == "final”"
    page.keyboard.press("3")

    settled(page)
    stored = stored_spans(doc, setup.annotator)
    assert sorted(s[3] for s in stored) == sorted(seen)
    for start, end, _label, text, _attrs in stored:
        assert doc.text[start:end] == text  # offsets are code points, as Python slices
    assert sorted(highlighted_texts(page)) == sorted(seen)
    labels = {s[3]: s[2] for s in stored}
    assert labels["🙂 then the family 👨‍👩‍👧"] == "Claim"
    assert labels["北京欢迎"] == "Justification"
    assert labels["Zoë Nguyễn"] == "Claim"
    assert labels["final”"] == "Critique"
    screenshot(page, "workspace-unicode")
    assert page.errors == []


def test_a_label_key_pressed_first_labels_the_next_mouse_selection(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([UNICODE_TEXT])
    doc = setup.documents[0]
    page = open_workspace(
        signed_in(browser, live_server, setup.annotator),
        workspace_url(live_server, setup.project, doc),
    )
    page.keyboard.press("2")  # nothing selected: Justification is armed
    assert "armed" in page.inner_text("#ws-legend")
    drag_select(page, *cp(doc.text, "Critics disagreed"))
    settled(page)
    assert stored_spans(doc, setup.annotator) == [
        (*cp(doc.text, "Critics disagreed"), "Justification", "Critics disagreed", {})
    ]
    # the new span is selected; its label changes with another key, and Delete removes it
    page.keyboard.press("3")
    settled(page)
    assert stored_spans(doc, setup.annotator)[0][2] == "Critique"
    page.keyboard.press("Delete")
    settled(page)
    assert stored_spans(doc, setup.annotator) == []
    assert page.errors == []


def test_the_workspace_works_under_a_strict_content_security_policy(
    live_server: Any, browser: Any
) -> None:
    """Issue 6 will send this policy: no inline script or style, no eval. The page is served
    with it here, and must label and save without one violation."""
    setup = make_setup([UNICODE_TEXT])
    doc = setup.documents[0]
    context = signed_in(browser, live_server, setup.annotator)
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": policy}
        )

    url = workspace_url(live_server, setup.project, doc)
    context.route(url, with_policy)
    messages: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: messages.append(m.text))
    page.goto(url)
    page.wait_for_selector('#ws[data-ready="true"]')
    drag_select(page, *cp(doc.text, "Critics disagreed"))
    page.keyboard.press("1")
    settled(page)
    assert [s[3] for s in stored_spans(doc, setup.annotator)] == ["Critics disagreed"]
    assert highlighted_texts(page) == ["Critics disagreed"]
    # the label colours (an adopted style sheet) apply: the legend's swatch is not grey
    swatch = page.eval_on_selector(
        "#ws-legend .ws-swatch", "(e) => getComputedStyle(e).backgroundColor"
    )
    assert swatch not in ("rgb(119, 119, 119)", "rgba(0, 0, 0, 0)")
    assert not [m for m in messages if "Content Security Policy" in m], messages
