"""Helpers for the workspace's browser tests: a project made with the factories, a browser
page signed in without the login form, and ways to select text the way a user does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.test import Client

from projects.models import Annotation, AuditEvent, Document, Project, Role
from tests.factories import add_member, assign, make_documents, make_project, make_user

# Accents (precomposed and combining), emoji with a ZWJ sequence, CJK: every span's stored
# offsets must slice to exactly what the page highlighted.
UNICODE_TEXT = (
    "Smile 🙂 then the family 👨‍👩‍👧 arrived. 北京欢迎你 said Zoë Nguyễn and José.\n\n"
    "The minister q\u0303uoted Ω and said: “the decision was final”. Critics disagreed."
)
ARTICLE = (
    "The United States has decided not to sponsor a resolution critical of China. "
    "Officials link the decision to positive human rights moves by China.\n\n"
    "Amnesty International said the decision was a grave mistake. "
    "The State Department said its record remained poor."
)


@dataclass
class Setup:
    project: Project
    lead: Any
    annotator: Any
    annotator2: Any
    documents: list[Document]


def make_setup(
    texts: list[str], *, guidelines: str = "", scheme: dict[str, Any] | None = None
) -> Setup:
    """A project with the demo scheme (or ``scheme``), a lead and two annotators; every
    document is assigned to both annotators."""
    lead = make_user("lead")
    project = make_project(lead=lead, name="Alpha", guidelines=guidelines, scheme=scheme)
    annotator, annotator2 = make_user("ann1"), make_user("ann2")
    add_member(project, annotator, Role.ANNOTATOR)
    add_member(project, annotator2, Role.ANNOTATOR)
    documents = [make_documents(project, 1, text=text)[0] for text in texts]
    for doc in documents:
        assign(project, doc, annotator)
        assign(project, doc, annotator2)
    return Setup(project, lead, annotator, annotator2, documents)


def signed_in(browser: Any, live_server: Any, user: Any, **options: Any) -> Any:
    """A browser context with ``user``'s session cookie (no login form: faster, and the form
    has tests of its own)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        viewport=options.pop("viewport", {"width": 1280, "height": 800}), **options
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def workspace_url(live_server: Any, project: Project, document: Document, query: str = "") -> str:
    return f"{live_server.url}/p/{project.slug}/d/{document.pk}/annotate/{query}"


def open_workspace(context: Any, url: str) -> Any:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # checked by the tests: a script error fails them
    page.goto(url)
    page.wait_for_selector('#ws[data-ready="true"]')
    return page


def settled(page: Any, timeout: float = 15000) -> None:
    """Wait until the page says everything is saved and nothing is queued."""
    page.wait_for_function(
        "() => window.workspace.sync && window.workspace.sync.pending === 0"
        " && document.getElementById('ws-save').dataset.status === 'saved'",
        timeout=timeout,
    )


def drag_select(page: Any, start: int, end: int) -> None:
    """Drag the mouse from inside the first character of [start, end) (code points) to
    inside its last, as a user would."""
    box = page.evaluate(
        """([s, e]) => {
            const map = window.workspace.map;
            const first = map.range(s, s + 1).getClientRects()[0];
            const rects = map.range(e - 1, e).getClientRects();
            const last = rects[rects.length - 1];
            return [first.left, first.top, first.width, first.height,
                    last.right, last.top, last.width, last.height];
        }""",
        [start, end],
    )
    x1 = box[0] + min(2, box[2] / 3)
    y1 = box[1] + box[3] / 2
    x2 = box[4] - min(2, box[6] / 3)
    y2 = box[5] + box[7] / 2
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=3)
    page.mouse.move(x2, y2, steps=3)
    page.mouse.up()


def label_fragment(page: Any, text: str, fragment: str, key: str) -> None:
    """Select the first ``fragment`` of ``text`` with the mouse, then press the label's key."""
    start = text.index(fragment)
    drag_select(page, start, start + len(fragment))
    page.keyboard.press(key)


def selection_text(page: Any) -> str:
    return page.evaluate("() => getSelection().toString()")


def cursor_text(page: Any) -> str | None:
    return page.evaluate(
        """() => { const w = window.workspace;
            return w.cursor ? w.map.text.slice(w.cursor.start, w.cursor.end) : null; }"""
    )


def move_cursor_to(page: Any, word: str, limit: int = 300) -> int:
    """Press → until the keyboard cursor rests on ``word``; returns the presses used."""
    for n in range(1, limit + 1):
        page.keyboard.press("ArrowRight")
        if cursor_text(page) == word:
            return n
    raise AssertionError(f"the cursor never reached {word!r}")


def highlighted_texts(page: Any) -> list[str]:
    """The text of every span highlight the page paints (what the user sees marked)."""
    return page.evaluate(
        """() => [...CSS.highlights.entries()]
            .filter(([name]) => /^ws-l\\d+-d\\d+$/.test(name))
            .flatMap(([, h]) => [...h].map((r) => r.toString()))"""
    )


def own_annotation(document: Document, user: Any) -> Annotation | None:
    return Annotation.objects.filter(document=document, annotator=user).first()


def audit_trail(document: Document, user: Any) -> list[tuple[str, Any]]:
    """(action, data) of every audit event ``user`` caused on ``document``, oldest first: what
    reached the server, in the order it landed."""
    return list(
        AuditEvent.objects.filter(document=document, actor=user)
        .order_by("id")
        .values_list("action", "data")
    )


def stored_spans(document: Document, user: Any) -> list[tuple[int, int, str, str, dict[str, str]]]:
    annotation = own_annotation(document, user)
    if annotation is None:
        return []
    return [
        (s.start, s.end, s.label.name, document.text[s.start : s.end], s.attributes)
        for s in annotation.spans.select_related("label").order_by("start", "end")
    ]
