"""Label Studio import: its JSON and JSON-MIN exports of a text span-labelling project."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from projects.domain.problems import Problem
from projects.domain.scheme import SchemeSpec, parse_scheme
from projects.domain.text import codepoint_to_utf16

from .conftest import LS_JSON, LS_MIN, as_json, failure, ls_tasks, parse

TARGET = "The US decision not to sponsor a UN resolution critical of China"


def test_the_json_export_brings_regions_relations_attributes_and_the_stance(
    scheme: SchemeSpec,
) -> None:
    notes: list[Problem] = []
    cars, homework = parse(LS_JSON.name, LS_JSON.read_bytes(), scheme=scheme, notes=notes)
    # The tasks were imported into Label Studio with their own ids, which win over task ids.
    assert (cars.external_id, homework.external_id) == ("cars-1", "homework-1")
    assert cars.meta == {"outlet": "Gazette"}
    alice, seven = cars.annotations
    assert (alice.annotator, seven.annotator) == ("alice@example.org", "7")
    assert [(s.id, s.label, s.text) for s in alice.spans] == [
        ("r-claim", "Claim", "Cities should ban cars 🚗 from their centres"),
        ("r-just", "Justification", "Air quality improves within weeks"),
        ("r-crit", "Critique", "但是 shops in the centre may lose customers"),
    ]
    # "right" points from from_id to to_id; "left" the other way.
    assert [(r.source, r.target, r.type) for r in alice.relations] == [
        ("r-just", "r-claim", "supports"),
        ("r-crit", "r-claim", "attacks"),
    ]
    # Per-region answers named like the scheme's attributes; "Favor" is the scheme's "favor".
    assert dict(alice.spans[0].attributes) == {"stance": "favor", "source": "city council"}
    # The whole-text choice named "stance", and the scheme has one stance target.
    assert [(s.target, s.value) for s in alice.stances] == [(TARGET, "neutral")]
    # An annotation submitted with no regions is an annotator's judgement: kept.
    [empty] = homework.annotations
    assert (empty.annotator, empty.spans) == ("alice@example.org", ())
    assert sorted(n.message for n in notes) == [
        "1 'rating' results were not imported",
        "1 annotation(s) the annotator cancelled (skipped) were not imported",
        "1 prediction(s) (model output) were not imported",
    ]


def test_json_min_rows_of_one_task_become_one_document(scheme: SchemeSpec) -> None:
    notes: list[Problem] = []
    cars, homework = parse(LS_MIN.name, LS_MIN.read_bytes(), scheme=scheme, notes=notes)
    # JSON-MIN overwrites the data's own id with the task id.
    assert (cars.external_id, homework.external_id) == ("101", "102")
    assert [(a.annotator, len(a.spans)) for a in cars.annotations] == [
        ("alice@example.org", 3),
        ("7", 1),
    ]
    assert cars.annotations[0].spans[0].text == ("Cities should ban cars 🚗 from their centres")
    assert cars.annotations[0].relations == ()  # JSON-MIN has none
    messages = " | ".join(n.message for n in notes)
    assert "'quality' answers" in messages and "'stance' answer lists" in messages


def test_offsets_in_utf16_units_from_an_older_label_studio_are_converted(
    scheme: SchemeSpec,
) -> None:
    tasks = ls_tasks()
    text = tasks[0]["data"]["text"]
    for result in tasks[0]["annotations"][0]["result"]:
        if result["type"] == "labels":
            value = result["value"]
            value["start"] = codepoint_to_utf16(text, value["start"])
            value["end"] = codepoint_to_utf16(text, value["end"])
    notes: list[Problem] = []
    cars, _ = parse("old.json", as_json(tasks), scheme=scheme, notes=notes)
    assert [s.text for s in cars.annotations[0].spans] == [
        "Cities should ban cars 🚗 from their centres",
        "Air quality improves within weeks",
        "但是 shops in the centre may lose customers",
    ]
    [converted] = [n for n in notes if n.code == "converted"]
    assert "3 region(s)" in converted.message


def test_a_quote_that_matches_neither_reading_is_refused_where_it_is(scheme: SchemeSpec) -> None:
    tasks = ls_tasks()
    tasks[0]["annotations"][0]["result"][1]["value"]["text"] = "Water quality"
    [found] = failure("bad.json", as_json(tasks), scheme=scheme)
    assert (found.code, found.field) == ("mismatch", "[0].annotations[0].result[1].value.text")
    assert "'Water quality'" in found.message and "'Air quality improves" in found.message


def test_a_quote_that_differs_only_in_whitespace_is_accepted(scheme: SchemeSpec) -> None:
    tasks = ls_tasks()
    text = "Line one\nline two."
    tasks[1]["data"]["text"] = text
    tasks[1]["annotations"][0]["result"] = [
        {
            "value": {"start": 0, "end": 13, "text": "Line one line", "labels": ["Claim"]},
            "id": "w",
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
        }
    ]
    _, homework = parse("ws.json", as_json(tasks), scheme=scheme)
    assert homework.annotations[0].spans[0].text == "Line one\nline"


def result_problems(scheme: SchemeSpec, result: list[dict[str, Any]]) -> list[Problem]:
    tasks = ls_tasks()[1:]
    tasks[0]["annotations"][0]["result"] = result
    return failure("r.json", as_json(tasks), scheme=scheme)


def region(rid: str, start: int, end: int, *labels: str) -> dict[str, Any]:
    text = "Homework helps pupils practise. It takes time away from play."[start:end]
    return {
        "value": {"start": start, "end": end, "text": text, "labels": list(labels)},
        "id": rid,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
    }


def test_unknown_labels_several_labels_and_unlabelled_relations_are_refused(
    scheme: SchemeSpec,
) -> None:
    problems = result_problems(
        scheme,
        [
            region("a", 0, 8, "Opinion"),
            region("b", 9, 14, "Claim", "Critique"),
            region("c", 32, 40, "Claim"),
            {"from_id": "c", "to_id": "a", "type": "relation", "direction": "right"},
        ],
    )
    assert {(p.code, p.field) for p in problems} == {
        ("unknown_label", "[0].annotations[0].result[0].value.labels"),
        ("invalid", "[0].annotations[0].result[1].value.labels"),
        ("invalid", "[0].annotations[0].result[3].labels"),
    }


@pytest.mark.parametrize(("directed", "expected"), [(True, 2), (False, 1)])
def test_a_bidirectional_relation_is_two_relations_for_a_directed_type(
    demo_scheme_data: dict[str, Any], directed: bool, expected: int
) -> None:
    data = copy.deepcopy(demo_scheme_data)
    data["relation_types"] = [{"name": "attacks", "directed": directed}]
    scheme = parse_scheme(data)
    tasks = ls_tasks()[1:]
    tasks[0]["annotations"][0]["result"] = [
        region("a", 0, 30, "Claim"),
        region("b", 32, 60, "Critique"),
        {
            "from_id": "a",
            "to_id": "b",
            "type": "relation",
            "direction": "bi",
            "labels": ["attacks"],
        },
    ]
    [document] = parse("bi.json", as_json(tasks), scheme=scheme)
    assert len(document.annotations[0].relations) == expected


def test_completed_by_is_an_email_an_id_or_missing(scheme: SchemeSpec) -> None:
    tasks = ls_tasks()[1:]
    base = tasks[0]["annotations"][0]
    tasks[0]["annotations"] = [
        dict(base, completed_by={"id": 4, "first_name": "", "last_name": "", "email": ""}),
        dict(base, completed_by=12, result=[region("a", 0, 8, "Claim")]),
        dict(base, completed_by=None, result=[region("b", 0, 8, "Claim")]),
    ]
    [found] = failure("who.json", as_json(tasks), scheme=scheme)
    assert (found.code, found.field) == ("no_annotator", "[0].annotations[2]")
    [document] = parse("who.json", as_json(tasks), scheme=scheme, annotator="ann1")
    assert [a.annotator for a in document.annotations] == ["4", "12", "ann1"]


def test_the_text_field_and_legacy_completions_are_found() -> None:
    tasks: list[dict[str, Any]] = [
        {
            "id": 1,
            "data": {"essay": "Short essay.", "grade": 3},
            "completions": [
                {
                    "completed_by": 2,
                    "result": [
                        {
                            "id": "x",
                            "type": "labels",
                            "value": {"start": 0, "end": 5, "text": "Short", "labels": ["Claim"]},
                        }
                    ],
                }
            ],
        },
        {"id": 2, "data": {"a": "one", "b": "two"}, "annotations": []},
    ]
    [found] = failure("t.json", as_json(tasks))
    assert found.field == "[1].data" and "'a', 'b'" in found.message
    [document] = parse("t.json", as_json(tasks[:1]))
    assert (document.external_id, document.meta) == ("1", {"grade": 3})
    assert document.annotations[0].spans[0].text == "Short"


def test_choices_about_nothing_in_the_scheme_are_left_out_with_a_note(scheme: SchemeSpec) -> None:
    tasks = ls_tasks()[1:]
    tasks[0]["annotations"][0]["result"] = [
        {
            "value": {"choices": ["Positive"]},
            "id": "s",
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
        }
    ]
    notes: list[Problem] = []
    [document] = parse("c.json", as_json(tasks), scheme=scheme, notes=notes)
    assert document.annotations[0].stances == ()
    assert [n.message for n in notes] == [
        "1 choices 'sentiment' (not a stance target) were not imported"
    ]


def test_regions_of_html_or_paragraphs_are_refused_rather_than_dropped(scheme: SchemeSpec) -> None:
    problems = result_problems(
        scheme,
        [
            {
                "value": {
                    "start": "/p[1]/text()[1]",
                    "end": "/p[1]/text()[1]",
                    "startOffset": 0,
                    "endOffset": 8,
                    "globalOffsets": {"start": 0, "end": 8},
                    "text": "Homework",
                    "hypertextlabels": ["Claim"],
                },
                "id": "h",
                "from_name": "label",
                "to_name": "html",
                "type": "hypertextlabels",
            }
        ],
    )
    assert [(p.code, p.field) for p in problems] == [
        ("unsupported", "[0].annotations[0].result[0].type")
    ]
