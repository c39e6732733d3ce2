from __future__ import annotations

import copy
from typing import Any

import pytest

from projects.domain.problems import ImportFailed
from projects.domain.scheme import DEFAULT_COLOURS, SchemeSpec, parse_scheme


def problems_of(data: object) -> list[tuple[str | None, str]]:
    with pytest.raises(ImportFailed) as info:
        parse_scheme(data)
    return [(p.field, p.code) for p in info.value.problems]


def fields_of(data: object) -> list[str | None]:
    return [field for field, _ in problems_of(data)]


def test_demo_scheme_parses(demo_scheme: SchemeSpec) -> None:
    assert demo_scheme.name == "Argument and stance (news)"
    assert demo_scheme.label_names() == frozenset({"Claim", "Justification", "Critique"})
    assert [rt.name for rt in demo_scheme.relation_types] == ["supports", "attacks"]
    stance = demo_scheme.attribute("stance")
    assert stance is not None and stance.values == ("favor", "against", "neutral")
    source = demo_scheme.attribute("source")
    assert (
        source is not None
        and source.kind == "entity"
        and "Human Rights Watch" in (source.suggestions)
    )
    assert demo_scheme.stance_values[-1] == "not-addressed"
    claim = demo_scheme.label("Claim")
    assert claim is not None and claim.hotkey == "1" and claim.color == "#1f77b4"
    assert demo_scheme.label("Nope") is None
    assert demo_scheme.relation_type("nope") is None


def test_demo_scheme_round_trips_through_to_dict(
    demo_scheme: SchemeSpec, demo_scheme_data: dict[str, Any]
) -> None:
    assert demo_scheme.to_dict() == demo_scheme_data
    assert parse_scheme(demo_scheme.to_dict()) == demo_scheme


def test_optional_fields_get_defaults_and_survive_a_round_trip() -> None:
    scheme = parse_scheme(
        {
            "name": "Minimal",
            "span_labels": [{"name": "A"}, {"name": "B", "retired": True}],
            "relation_types": [
                {"name": "r", "directed": False, "from_labels": ["A"], "to_labels": ["A", "B"]}
            ],
        }
    )
    a, b = scheme.span_labels
    assert (a.color, b.color) == DEFAULT_COLOURS[:2]
    assert a.hotkey is None and a.description == ""
    assert scheme.label_names() == frozenset({"A"})
    assert scheme.label("B") == b and b.retired
    assert scheme.relation_types[0].to_labels == ("A", "B")
    assert parse_scheme(scheme.to_dict()) == scheme


def test_colours_beyond_the_palette_wrap_around() -> None:
    labels = [{"name": f"L{i}"} for i in range(len(DEFAULT_COLOURS) + 1)]
    scheme = parse_scheme({"name": "Many", "span_labels": labels})
    assert scheme.span_labels[-1].color == DEFAULT_COLOURS[0]


def test_colour_is_stored_in_lower_case() -> None:
    scheme = parse_scheme({"name": "S", "span_labels": [{"name": "A", "color": "#ABCDEF"}]})
    assert scheme.span_labels[0].color == "#abcdef"


def test_a_non_object_scheme_is_refused() -> None:
    assert problems_of(["not", "a", "scheme"]) == [(None, "invalid")]


def test_a_missing_name_is_reported() -> None:
    assert fields_of({}) == ["name"]


def test_a_scheme_with_no_labels_yet_is_valid_for_a_new_project() -> None:
    scheme = parse_scheme({"name": "New", "span_labels": []})
    assert scheme.label_names() == frozenset()


def _demo(data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(data)


@pytest.mark.parametrize(
    ("mutate", "field", "code"),
    [
        (lambda d: d["span_labels"][1].update(name=""), "span_labels[1].name", "invalid"),
        (lambda d: d["span_labels"][1].pop("name"), "span_labels[1].name", "invalid"),
        (lambda d: d["span_labels"][2].update(name="Claim"), "span_labels[2].name", "duplicate"),
        (lambda d: d["span_labels"][1].update(color="green"), "span_labels[1].color", "invalid"),
        (lambda d: d["span_labels"][1].update(color="#12345"), "span_labels[1].color", "invalid"),
        (lambda d: d["span_labels"][0].update(hotkey="12"), "span_labels[0].hotkey", "invalid"),
        (lambda d: d["span_labels"][0].update(hotkey=1), "span_labels[0].hotkey", "invalid"),
        (lambda d: d["span_labels"][2].update(hotkey="1"), "span_labels[2].hotkey", "duplicate"),
        (
            lambda d: d["relation_types"][1].update(hotkey="2"),
            "relation_types[1].hotkey",
            "duplicate",
        ),
        (
            lambda d: d["relation_types"][1].update(name="supports"),
            "relation_types[1].name",
            "duplicate",
        ),
        (lambda d: d["relation_types"][0].update(name=" "), "relation_types[0].name", "invalid"),
        (
            lambda d: d["relation_types"][0].update(from_labels=["Claim", "Premise"]),
            "relation_types[0].from_labels[1]",
            "unknown_label",
        ),
        (
            lambda d: d["relation_types"][0].update(to_labels=["Nope"]),
            "relation_types[0].to_labels[0]",
            "unknown_label",
        ),
        (
            lambda d: d["relation_types"][0].update(directed="yes"),
            "relation_types[0].directed",
            "invalid",
        ),
        (
            lambda d: d["span_attributes"][1].update(values=[]),
            "span_attributes[1].values",
            "invalid",
        ),
        (lambda d: d["span_attributes"][1].pop("values"), "span_attributes[1].values", "invalid"),
        (
            lambda d: d["span_attributes"][1].update(kind="number"),
            "span_attributes[1].kind",
            "invalid",
        ),
        (
            lambda d: d["span_attributes"][1].update(name="source"),
            "span_attributes[1].name",
            "duplicate",
        ),
        (
            lambda d: d["span_attributes"][1].update(values=["favor", "favor"]),
            "span_attributes[1].values[1]",
            "duplicate",
        ),
        (lambda d: d["stance_values"].append("favor"), "stance_values[4]", "duplicate"),
        (lambda d: d["stance_targets"].append(""), "stance_targets[1]", "invalid"),
        (lambda d: d.update(stance_values=[]), "stance_values", "invalid"),
        (lambda d: d.update(span_labels="Claim"), "span_labels", "invalid"),
        (lambda d: d["span_labels"].append("Claim"), "span_labels[3]", "invalid"),
    ],
)
def test_each_invalid_scheme_names_its_field(
    demo_scheme_data: dict[str, Any], mutate: Any, field: str, code: str
) -> None:
    data = _demo(demo_scheme_data)
    mutate(data)
    assert (field, code) in problems_of(data)


def test_all_scheme_problems_are_reported_together(demo_scheme_data: dict[str, Any]) -> None:
    data = _demo(demo_scheme_data)
    data["name"] = ""
    data["span_labels"][0]["color"] = "blue"
    data["span_labels"][2]["hotkey"] = "2"
    data["relation_types"][0]["to_labels"] = ["Premise"]
    data["span_attributes"][0]["kind"] = "free"
    data["stance_values"].append("neutral")
    assert fields_of(data) == [
        "name",
        "span_labels[0].color",
        "relation_types[0].to_labels[0]",
        "span_labels[2].hotkey",
        "span_attributes[0].kind",
        "stance_values[4]",
    ]
