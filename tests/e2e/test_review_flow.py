"""A lead reviews the demo project in a real browser: the agreement figures on the page equal
the API's, the worst document opens side by side, and its gold is adjudicated with the
keyboard (its own keys, and Tab/Enter) until it is submitted (the state exports use)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from projects.models import Annotation, Span

from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def tab_to(page: Any, text: str, limit: int = 200) -> None:
    """Move the focus with the Tab key alone until it rests on a control whose text starts
    with ``text``: the way a keyboard user gets there (synthetic access-key presses do not
    reach headless Chromium's access-key handler)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.innerText")
        if focused and focused.strip().startswith(text):
            return
    raise AssertionError(f"no control starting with {text!r} reachable by Tab")


def log_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-password-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_lead_checks_agreement_compares_and_adjudicates_the_demo(
    live_server: Any, page: Any
) -> None:
    call_command("load_demo", stdout=StringIO())
    base = live_server.url
    log_in(page, base, "lead")

    page.goto(f"{base}/p/demo/agreement/")
    card = page.locator(".figure-card", has_text="Span F1, overlap, labelled")
    shown = card.locator(".figure-value").inner_text()
    api = page.request.get(f"{base}/api/v1/projects/demo/agreement/").json()
    expected = api["report"]["spans"]["overlap_labelled"]["f1"]["value"]
    assert shown == f"{expected:.3f}"
    alpha_card = page.locator(".figure-card", has_text="Unitizing alpha")
    alpha = api["report"]["unitizing"]["concatenated"]["alpha"]["value"]
    assert alpha_card.locator(".figure-value").inner_text() == f"{alpha:.3f}"
    screenshot(page, "agreement")

    # the worst document is the first of the per-document list
    page.locator("#documents table a").first.click()
    document_url = page.url
    page.goto(document_url.rstrip("/") + "/compare/")
    assert page.locator(".cmp-row").count() > 0
    screenshot(page, "compare")

    page.goto(document_url.rstrip("/") + "/adjudicate/")
    page.get_by_role("button", name="Run the merge").click()
    page.wait_for_load_state()
    gold = Annotation.objects.get(kind="gold", document__project__slug="demo")
    merged = Span.objects.filter(annotation=gold).count()
    # keyboard only: the page's keys move through the candidates and decide them
    page.wait_for_selector("tr.candidate.current")
    with page.expect_navigation(timeout=8000):
        page.keyboard.press("a")
    assert Span.objects.filter(annotation=gold).count() == merged + 1
    page.wait_for_selector("tr.candidate.current")
    page.keyboard.press("j")
    page.keyboard.press("k")
    with page.expect_navigation(timeout=8000):
        page.keyboard.press("r")
    gold.refresh_from_db()
    assert len(gold.adjudication.get("rejected", [])) == 1
    with page.expect_navigation(timeout=8000):
        page.keyboard.press("u")
    gold.refresh_from_db()
    assert gold.adjudication.get("rejected", []) == []
    page.wait_for_selector("tr.candidate.current")
    with page.expect_navigation(timeout=8000):
        page.keyboard.press("r")
    gold.refresh_from_db()
    assert len(gold.adjudication.get("rejected", [])) == 1
    # edit then accept: e opens the current candidate's form and focuses its first field
    page.wait_for_selector("tr.candidate.current")
    page.keyboard.press("e")
    focused = page.evaluate("document.activeElement.name")
    assert focused == "edit_start"
    before = Span.objects.filter(annotation=gold).count()
    tab_to(page, "Accept as edited")
    with page.expect_navigation(timeout=8000):
        page.keyboard.press("Enter")
    assert Span.objects.filter(annotation=gold).count() == before + 1
    page.keyboard.press("?")
    assert page.locator("#adjudicate-help").is_visible()
    screenshot(page, "adjudicate-help")
    page.keyboard.press("Escape")
    # Tab and Enter still work without the keys: the buttons are ordinary form buttons
    if page.locator("tr.candidate").count():
        tab_to(page, "Reject")
        with page.expect_navigation(timeout=8000):
            page.keyboard.press("Enter")
    screenshot(page, "adjudicate")
    page.get_by_role("button", name="Submit gold").click()
    page.wait_for_load_state()
    gold.refresh_from_db()
    assert gold.status == "submitted" and gold.submitted_at is not None
