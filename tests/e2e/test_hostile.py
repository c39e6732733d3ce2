"""Hostile content in a real browser, and the Content-Security-Policy on every main page.

The first test opens the pages of a project whose every string is an XSS payload (see
``tests/security/hostile.py``) and works them the way people do: every span's card, the
source autocomplete, the help overlays, a save conflict whose banner names spans, a skip with
a hostile reason, the adjudication keys. No dialog may ever open (every payload calls
``alert``), no script may fail, and the browser must report no CSP violation: a violation
would mean some markup made of content tried to run, or one of our own pages broke the policy.

The second visits every main page of the demo project (and the admin and the API docs) and
asserts the same: no violation reported, no script error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from projects.models import Document, Project
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.security.hostile import (
    USER_B,
    Hostile,
    joined,
    make_hostile_project,
    payloads,
    text_of,
)

from .conftest import screenshot
from .workspace_helpers import drag_select, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Reported through an exposed binding, so a violation on a page that navigates away at once
# (a redirect, a form post) is still caught.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}` +
    ` at ${e.sourceFile || location.href}:${e.lineNumber} (${e.sample || ""})`);
});
"""


@dataclass
class Watch:
    """Everything a page may do that a test must hear about."""

    dialogs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_console(self) -> list[str]:
        return [
            m
            for m in self.console
            if "Content Security Policy" in m or "Content-Security-Policy" in m
        ]

    def assert_clean(self, where: str) -> None:
        assert not self.dialogs, f"{where}: a dialog opened: {self.dialogs}"
        assert not self.violations, f"{where}: CSP violations: {self.violations}"
        assert not self.csp_console(), f"{where}: CSP in the console: {self.csp_console()}"
        assert not self.errors, f"{where}: script errors: {self.errors}"


def watched(context: Any) -> tuple[Any, Watch]:
    """A page of ``context`` whose dialogs, CSP violations, console and errors are recorded."""
    watch = Watch()
    context.expose_binding("__cspViolation", lambda _source, text: watch.violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda message: watch.console.append(message.text))
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    return page, watch


def visit(page: Any, url: str, ready: str | None = None) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, (url, response and response.status)
    page.wait_for_load_state("load")
    if ready:
        page.wait_for_selector(ready)


def text_of_page(page: Any) -> str:
    return page.evaluate("() => document.body.innerText")


# --- hostile content --------------------------------------------------------------------------


def _work_the_workspace(page: Any, hostile: Hostile) -> None:
    """Select every span (its card names label, source, relations), open the source
    autocomplete with every suggestion, and the help overlay."""
    ids = page.evaluate("() => [...window.workspace.local.spans.keys()]")
    assert len(ids) == len(payloads("label"))
    for span_id in ids:
        page.evaluate("(id) => window.workspace.selectSpan(id)", span_id)
    card = page.inner_text("#ws-card-body")  # the last span's card: its label and source
    assert any(label in card for label in payloads("label")), card
    assert page.input_value("#ws-attr-source") in payloads("source")
    page.evaluate("() => window.workspace.openAttribute('source')")
    page.fill("#ws-attr-source", "")  # an empty box lists every suggestion
    page.wait_for_selector("#ws-attr-source-list:not([hidden])")
    shown = page.locator("#ws-attr-source-list li").all_inner_texts()
    assert set(payloads("suggestion")) <= set(shown), shown
    page.keyboard.press("Escape")
    page.evaluate("() => window.workspace.focusText()")
    page.keyboard.press("?")
    page.wait_for_selector("#ws-help[open]")
    assert "<script>alert('label')</script>" in page.inner_text("#ws-help-body")
    page.keyboard.press("Escape")
    side = page.inner_text(".ws-side")
    for label in ("<script>alert('label')</script>", "\"><img src=x onerror=alert('label')>"):
        assert label in side
    assert "<svg onload=alert('relation')>" in side
    assert page.evaluate("() => document.title").startswith(hostile.annotated.title)


def test_hostile_content_never_runs_in_the_browser(live_server: Any, browser: Any) -> None:
    hostile = make_hostile_project()
    project, base = hostile.project, live_server.url

    # --- the annotator: workspace, a save conflict, a skip, my work
    context = signed_in(browser, live_server, hostile.annotator)
    page, watch = watched(context)
    visit(
        page,
        f"{base}/p/{project.slug}/d/{hostile.annotated.pk}/annotate/",
        '#ws[data-ready="true"]',
    )
    assert page.inner_text("#ws-text") == text_of()
    _work_the_workspace(page, hostile)
    screenshot(page, "hostile-workspace")
    watch.assert_clean("workspace")

    # a change made elsewhere meanwhile: the page's next save conflicts, and the banner says
    # what changed, naming the span by its hostile label and text
    fresh = hostile.documents[2]
    visit(page, f"{base}/p/{project.slug}/d/{fresh.pk}/annotate/", '#ws[data-ready="true"]')
    line = text_of().split("\n")[2]
    start = text_of().index(line)
    api = f"/api/v1/projects/{project.pk}/documents/{fresh.pk}/annotation/spans/"
    elsewhere = client_for(hostile.annotator).post(
        api,
        {"start": start, "end": start + len(line), "label": payloads("label")[3]},
        format="json",
    )
    assert elsewhere.status_code == 201, elsewhere.content
    first_line = text_of().split("\n")[1]
    first = text_of().index(first_line)
    drag_select(page, first, first + len(first_line))
    page.keyboard.press("1")
    page.wait_for_selector("#ws-banner:not([hidden])", timeout=15000)
    banner = page.inner_text("#ws-banner-body")
    assert payloads("label")[3] in banner, banner
    watch.assert_clean("workspace after a conflict")

    # skip with a hostile reason, then my work lists it
    skipped = hostile.documents[3]
    visit(page, f"{base}/p/{project.slug}/d/{skipped.pk}/annotate/", '#ws[data-ready="true"]')
    page.evaluate("() => window.workspace.focusText()")
    page.keyboard.press("Shift+S")
    page.wait_for_selector("#ws-skip[open]")
    reason = joined("browser-skip").replace("\n", " | ")
    page.fill("#ws-skip-reason", reason)
    with page.expect_navigation(timeout=15000):
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    visit(page, f"{base}/p/{project.slug}/work/")
    assert "<script>alert('browser-skip')</script>" in text_of_page(page)
    watch.assert_clean("skip and my work")
    context.close()

    # --- the lead: every page of the project
    context = signed_in(browser, live_server, hostile.lead)
    page, watch = watched(context)
    doc = hostile.annotated
    pages = [
        (f"/p/{project.slug}/", [*payloads("title")[:3], "<script>alert('guidelines')</script>"]),
        (f"/p/{project.slug}/d/{doc.pk}/", [*payloads("text")[:3], *payloads("meta-value")[:3]]),
        (f"/p/{project.slug}/agreement/", ["<script>alert('label')</script>", doc.title]),
        (f"/p/{project.slug}/d/{doc.pk}/compare/", ["<svg onload=alert('relation')>"]),
        (f"/p/{project.slug}/adjudication/", [doc.title]),
        (f"/p/{project.slug}/scheme/", ["<script>alert('target')</script>"]),
        (f"/p/{project.slug}/exports/", ["<script>alert('export-error')</script>"]),
        (f"/p/{project.slug}/import/", []),
        ("/account/tokens/", ["<script>alert('token-name')</script>"]),
    ]
    for path, expected in pages:
        visit(page, base + path)
        shown = text_of_page(page)
        for value in expected:
            assert value in shown, (path, value)
        watch.assert_clean(path)
    screenshot(page, "hostile-tokens")

    visit(page, f"{base}/p/{project.slug}/d/{doc.pk}/adjudicate/", "tr.candidate.current")
    page.keyboard.press("j")
    live = page.inner_text("#adjudicate-live")  # the keys announce label and text
    assert any(label in live for label in payloads("label")), live
    page.keyboard.press("?")
    page.wait_for_selector("#adjudicate-help[open]")
    assert all(text in text_of_page(page) for text in payloads("text")[:5])
    watch.assert_clean("adjudicate")

    visit(
        page,
        f"{base}/p/{project.slug}/d/{doc.pk}/annotate/?annotator={quote(USER_B)}",
        '#ws[data-ready="true"]',
    )
    cards = []
    for span_id in page.evaluate("() => [...window.workspace.local.spans.keys()]"):
        page.evaluate("(id) => window.workspace.selectSpan(id)", span_id)
        cards.append(page.inner_text("#ws-card-body"))  # read-only: the source as text
    assert all(any(source in card for card in cards) for source in payloads("source2"))
    watch.assert_clean("read-only workspace")
    context.close()


# --- the CSP on every main page of the demo ---------------------------------------------------


def test_every_main_page_of_the_demo_runs_without_csp_violations_or_errors(
    live_server: Any, browser: Any
) -> None:
    call_command("load_demo", stdout=StringIO())
    project = Project.objects.get(slug="demo")
    document = Document.objects.filter(project=project).order_by("pk").first()
    assert document is not None
    User = get_user_model()
    admin = User.objects.create_superuser("site-admin", password=PASSWORD)
    base, slug, doc = live_server.url, project.slug, document.pk

    def tour(user: Any, pages: list[tuple[str, str | None]]) -> None:
        context = signed_in(browser, live_server, user)
        page, watch = watched(context)
        for path, ready in pages:
            visit(page, base + path, ready)
            page.wait_for_timeout(150)  # late violations (modules, fetches) arrive after load
            watch.assert_clean(path)
        context.close()

    tour(
        User.objects.get(username="annotator1"),
        [
            (f"/p/{slug}/work/", None),
            (f"/p/{slug}/d/{doc}/annotate/", '#ws[data-ready="true"]'),
        ],
    )
    tour(
        User.objects.get(username="lead"),
        [
            ("/", None),
            (f"/p/{slug}/", None),
            (f"/p/{slug}/d/{doc}/", None),
            (f"/p/{slug}/d/{doc}/annotate/?annotator=annotator1", '#ws[data-ready="true"]'),
            (f"/p/{slug}/agreement/", None),
            (f"/p/{slug}/d/{doc}/compare/", None),
            (f"/p/{slug}/adjudication/", None),
            (f"/p/{slug}/d/{doc}/adjudicate/", None),
            (f"/p/{slug}/exports/", None),
            (f"/p/{slug}/scheme/", None),
            (f"/p/{slug}/import/", None),
            ("/account/tokens/", None),
            ("/api/docs/", ".swagger-ui .info"),
        ],
    )
    tour(
        admin,
        [
            ("/admin/", None),
            ("/admin/projects/document/", None),
            (f"/admin/projects/document/{doc}/change/", None),
            (f"/admin/projects/project/{project.pk}/change/", None),
        ],
    )
