"""Relations made with the mouse: a press on the selected span dragged onto another span. One
fitting relation type is made at once, several ask in a menu at the drop point, none says
why; a click and a text selection still do what they did."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Relation
from tests.factories import demo_scheme

from .conftest import screenshot
from .workspace_helpers import (
    ARTICLE,
    drag_select,
    label_fragment,
    make_setup,
    open_workspace,
    own_annotation,
    settled,
    signed_in,
    workspace_url,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLAIM = "The United States has decided not to sponsor a resolution critical of China"
JUSTIFICATION = "Officials link the decision to positive human rights moves by China"
CRITIQUE = "Amnesty International said the decision was a grave mistake"


def strict_scheme() -> dict[str, Any]:
    """The demo scheme with endpoint rules: a justification supports a claim, a critique
    attacks a claim or a justification."""
    scheme = demo_scheme()
    for relation_type in scheme["relation_types"]:
        if relation_type["name"] == "supports":
            relation_type.update(from_labels=["Justification"], to_labels=["Claim"])
        else:
            relation_type.update(from_labels=["Critique"], to_labels=["Claim", "Justification"])
    return scheme


def label(page: Any, fragment: str, key: str) -> None:
    label_fragment(page, ARTICLE, fragment, key)


def point(page: Any, fragment: str, at: float = 0.5) -> tuple[float, float]:
    """A point on ``fragment``'s first line, ``at`` of the way along it."""
    start = ARTICLE.index(fragment)
    box = page.evaluate(
        "([s, e]) => { const r = window.workspace.map.range(s, e).getClientRects()[0];"
        " return [r.left, r.top, r.width, r.height]; }",
        [start, start + len(fragment)],
    )
    return box[0] + box[2] * at, box[1] + box[3] / 2


def press_and_drag(page: Any, source: str, target: tuple[float, float]) -> None:
    """Press on ``source`` and move onto ``target`` in steps, leaving the button down."""
    x, y = point(page, source, 0.3)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 3, y + 1)  # under the threshold: still a press
    assert page.evaluate("() => window.workspace.drag") is None
    page.mouse.move((x + target[0]) / 2, (y + target[1]) / 2 - 20, steps=4)
    page.mouse.move(*target, steps=4)
    page.wait_for_function("() => window.workspace.drag && window.workspace.drag.to !== undefined")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => r()))")


def span_id(page: Any, fragment: str) -> str:
    return page.evaluate(
        """(f) => { const w = window.workspace;
            return [...w.local.spans.values()]
                .find((s) => w.map.cp.slice(s.start, s.end) === f).id; }""",
        fragment,
    )


def stored_relations(document: Any, user: Any) -> list[tuple[str, str, str, str]]:
    annotation = own_annotation(document, user)
    if annotation is None:
        return []
    return [
        (
            document.text[r.source.start : r.source.end],
            r.type.name,
            document.text[r.target.start : r.target.end],
            r.client_id,
        )
        for r in Relation.objects.filter(annotation=annotation).select_related(
            "source", "target", "type"
        )
    ]


def test_dragging_the_selected_span_onto_another_makes_the_one_fitting_relation_and_undo_removes_it(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE], scheme=strict_scheme())
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user, viewport={"width": 1280, "height": 720})
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    label(page, CLAIM, "1")
    label(page, JUSTIFICATION, "2")  # labelled, so selected: the drag starts on it
    settled(page)
    claim = span_id(page, CLAIM)

    press_and_drag(page, JUSTIFICATION, point(page, CLAIM, 0.6))
    drag = page.evaluate("() => window.workspace.drag")
    assert (drag["to"], drag["state"], drag["label"]) == (claim, "ok", "supports")
    assert page.locator(".ws-drag.ok .ws-drag-line").count() == 1
    assert page.locator(".ws-drag-label").text_content() == "supports"
    assert page.evaluate("() => [...CSS.highlights.get('ws-target')][0].toString()") == CLAIM
    assert page.evaluate("() => getSelection().toString()") == "", "no text selection"
    screenshot(page, "workspace-drag-mid")
    page.mouse.up()

    settled(page)
    relation_id = page.evaluate("() => window.workspace.selectedRelation")
    assert stored_relations(doc, user) == [(JUSTIFICATION, "supports", CLAIM, relation_id)]
    assert page.locator(".ws-drag").count() == 0
    assert page.locator(".ws-arc").count() == 1
    assert page.inner_text("#ws-rel-count") == "1"
    screenshot(page, "workspace-drag-after")

    page.keyboard.press("Control+z")
    settled(page)
    assert stored_relations(doc, user) == []
    assert page.inner_text("#ws-rel-count") == "0"
    page.keyboard.press("Control+Shift+Z")
    settled(page)
    assert stored_relations(doc, user) == [(JUSTIFICATION, "supports", CLAIM, relation_id)]
    assert page.errors == []


def test_a_drop_the_scheme_does_not_allow_says_why_and_makes_nothing(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE], scheme=strict_scheme())
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user, viewport={"width": 1280, "height": 720})
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    label(page, JUSTIFICATION, "2")
    label(page, CLAIM, "1")  # a claim may neither support nor attack
    settled(page)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/relations/" in r.url else None)

    press_and_drag(page, CLAIM, point(page, JUSTIFICATION))
    drag = page.evaluate("() => window.workspace.drag")
    assert (drag["state"], drag["label"]) == ("bad", "not allowed")
    assert page.locator(".ws-drag.bad").count() == 1
    screenshot(page, "workspace-drag-refused")
    page.mouse.up()

    message = (
        "A “supports” relation cannot start at a Claim (allowed: Justification). "
        "A “attacks” relation cannot start at a Claim (allowed: Critique)."
    )
    assert page.inner_text("#ws-note") == message
    page.wait_for_function(
        "(m) => document.getElementById('ws-alert').textContent === m", arg=message
    )
    screenshot(page, "workspace-drag-refused-message")
    settled(page)
    assert page.evaluate("() => window.workspace.local.relations.size") == 0
    assert stored_relations(doc, user) == []
    assert sent == []
    assert own_annotation(doc, user).version == 2  # the two spans, nothing more
    assert page.errors == []


def test_no_span_the_same_span_or_esc_links_nothing_and_clicks_and_selections_still_work(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE], scheme=strict_scheme())
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user, viewport={"width": 1280, "height": 720})
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    label(page, CLAIM, "1")
    label(page, JUSTIFICATION, "2")
    justification = span_id(page, JUSTIFICATION)

    # released on plain text, on the source itself, and Esc before the release
    for target in (point(page, "Amnesty International", 0.5), point(page, JUSTIFICATION, 0.8)):
        press_and_drag(page, JUSTIFICATION, target)
        page.mouse.up()
        assert page.evaluate("() => window.workspace.drag") is None
    press_and_drag(page, JUSTIFICATION, point(page, CLAIM))
    page.keyboard.press("Escape")
    assert page.evaluate("() => window.workspace.drag") is None
    assert page.locator(".ws-drag").count() == 0
    page.mouse.up()
    assert page.evaluate("() => window.workspace.local.relations.size") == 0

    # a click on the selected span keeps it selected; a click elsewhere deselects
    page.mouse.click(*point(page, JUSTIFICATION, 0.4))
    assert page.evaluate("() => window.workspace.selected") == justification
    # a drag from plain text across spans selects text, as ever
    start = ARTICLE.index("said the decision")
    drag_select(page, start, start + len("said the decision was a grave"))
    assert page.evaluate("() => getSelection().toString()") == "said the decision was a grave"
    page.keyboard.press("Escape")
    # with Alt, a press on the selected span selects text inside it
    page.mouse.click(*point(page, JUSTIFICATION, 0.4))
    x, y = point(page, JUSTIFICATION, 0.05)
    page.keyboard.down("Alt")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(*point(page, JUSTIFICATION, 0.3), steps=4)
    page.mouse.up()
    page.keyboard.up("Alt")
    selected = page.evaluate("() => getSelection().toString()")
    assert len(selected) > 3 and selected in JUSTIFICATION, selected
    settled(page)
    assert stored_relations(doc, user) == []
    assert page.errors == []


def test_when_several_types_fit_a_menu_at_the_drop_point_asks_by_key_or_arrows(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])  # the demo scheme: supports and attacks link any labels
    doc, user = setup.documents[0], setup.annotator
    context = signed_in(browser, live_server, user, viewport={"width": 1280, "height": 720})
    page = open_workspace(context, workspace_url(live_server, setup.project, doc))
    label(page, CLAIM, "1")
    label(page, JUSTIFICATION, "2")
    settled(page)

    # Esc in the menu: nothing, and the keys go back to the text
    press_and_drag(page, JUSTIFICATION, point(page, CLAIM))
    page.mouse.up()
    menu = page.get_by_role("menu")
    assert menu.get_attribute("aria-label").startswith("Relation type from Justification")
    items = menu.get_by_role("menuitem")
    assert items.all_inner_texts() == ["→ supports\n+", "→ attacks\n-"]
    assert page.evaluate("() => document.activeElement.dataset.type") == "supports"
    screenshot(page, "workspace-drag-chooser")
    page.keyboard.press("Escape")
    assert menu.count() == 0
    assert page.evaluate("() => document.activeElement.id") == "ws-text"
    assert page.evaluate("() => window.workspace.local.relations.size") == 0

    # the arrows and Enter pick attacks
    page.mouse.click(*point(page, JUSTIFICATION, 0.4))
    press_and_drag(page, JUSTIFICATION, point(page, CLAIM))
    page.mouse.up()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    settled(page)
    assert [r[:3] for r in stored_relations(doc, user)] == [(JUSTIFICATION, "attacks", CLAIM)]
    # now only supports is left for this pair: made at once, no menu
    press_and_drag(page, JUSTIFICATION, point(page, CLAIM))
    page.mouse.up()
    assert menu.count() == 0
    settled(page)
    assert sorted(r[1] for r in stored_relations(doc, user)) == ["attacks", "supports"]
    # the other way round, a type's own key picks in the menu
    page.mouse.click(*point(page, CLAIM, 0.4))
    press_and_drag(page, CLAIM, point(page, JUSTIFICATION))
    page.mouse.up()
    page.keyboard.press("+")
    settled(page)
    assert (CLAIM, "supports", JUSTIFICATION) in [r[:3] for r in stored_relations(doc, user)]
    page.keyboard.press("Control+z")
    settled(page)
    assert len(stored_relations(doc, user)) == 2
    assert page.errors == []
