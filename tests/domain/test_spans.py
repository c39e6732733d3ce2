from __future__ import annotations

from typing import Any, cast

import pytest

from projects.domain.scheme import SchemeSpec, parse_scheme
from projects.domain.spans import (
    RelationIn,
    SpanIn,
    StanceIn,
    validate_relations,
    validate_span,
    validate_spans,
    validate_stances,
)

TEXT = "The US will not sponsor it. Critics object strongly."
CLAIM = SpanIn(start=0, end=27, label="Claim", id="a1", text="The US will not sponsor it.")


def bad(value: object) -> Any:
    """Offsets and labels arrive from JSON untyped; the validators must cope with anything."""
    return cast(Any, value)


def test_a_valid_span_has_no_problems(demo_scheme: SchemeSpec) -> None:
    span = SpanIn(0, 6, "Claim", attributes={"stance": "favor", "source": "anyone at all"})
    assert validate_span(TEXT, span, demo_scheme) == []


def test_span_with_negative_start_is_reported() -> None:
    [problem] = validate_span(TEXT, SpanIn(-1, 3, "Claim"), None)
    assert (problem.field, problem.code) == ("span.start", "out_of_range")


def test_span_with_reversed_offsets_is_reported() -> None:
    [problem] = validate_span(TEXT, SpanIn(5, 2, "Claim"), None)
    assert problem.field == "span.end"
    assert "before start" in problem.message


def test_zero_length_span_is_reported() -> None:
    [problem] = validate_span(TEXT, SpanIn(4, 4, "Claim"), None)
    assert problem.field == "span.end"
    assert "empty" in problem.message


def test_span_past_the_end_names_the_text_length() -> None:
    [problem] = validate_span(TEXT, SpanIn(0, 120, "Claim"), None)
    assert problem.code == "out_of_range"
    assert problem.message == f"end 120 is past the end of the text (length {len(TEXT)})"


def test_booleans_and_strings_are_not_offsets() -> None:
    problems = validate_span(TEXT, SpanIn(bad(True), bad("5"), "Claim"), None)
    assert [p.field for p in problems] == ["span.start", "span.end"]


def test_mismatched_text_shows_both_texts_truncated() -> None:
    span = SpanIn(0, 27, "Claim", text="The UK will not sponsor it." + " padding" * 10)
    [problem] = validate_span(TEXT, span, None)
    assert (problem.field, problem.code) == ("span.text", "mismatch")
    assert "'The US will not sponsor it.'" in problem.message
    assert "The UK will not sponsor it. padding" in problem.message
    assert "…" in problem.message
    assert len(problem.message) < 200


def test_unknown_label_lists_the_known_ones(demo_scheme: SchemeSpec) -> None:
    [problem] = validate_span(TEXT, SpanIn(0, 3, "Premise"), demo_scheme)
    assert (problem.field, problem.code) == ("span.label", "unknown_label")
    assert "Claim, Critique, Justification" in problem.message


def test_label_is_not_checked_without_a_scheme() -> None:
    assert validate_span(TEXT, SpanIn(0, 3, "Anything"), None) == []


def test_retired_label_is_refused_for_new_spans() -> None:
    scheme = parse_scheme({"name": "S", "span_labels": [{"name": "Old", "retired": True}]})
    [problem] = validate_span(TEXT, SpanIn(0, 3, "Old"), scheme)
    assert "retired" in problem.message


def test_attribute_problems_name_the_attribute(demo_scheme: SchemeSpec) -> None:
    span = SpanIn(0, 3, "Claim", attributes={"stance": "maybe", "colour": "red"})
    problems = validate_span(TEXT, span, demo_scheme, field="spans[0]")
    assert [(p.field, p.code) for p in problems] == [
        ("spans[0].attributes.stance", "unknown_value"),
        ("spans[0].attributes.colour", "unknown_attribute"),
    ]
    assert "favor, against, neutral" in problems[0].message


def test_attribute_values_must_be_strings() -> None:
    span = SpanIn(0, 3, "Claim", attributes=bad({"stance": 3}))
    [problem] = validate_span(TEXT, span, None)
    assert problem.field == "span.attributes.stance"


def test_every_span_problem_is_reported_in_one_call(demo_scheme: SchemeSpec) -> None:
    spans = [
        SpanIn(-2, 3, "Claim"),
        SpanIn(9, 4, "Claim"),
        SpanIn(6, 6, "Claim"),
        SpanIn(10, 999, "Claim"),
        SpanIn(0, 3, "Premise"),
        SpanIn(0, 3, "Claim", attributes={"stance": "sideways"}),
        SpanIn(0, 3, "Claim", text="Thx"),
        SpanIn(bad(False), 3, "Claim"),
        SpanIn(0, 3, "Claim", id="x"),
        SpanIn(4, 6, "Claim", id="x"),
    ]
    problems = validate_spans(TEXT, spans, demo_scheme)
    assert [p.field for p in problems] == [
        "spans[0].start",
        "spans[1].end",
        "spans[2].end",
        "spans[3].end",
        "spans[4].label",
        "spans[5].attributes.stance",
        "spans[6].text",
        "spans[7].start",
        "spans[9].id",
    ]
    assert problems[-1].code == "duplicate"
    assert "spans[8]" in problems[-1].message


def test_span_attributes_are_a_read_only_copy() -> None:
    source = {"stance": "favor"}
    span = SpanIn(0, 3, "Claim", attributes=source)
    source["stance"] = "against"
    assert span.attributes["stance"] == "favor"
    with pytest.raises(TypeError):
        span.attributes["stance"] = "against"  # type: ignore[index]
    assert hash(span) == hash(SpanIn(0, 3, "Claim", attributes={"stance": "favor"}))
    assert span == SpanIn(0, 3, "Claim", attributes={"stance": "favor"})
    assert span != SpanIn(0, 3, "Claim")


# --- relations ---------------------------------------------------------------------------------

RESTRICTED = parse_scheme(
    {
        "name": "Restricted",
        "span_labels": [{"name": "Claim"}, {"name": "Premise"}, {"name": "Other"}],
        "relation_types": [
            {"name": "supports", "from_labels": ["Premise"], "to_labels": ["Claim"]},
            {"name": "same", "directed": False, "from_labels": ["Claim"], "to_labels": ["Other"]},
        ],
    }
)
SPANS = {"c": "Claim", "p": "Premise", "o": "Other"}


def test_valid_relations_have_no_problems(demo_scheme: SchemeSpec) -> None:
    relations = [RelationIn("p", "c", "supports"), RelationIn("o", "c", "same")]
    assert validate_relations(SPANS, relations, RESTRICTED) == []


def test_every_relation_problem_is_reported_in_one_call() -> None:
    relations = [
        RelationIn("p", "c", "contradicts"),
        RelationIn("p", "zz", "supports"),
        RelationIn("c", "c", "supports"),
        RelationIn("c", "p", "supports"),
        RelationIn("p", "o", "supports"),
        RelationIn("p", "c", "supports"),
        RelationIn("p", "c", "supports"),
        RelationIn("c", "o", "same"),
        RelationIn("o", "c", "same"),
    ]
    problems = validate_relations(SPANS, relations, RESTRICTED)
    assert [(p.field, p.code) for p in problems] == [
        ("relations[0].type", "unknown_type"),
        ("relations[1].to", "unknown_span"),
        ("relations[2].to", "invalid"),
        ("relations[3].from", "not_allowed"),
        ("relations[4].to", "not_allowed"),
        ("relations[6]", "duplicate"),
        ("relations[8]", "duplicate"),
    ]
    assert "'Claim'" in problems[3].message and "Premise" in problems[3].message
    assert "'Other'" in problems[4].message


def test_relation_types_are_not_checked_without_a_scheme() -> None:
    assert validate_relations(SPANS, [RelationIn("c", "o", "anything")], None) == []


def test_relation_endpoints_must_be_strings() -> None:
    problems = validate_relations(SPANS, [RelationIn(bad(1), bad(None), "same")], RESTRICTED)
    assert [p.field for p in problems] == ["relations[0].from", "relations[0].to"]


# --- stances -----------------------------------------------------------------------------------


def test_every_stance_problem_is_reported_in_one_call(demo_scheme: SchemeSpec) -> None:
    target = demo_scheme.stance_targets[0]
    stances = [
        StanceIn(target, "favor"),
        StanceIn("Something else", "favor"),
        StanceIn(target, "meh"),
    ]
    problems = validate_stances(stances, demo_scheme)
    assert [(p.field, p.code) for p in problems] == [
        ("stances[1].target", "unknown_target"),
        ("stances[2].value", "unknown_value"),
        ("stances[2].target", "duplicate"),
    ]


def test_valid_stance_has_no_problems(demo_scheme: SchemeSpec) -> None:
    stances = [StanceIn(demo_scheme.stance_targets[0], "not-addressed")]
    assert validate_stances(stances, demo_scheme, field_prefix="x") == []
