"""Audit events as sentences: each action of the services reads as what happened, and odd or
old data gives a shorter sentence, never an error."""

from __future__ import annotations

from typing import Any

import pytest

from projects.domain.audit import Names, describe, referenced_ids

NAMES = Names(targets={"7": "The US decision"}, users={"3": "ann1"})


@pytest.mark.parametrize(
    ("action", "object_id", "data", "expected"),
    [
        (
            "span.create",
            "s1",
            {"start": 171, "end": 297, "label": "Claim"},
            "span Claim [171, 297) created",
        ),
        ("span.update", "s1", {"label": "Critique"}, "span s1 relabelled Critique"),
        ("span.update", "s1", {"start": 3, "end": 9}, "span s1 moved to [3, 9)"),
        ("span.update", "s1", {"end": 9}, "span s1 end set to 9"),
        (
            "span.update",
            "s1",
            {"attributes": {"source": "Amnesty", "stance": "against"}},
            "span s1 attributes set to source=Amnesty, stance=against",
        ),
        ("span.update", "s1", {"attributes": {}}, "span s1 attributes cleared"),
        ("span.delete", "s1", {"start": 3, "end": 9}, "span s1 [3, 9) deleted"),
        (
            "relation.create",
            "r1",
            {"from": "s2", "to": "s1", "type": "supports"},
            "relation supports s2 → s1 created",
        ),
        ("relation.delete", "r1", {}, "relation r1 deleted"),
        ("stance.set", "7", {"value": "against"}, "stance on The US decision set to against"),
        ("stance.delete", "8", {}, "stance on target 8 cleared"),
        ("annotation.submit", "12", {}, "annotation submitted"),
        ("annotation.skip", "12", {"reason": "off topic"}, "document skipped: off topic"),
        (
            "annotation.delete",
            "12",
            {"annotator": "ann1", "spans": 2},
            "the annotation of ann1 deleted (2 spans hidden)",
        ),
        (
            "annotation.delete",
            "13",
            {"annotator": None, "gold": True, "spans": 1},
            "the gold annotation deleted (1 span hidden)",
        ),
        ("annotation.restore", "12", {"annotator": "ann1"}, "the annotation of ann1 restored"),
        (
            "document.delete",
            "4",
            {"annotations": 3, "annotators": ["ann1", "ann2", "gold"]},
            "document deleted with 3 annotations (ann1, ann2, gold)",
        ),
        ("document.delete", "4", {"annotations": 0, "annotators": []}, "document deleted"),
        ("document.restore", "4", {"annotations": 1}, "document restored with 1 annotation"),
        ("assignment.create", "9", {"annotator_id": 3}, "assigned to ann1"),
        ("assignment.delete", "9", {"annotator_id": 4}, "unassigned user 4"),
        (
            "gold.merge",
            "5",
            {"policy": "majority", "spans": 4},
            "gold merged from the submitted work (majority, 4 spans)",
        ),
        (
            "gold.accept",
            "5",
            {"candidate": [0, 9, "Claim"], "edited": True},
            "gold: accepted Claim [0, 9) (edited)",
        ),
        ("gold.reject", "5", {"candidate": [0, 9, "Claim"]}, "gold: rejected Claim [0, 9)"),
        (
            "gold.undo",
            "5",
            {"decision": "reject", "candidate": [0, 9, "Claim"]},
            "gold: undid the rejection of Claim [0, 9)",
        ),
        ("gold.submit", "5", {}, "gold submitted"),
    ],
)
def test_each_action_reads_as_a_sentence(
    action: str, object_id: str, data: dict[str, Any], expected: str
) -> None:
    assert describe(action, action.split(".")[0], object_id, data, NAMES) == expected


@pytest.mark.parametrize(
    "data", [None, [], "text", {"start": "x", "end": None, "label": 5}, {"annotators": "ann1"}]
)
def test_odd_data_gives_a_shorter_sentence_not_an_error(data: Any) -> None:
    for action in ("span.create", "span.delete", "document.delete", "gold.accept", "stance.set"):
        assert isinstance(describe(action, "x", "1", data), str)
    assert describe("span.create", "span", "s1", data).startswith("span")


def test_an_unknown_action_shows_its_name_and_object() -> None:
    assert describe("scheme.update", "project", "2", {}) == "scheme.update project 2"


def test_referenced_ids_name_what_describe_looks_up() -> None:
    assert referenced_ids("stance.set", "7", {}) == ("7", "")
    assert referenced_ids("assignment.create", "9", {"annotator_id": 3}) == ("", "3")
    assert referenced_ids("span.create", "s1", {"annotator_id": 3}) == ("", "")
