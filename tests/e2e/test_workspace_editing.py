"""Attributes, relations and the document stance in the workspace, each undone and redone,
then a reload: the database follows every step, and the page shows it all again."""

from __future__ import annotations

from typing import Any

import pytest

from projects.models import Relation, Stance
from tests.factories import demo_scheme

from .conftest import SHOTS
from .workspace_helpers import (
    ARTICLE,
    highlighted_texts,
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

CLAIM = "The United States has decided not to sponsor a resolution critical of China"
JUSTIFICATION = "Officials link the decision to positive human rights moves by China"
CRITIQUE = "Amnesty International said the decision was a grave mistake"


def state(document: Any, user: Any) -> tuple[Any, ...]:
    """Everything the annotation holds, as plain values."""
    annotation = own_annotation(document, user)
    if annotation is None:
        return ((), (), ())
    spans = tuple((s[3], s[2], tuple(sorted(s[4].items()))) for s in stored_spans(document, user))
    relations = tuple(
        sorted(
            (
                document.text[r.source.start : r.source.end],
                r.type.name,
                document.text[r.target.start : r.target.end],
            )
            for r in Relation.objects.filter(annotation=annotation).select_related(
                "source", "target", "type"
            )
        )
    )
    stances = tuple(Stance.objects.filter(annotation=annotation).values_list("value", flat=True))
    return spans, relations, stances


label = label_fragment


def click_text(page: Any, text: str, fragment: str) -> None:
    start = text.index(fragment)
    box = page.evaluate(
        "([s, e]) => { const r = window.workspace.map.range(s, e).getClientRects()[0];"
        " return [r.left + r.width / 2, r.top + r.height / 2]; }",
        [start, start + len(fragment)],
    )
    page.mouse.click(*box)


def span_id(page: Any, fragment: str) -> str:
    return page.evaluate(
        """(f) => { const w = window.workspace;
            return [...w.local.spans.values()]
                .find((s) => w.map.cp.slice(s.start, s.end) === f).id; }""",
        fragment,
    )


def test_source_stance_relations_and_document_stance_undo_redo_and_survive_a_reload(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    page = open_workspace(
        signed_in(browser, live_server, user), workspace_url(live_server, setup.project, doc)
    )
    snapshots = [state(doc, user)]

    def step() -> None:
        settled(page)
        snapshots.append(state(doc, user))
        assert snapshots[-1] != snapshots[-2], "each step changes the annotation"

    label(page, ARTICLE, CLAIM, "1")
    step()
    # source: "s" focuses the field; typing filters the scheme's suggestions, Enter takes one
    page.keyboard.press("s")
    page.keyboard.type("US off")
    assert page.inner_text("#ws-attr-source-list li.active") == "US officials"
    page.screenshot(path=str(SHOTS / "workspace-source.png"))
    page.keyboard.press("Enter")
    step()
    assert snapshots[-1][0][0][2] == (("source", "US officials"),)
    # stance: "t" focuses the values, a number picks one
    page.keyboard.press("t")
    page.keyboard.press("1")
    step()
    assert dict(snapshots[-1][0][0][2])["stance"] == "favor"

    label(page, ARTICLE, JUSTIFICATION, "2")
    step()
    # supports: the relation key, then Tab to the claim, Enter
    claim = span_id(page, CLAIM)
    page.keyboard.press("+")
    for _ in range(5):
        if (
            page.evaluate(
                "() => { const l = window.workspace.linking; return l.candidates[l.index]; }"
            )
            == claim
        ):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    step()
    assert snapshots[-1][1] == ((JUSTIFICATION, "supports", CLAIM),)

    label(page, ARTICLE, CRITIQUE, "3")
    step()
    # attacks: the relation key, then the hint letter drawn beside the claim
    page.keyboard.press("-")
    hint = page.evaluate(
        "(id) => [...window.workspace.linking.hints].find(([, s]) => s === id)[0]", claim
    )
    assert page.locator(".ws-hint text", has_text=hint).count() == 1
    page.keyboard.press(hint)
    step()
    assert (CRITIQUE, "attacks", CLAIM) in snapshots[-1][1]

    # the document stance: "d" focuses its values, a number picks one
    page.keyboard.press("d")
    page.keyboard.press("3")
    step()
    assert snapshots[-1][2] == ("neutral",)
    assert page.locator('#ws-doc-body [aria-pressed="true"]').inner_text().endswith("neutral")

    # undo every step, newest first, then redo them all
    for expected in reversed(snapshots[:-1]):
        page.keyboard.press("Control+z")
        settled(page)
        assert state(doc, user) == expected
    for expected in snapshots[1:]:
        page.keyboard.press("Control+Shift+Z")
        settled(page)
        assert state(doc, user) == expected

    # a reload shows everything again, from the server
    page.reload()
    page.wait_for_selector('#ws[data-ready="true"]')
    assert page.inner_text("#ws-span-count") == "3"
    assert page.inner_text("#ws-rel-count") == "2"
    assert page.locator('#ws-doc-body [aria-pressed="true"]').inner_text().endswith("neutral")
    assert sorted(highlighted_texts(page)) == sorted([CLAIM, JUSTIFICATION, CRITIQUE])
    page.locator("#ws-span-list button", has_text="The United States").click()
    assert page.input_value("#ws-attr-source") == "US officials"
    assert page.locator("#ws-card .ws-arc, .ws-arc").count() == 2
    assert page.errors == []


def test_deleting_a_span_takes_its_relations_and_undo_brings_all_back(
    live_server: Any, browser: Any
) -> None:
    setup = make_setup([ARTICLE])
    doc, user = setup.documents[0], setup.annotator
    page = open_workspace(
        signed_in(browser, live_server, user), workspace_url(live_server, setup.project, doc)
    )
    label(page, ARTICLE, CLAIM, "1")
    label(page, ARTICLE, JUSTIFICATION, "2")
    # with the mouse: the card's link button, then a click on the target span
    page.get_by_role("button", name="Link: supports").click()
    click_text(page, ARTICLE, "resolution critical")
    settled(page)
    before = state(doc, user)
    assert len(before[1]) == 1
    page.locator("#ws-span-list button", has_text="The United States").click()
    page.keyboard.press("Delete")
    settled(page)
    assert state(doc, user)[1] == ()
    assert len(state(doc, user)[0]) == 1
    page.keyboard.press("Control+z")
    settled(page)
    assert state(doc, user) == before
    assert page.errors == []


def test_attributes_named_with_spaces_get_ids_their_labels_and_lists_can_point_to(
    live_server: Any, browser: Any
) -> None:
    scheme = demo_scheme()
    scheme["span_attributes"] = [
        {"name": "source type", "kind": "choice", "values": ["official", "expert"]},
        {"name": "quoted by", "kind": "entity", "suggestions": ["Amnesty International"]},
    ]
    setup = make_setup([ARTICLE], scheme=scheme)
    doc, user = setup.documents[0], setup.annotator
    page = open_workspace(
        signed_in(browser, live_server, user), workspace_url(live_server, setup.project, doc)
    )
    label(page, ARTICLE, CLAIM, "1")
    # every id the card's ARIA and <label for> name exists, and none holds a space
    missing = page.evaluate(
        """() => [...document.querySelectorAll(
                '#ws-card [aria-labelledby], #ws-card [aria-controls], #ws-doc [aria-labelledby]')]
            .flatMap((el) => ['aria-labelledby', 'aria-controls']
                .flatMap((a) => (el.getAttribute(a) || '').split(/\\s+/).filter(Boolean)))
            .concat([...document.querySelectorAll('#ws-card label[for]')].map((l) => l.htmlFor))
            .filter((id) => !document.getElementById(id) || /\\s/.test(id))"""
    )
    assert missing == []
    group = page.get_by_role("group", name="source type")
    assert group.count() == 1
    # the keys reach both controls: "s" the values (a number picks), "q" the text field
    page.keyboard.press("s")
    page.keyboard.press("2")
    settled(page)
    assert stored_spans(doc, user)[0][4] == {"source type": "expert"}
    assert group.get_by_role("button", name="expert").get_attribute("aria-pressed") == "true"
    page.keyboard.press("q")
    combobox = page.get_by_role("combobox", name="quoted by")
    assert combobox.evaluate("(el) => el === document.activeElement")
    page.keyboard.type("Amnesty")
    page.keyboard.press("Enter")
    settled(page)
    assert stored_spans(doc, user)[0][4] == {
        "source type": "expert",
        "quoted by": "Amnesty International",
    }
    assert page.errors == []
