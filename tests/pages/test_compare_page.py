"""The side-by-side comparison page: who may open it, how spans are aligned and classed,
relations and stances compared, the choice of annotators, a fixed query count, escaping."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from projects.models import Document, Label
from projects.services import documents as document_services

from ..factories import add_member, demo_scheme, make_user

TEXT = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu. Omicron pi rho."
TARGET = demo_scheme()["stance_targets"][0]


def _span(sid: str, fragment: str, label: str, *, skip: int = 0) -> dict[str, Any]:
    start = TEXT.index(fragment) + skip
    return {"id": sid, "start": start, "end": TEXT.index(fragment) + len(fragment), "label": label}


def _import(world: Any, annotations: list[dict[str, Any]], text: str = TEXT) -> Document:
    line = {"id": f"cmp-{len(annotations)}-{len(text)}", "title": "Compared", "text": text}
    line["annotations"] = annotations
    result = document_services.documents_import(
        project=world.project,
        filename="compare.jsonl",
        data=json.dumps(line).encode(),
        actor_id=world.lead.pk,
    )
    return Document.objects.get(pk=result.document_ids[0])


def _ann(user: Any, spans: list[Any], relations=(), stances=(), **extra: Any) -> dict[str, Any]:
    return {
        "annotator": user.username if user else None,
        "status": "submitted",
        "spans": spans,
        "relations": list(relations),
        "stances": list(stances),
        **extra,
    }


@pytest.fixture
def crafted(world: Any) -> Document:
    """ann1 vs ann2: one exact agreement, one boundary difference, one label difference, one
    boundary + label difference, one span only ann1 has; relations and stances to compare."""
    ann1 = _ann(
        world.annotator,
        [
            _span("a1", "Alpha beta gamma", "Claim"),
            _span("a2", "Delta epsilon zeta", "Justification"),
            _span("a3", "Eta theta iota", "Claim"),
            _span("a4", "Kappa lambda mu", "Claim"),
            _span("a5", "Omicron pi rho", "Claim"),
        ],
        relations=[
            {"id": "r1", "from": "a2", "to": "a1", "type": "supports"},
            {"id": "r2", "from": "a3", "to": "a1", "type": "attacks"},
        ],
        stances=[{"target": TARGET, "value": "favor"}],
    )
    ann2 = _ann(
        world.annotator2,
        [
            _span("b1", "Alpha beta gamma", "Claim"),
            _span("b2", "Delta epsilon zeta", "Justification", skip=6),
            _span("b3", "Eta theta iota", "Critique"),
            _span("b5", "Omicron pi rho", "Critique", skip=8),
        ],
        relations=[
            {"id": "s1", "from": "b2", "to": "b1", "type": "supports"},
            {"id": "s2", "from": "b3", "to": "b1", "type": "supports"},
        ],
        stances=[{"target": TARGET, "value": "against"}],
    )
    return _import(world, [ann1, ann2])


def _url(world: Any, document: Any, query: str = "") -> str:
    return f"/p/{world.project.slug}/d/{document.pk}/compare/{query}"


def _row_classes(html: str) -> list[str]:
    table = html.split('id="spans-h"')[1].split("</table>")[0]
    return re.findall(r'<tr class="cmp-row cmp-([a-z]+)">', table)


def test_an_outsider_gets_404(client: Any, world: Any, crafted: Any) -> None:
    client.force_login(world.outsider)
    assert client.get(_url(world, crafted)).status_code == 404


@pytest.mark.parametrize("persona", ["annotator", "consumer"])
def test_annotators_and_consumers_get_403_even_without_blind_mode(
    client: Any, world: Any, crafted: Any, persona: str
) -> None:
    world.project.blind = False
    world.project.save(update_fields=["blind"])
    client.force_login(world.persona(persona))
    assert client.get(_url(world, crafted)).status_code == 403


@pytest.mark.parametrize("persona", ["lead", "reviewer"])
def test_leads_and_reviewers_open_the_page(
    client: Any, world: Any, crafted: Any, persona: str
) -> None:
    client.force_login(world.persona(persona))
    response = client.get(_url(world, crafted))
    assert response.status_code == 200
    assert response.context["names"] == ["ann1", "ann2"]


def test_a_document_of_another_project_is_not_found(client: Any, world: Any) -> None:
    client.force_login(world.lead)
    assert client.get(_url(world, world.other_documents[0])).status_code == 404


def test_each_difference_is_marked_with_its_own_class_and_badge(
    client: Any, world: Any, crafted: Any
) -> None:
    client.force_login(world.lead)
    html = client.get(_url(world, crafted)).content.decode()
    assert _row_classes(html) == ["agree", "boundary", "label", "missing", "boundarylabel"]
    for badge in ("✓ agree", "↔ boundary", "≠ label", "∅ missing", "↔≠ boundary + label"):
        assert badge in html, badge
    # the other annotator's own text is shown where its extent differs
    assert "“epsilon zeta”" in html


def test_the_summary_counts_each_class(client: Any, world: Any, crafted: Any) -> None:
    client.force_login(world.lead)
    response = client.get(_url(world, crafted))
    counts = {item["cls"]: item["n"] for item in response.context["summary"]}
    assert counts == {"agree": 1, "boundary": 1, "label": 1, "boundary+label": 1, "missing": 1}
    assert "5 comparisons with ann1" in response.content.decode()


def test_a_span_only_the_other_annotator_has_is_its_own_missing_row(
    client: Any, world: Any, crafted: Any
) -> None:
    client.force_login(world.lead)
    response = client.get(_url(world, crafted, "?with=ann2&with=ann1"))
    rows = response.context["rows"]
    kappa = [r for r in rows if r["text"] == "Kappa lambda mu"]
    assert len(kappa) == 1 and kappa[0]["cls"] == "missing"
    assert kappa[0]["cells"][0]["span"] is None and kappa[0]["cells"][0]["cls"] == "missing"


def test_relations_are_compared_through_the_alignment(
    client: Any, world: Any, crafted: Any
) -> None:
    client.force_login(world.lead)
    response = client.get(_url(world, crafted))
    got = {
        (r["type"], r["source"], r["target"]): r["has"] for r in response.context["relation_rows"]
    }
    # ann2's supports has a shorter source span, aligned to ann1's: the same relation
    assert got == {
        ("supports", "Delta epsilon zeta", "Alpha beta gamma"): [True, True],
        ("attacks", "Eta theta iota", "Alpha beta gamma"): [True, False],
        ("supports", "Eta theta iota", "Alpha beta gamma"): [False, True],
    }
    assert "1 of 3 relations drawn by everyone" in response.content.decode()


def test_document_stances_are_compared_per_target(client: Any, world: Any, crafted: Any) -> None:
    client.force_login(world.lead)
    response = client.get(_url(world, crafted))
    [row] = response.context["stance_rows"]
    assert row == {"target": TARGET, "values": ["favor", "against"], "cls": "disagree"}
    assert "≠ disagree" in response.content.decode()


def test_with_chooses_the_annotators_and_the_first_is_the_reference(
    client: Any, world: Any
) -> None:
    third = make_user("ann3")
    add_member(world.project, third, "annotator")
    spans = [_span("x", "Alpha beta gamma", "Claim")]
    document = _import(
        world,
        [
            _ann(world.annotator, spans),
            _ann(world.annotator2, [_span("y", "Delta epsilon zeta", "Claim")]),
            _ann(third, [_span("z", "Delta epsilon zeta", "Claim", skip=6)]),
            _ann(None, spans, gold=True),
        ],
    )
    client.force_login(world.lead)
    everyone = client.get(_url(world, document)).context
    assert everyone["names"] == ["ann1", "ann2", "ann3", "Gold"]
    first, second = everyone["rows"]
    assert [c["cls"] for c in first["cells"]] == [None, "missing", "missing", "agree"]
    # ann2's and ann3's spans the reference lacks share one row; Gold has nothing to compare
    assert [c["cls"] for c in second["cells"]] == ["missing", "missing", "missing", None]
    assert second["cells"][2]["text"] == "epsilon zeta"

    chosen = client.get(_url(world, document, "?with=Gold&with=ann3&with=nobody"))
    assert chosen.context["names"] == ["Gold", "ann3"]
    html = chosen.content.decode()
    assert "<strong>nobody</strong>" in html
    header = html.split('id="spans-h"')[1].split("</thead>")[0]
    assert "Gold" in header and "ann3" in header and "ann1" not in header


def test_one_annotator_alone_is_not_a_comparison(client: Any, world: Any, crafted: Any) -> None:
    client.force_login(world.lead)
    response = client.get(_url(world, crafted, "?with=ann1"))
    assert response.status_code == 200
    assert "at least one other annotator" in response.content.decode()
    assert "rows" not in response.context


@pytest.mark.parametrize("size", [2, 40])
def test_the_query_count_does_not_grow_with_spans(
    client: Any, world: Any, size: int, django_assert_max_num_queries: Any
) -> None:
    words = [f"w{i:03d}" for i in range(size)]
    text = " ".join(words)

    def spans(prefix: str, label: str) -> list[dict[str, Any]]:
        out = []
        for i, word in enumerate(words):
            start = text.index(word)
            out.append({"id": f"{prefix}{i}", "start": start, "end": start + 4, "label": label})
        return out

    def relations(prefix: str) -> list[dict[str, Any]]:
        return [
            {"id": f"r{prefix}{i}", "from": f"{prefix}{i}", "to": f"{prefix}0", "type": "supports"}
            for i in range(1, size)
        ]

    document = _import(
        world,
        [
            _ann(world.annotator, spans("a", "Claim"), relations("a")),
            _ann(world.annotator2, spans("b", "Critique"), relations("b")),
        ],
        text=text,
    )
    client.force_login(world.lead)
    with django_assert_max_num_queries(9):
        response = client.get(_url(world, document))
    assert len(response.context["rows"]) == size


def test_html_in_a_label_name_and_a_username_is_escaped(
    client: Any, world: Any, crafted: Any
) -> None:
    Label.objects.filter(project=world.project, name="Critique").update(name="<b>Crit</b>")
    world.annotator2.username = "<i>eve</i>"
    world.annotator2.save(update_fields=["username"])
    client.force_login(world.lead)
    html = client.get(_url(world, crafted)).content.decode()
    assert "<b>Crit</b>" not in html and "&lt;b&gt;Crit&lt;/b&gt;" in html
    assert "<i>eve</i>" not in html and "&lt;i&gt;eve&lt;/i&gt;" in html


def test_the_document_page_links_here_for_leads_and_reviewers_only(
    client: Any, world: Any, crafted: Any
) -> None:
    link = _url(world, crafted)
    for persona, shown in (("lead", True), ("reviewer", True), ("annotator", False)):
        client.force_login(world.persona(persona))
        html = client.get(f"/p/{world.project.slug}/d/{crafted.pk}/").content.decode()
        assert (link in html) is shown, persona
