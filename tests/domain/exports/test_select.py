"""Choosing what an export carries: options, splits, gold/all/merged, relations and stances."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.exports.records import (
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportSpan,
    ExportStance,
)
from projects.domain.exports.select import (
    InvalidExportOptions,
    assign_split,
    shape_document,
    validate_options,
)

TEXT = "Alpha beta gamma delta epsilon zeta eta theta."
THREE = (("train", 0.8), ("validation", 0.1), ("test", 0.1))


def s(span_id: str, start: int, end: int, label: str = "Claim", **attributes: str) -> ExportSpan:
    return ExportSpan(span_id, start, end, label, TEXT[start:end], attributes)


def annotation(
    annotator: str | None,
    *spans: ExportSpan,
    status: str = "submitted",
    relations: tuple[ExportRelation, ...] = (),
    stances: tuple[ExportStance, ...] = (),
) -> ExportAnnotation:
    return ExportAnnotation(
        annotator=annotator,
        gold=annotator is None,
        status=status,
        spans=tuple(spans),
        relations=relations,
        stances=stances,
    )


def doc(*annotations: ExportAnnotation, external_id: str = "d1") -> ExportDocument:
    return ExportDocument(external_id=external_id, title="t", text=TEXT, annotations=annotations)


def options(**kwargs: object) -> ExportOptions:
    return ExportOptions(**kwargs)  # type: ignore[arg-type]


# --- splits --------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    existing=st.lists(st.text(min_size=1, max_size=20), max_size=50, unique=True),
    added=st.lists(st.text(min_size=1, max_size=20), max_size=50, unique=True),
    seed=st.integers(min_value=-(2**40), max_value=2**40),
)
def test_adding_documents_never_changes_an_existing_documents_split(
    existing: list[str], added: list[str], seed: int
) -> None:
    before = {doc_id: assign_split(doc_id, THREE, seed) for doc_id in existing}
    after = {doc_id: assign_split(doc_id, THREE, seed) for doc_id in [*added, *existing]}
    assert {doc_id: after[doc_id] for doc_id in existing} == before


def test_split_ratios_are_respected_on_ten_thousand_ids() -> None:
    counts = Counter(assign_split(f"doc-{n}", THREE, 42) for n in range(10_000))
    assert abs(counts["train"] - 8000) < 250
    assert abs(counts["validation"] - 1000) < 150
    assert abs(counts["test"] - 1000) < 150


def test_the_seed_changes_the_assignment_and_the_same_seed_repeats_it() -> None:
    ids = [f"doc-{n}" for n in range(200)]
    first = [assign_split(i, THREE, 1) for i in ids]
    assert first == [assign_split(i, THREE, 1) for i in ids]
    assert first != [assign_split(i, THREE, 2) for i in ids]


def test_known_ids_have_fixed_splits_on_every_machine() -> None:
    # sha256 of seed and id: pinned, so a change of hashing (which would silently reshuffle every
    # team's train/test sets) fails here first.
    assert [assign_split(f"doc-{n}", THREE, 0) for n in range(12)] == [
        *["train"] * 5,
        "test",
        "test",
        *["train"] * 5,
    ]


def test_a_single_split_takes_everything() -> None:
    assert {assign_split(f"d{n}", (("train", 1.0),), 5) for n in range(100)} == {"train"}


# --- options -------------------------------------------------------------------------------------


def test_valid_options_become_export_options_with_splits_in_canonical_order() -> None:
    result = validate_options(
        {
            "format": "hf",
            "annotations": "merged",
            "include_unfinished": True,
            "splits": {"test": 0.1, "train": 0.7, "validation": 0.2},
            "seed": 9,
            "relations": False,
            "stances": True,
        }
    )
    assert result == ExportOptions(
        format="hf",
        annotations="merged",
        include_unfinished=True,
        splits=(("train", 0.7), ("validation", 0.2), ("test", 0.1)),
        seed=9,
        relations=False,
        stances=True,
    )


def test_missing_options_take_their_defaults_and_as_dict_round_trips() -> None:
    assert validate_options({}) == ExportOptions()
    chosen = ExportOptions(format="csv", splits=THREE, seed=3)
    assert validate_options(chosen.as_dict()) == chosen


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"format": "xml"}, "format", "'xml' is not a format"),
        ({"format": ["jsonl"]}, "format", "['jsonl'] is not a format"),
        ({"annotations": None}, "annotations", "None is not a choice"),
        ({"annotations": "best"}, "annotations", "'best' is not a choice"),
        ({"splits": [["train", 0.5], ["test", 0.4]]}, "splits", "add up to 1"),
        ({"splits": [["train", 1.5], ["test", -0.5]]}, "splits.test", "above 0"),
        ({"splits": [["train", 0.5], ["train", 0.5]]}, "splits", "named twice"),
        ({"splits": [["dev", 1.0]]}, "splits", "'dev' is not a split name"),
        ({"splits": [["train", "1"]]}, "splits.train", "must be a number"),
        ({"splits": [["train", float("nan")]]}, "splits.train", "must be a number"),
        ({"splits": []}, "splits", "at least one split"),
        ({"splits": "train"}, "splits", "pairs"),
        ({"splits": [["train"]]}, "splits[0]", "pair"),
        ({"seed": "7"}, "seed", "must be an integer"),
        ({"seed": 1.5}, "seed", "must be an integer"),
        ({"seed": True}, "seed", "must be an integer"),
        ({"relations": "yes"}, "relations", "true or false"),
        ({"include_unfinished": 1}, "include_unfinished", "true or false"),
        ({"colour": "red"}, "colour", "unknown option"),
    ],
)
def test_invalid_options_are_refused_naming_the_field(
    raw: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(InvalidExportOptions) as info:
        validate_options(raw)
    assert [problem.field for problem in info.value.problems] == [field]
    assert words in info.value.problems[0].message
    assert field in str(info.value)


def test_ratios_that_sum_to_one_only_within_floating_point_are_accepted() -> None:
    result = validate_options({"splits": [["train", 0.7], ["validation", 0.2], ["test", 0.1]]})
    assert [name for name, _ in result.splits] == ["train", "validation", "test"]
    with pytest.raises(InvalidExportOptions):
        validate_options({"splits": [["train", 0.7], ["test", 0.300002]]})


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidExportOptions) as info:
        validate_options({"format": "x", "annotations": "y", "seed": "z"})
    assert [p.field for p in info.value.problems] == ["format", "annotations", "seed"]


# --- gold and all --------------------------------------------------------------------------------


def test_gold_keeps_only_the_gold_annotation() -> None:
    shaped = shape_document(
        doc(annotation("ann1", s("a", 0, 5)), annotation(None, s("g", 6, 10))),
        options(annotations="gold"),
    )
    assert shaped is not None
    assert [a.annotator for a in shaped.annotations] == [None]
    assert shaped.annotations[0].gold


def test_gold_skips_a_document_without_gold() -> None:
    assert (
        shape_document(doc(annotation("ann1", s("a", 0, 5))), options(annotations="gold")) is None
    )


def test_an_unfinished_gold_is_only_exported_when_unfinished_work_is_asked_for() -> None:
    document = doc(annotation(None, s("g", 0, 5), status="in_progress"))
    assert shape_document(document, options(annotations="gold")) is None
    assert shape_document(document, options(annotations="gold", include_unfinished=True))


def test_all_keeps_every_submitted_annotation_by_annotator_with_gold_last() -> None:
    document = doc(
        annotation(None, s("g", 0, 5)),
        annotation("zed", s("z", 0, 5)),
        annotation("amy", s("a", 0, 5)),
        annotation("bob", s("b", 0, 5), status="in_progress"),
    )
    shaped = shape_document(document, options())
    assert shaped is not None
    assert [a.annotator for a in shaped.annotations] == ["amy", "zed", None]
    with_unfinished = shape_document(document, options(include_unfinished=True))
    assert with_unfinished is not None
    assert [a.annotator for a in with_unfinished.annotations] == ["amy", "bob", "zed", None]


def test_an_annotation_with_no_spans_is_kept_as_a_labelled_negative() -> None:
    shaped = shape_document(doc(annotation("amy")), options())
    assert shaped is not None and shaped.annotations[0].spans == ()


def test_a_document_with_no_annotation_is_skipped() -> None:
    assert shape_document(doc(), options()) is None
    assert shape_document(doc(annotation("a", status="in_progress")), options()) is None


def test_relations_and_stances_can_be_left_out() -> None:
    document = doc(
        annotation(
            "amy",
            s("a", 0, 5),
            s("b", 6, 10),
            relations=(ExportRelation("a", "b", "supports"),),
            stances=(ExportStance("t", "favor"),),
        )
    )
    neither = shape_document(document, options(relations=False, stances=False))
    assert neither is not None
    assert neither.annotations[0].relations == () and neither.annotations[0].stances == ()
    assert len(neither.annotations[0].spans) == 2
    both = shape_document(document, options())
    assert both is not None
    assert both.annotations[0].relations and both.annotations[0].stances


def test_shaping_sets_the_split_from_the_id_and_seed() -> None:
    document = doc(annotation("amy"), external_id="some-id")
    shaped = shape_document(document, options(splits=THREE, seed=11))
    assert shaped is not None
    assert shaped.split == assign_split("some-id", THREE, 11)


# --- merged --------------------------------------------------------------------------------------


def merged(*annotations: ExportAnnotation, **kwargs: object) -> ExportAnnotation:
    shaped = shape_document(doc(*annotations), options(annotations="merged", **kwargs))
    assert shaped is not None
    [result] = shaped.annotations
    assert result.annotator == "merged" and not result.gold
    return result


def test_merged_takes_a_span_that_a_majority_marked_with_the_majority_label() -> None:
    result = merged(
        annotation("a", s("a1", 0, 5)),
        annotation("b", s("b1", 0, 5)),
        annotation("c", s("c1", 0, 5, "Critique")),
    )
    assert [(x.id, x.start, x.end, x.label, x.text) for x in result.spans] == [
        ("m1", 0, 5, "Claim", "Alpha")
    ]


def test_merged_takes_nothing_when_two_annotators_disagree() -> None:
    result = merged(annotation("a", s("a1", 0, 5)), annotation("b", s("b1", 0, 5, "Critique")))
    assert result.spans == ()


def test_merged_needs_more_than_half_not_half() -> None:
    result = merged(
        annotation("a", s("a1", 0, 5)),
        annotation("b", s("b1", 0, 5)),
        annotation("c"),
        annotation("d"),
    )
    assert result.spans == ()


def test_merged_attributes_are_the_supporters_plurality() -> None:
    result = merged(
        annotation("a", s("a1", 0, 5, source="US", stance="favor")),
        annotation("b", s("b1", 0, 5, source="US", stance="against")),
        annotation("c", s("c1", 0, 5, source="UN")),
    )
    [span] = result.spans
    assert dict(span.attributes) == {"source": "US"}  # stance ties 1-1: left unset


def test_merged_relations_follow_the_majority_between_merged_spans() -> None:
    result = merged(
        annotation(
            "a",
            s("x", 0, 5),
            s("y", 6, 10),
            relations=(ExportRelation("y", "x", "supports"),),
        ),
        annotation(
            "b",
            s("p", 0, 5),
            s("q", 6, 10),
            relations=(ExportRelation("q", "p", "supports"),),
        ),
        annotation(
            "c", s("r", 0, 5), s("t", 6, 10), relations=(ExportRelation("r", "t", "attacks"),)
        ),
    )
    assert [x.id for x in result.spans] == ["m1", "m2"]
    assert result.relations == (ExportRelation("m2", "m1", "supports"),)


def test_merged_stances_need_a_majority_and_a_tie_gives_none() -> None:
    result = merged(
        annotation("a", stances=(ExportStance("t1", "favor"), ExportStance("t2", "favor"))),
        annotation("b", stances=(ExportStance("t1", "favor"), ExportStance("t2", "against"))),
        annotation("c", stances=(ExportStance("t1", "against"),)),
    )
    assert result.stances == (ExportStance("t1", "favor"),)


def test_merged_ignores_the_gold_and_unfinished_work_by_default() -> None:
    annotations = (
        annotation("a", s("a1", 0, 5)),
        annotation("b", s("b1", 6, 10), status="in_progress"),
        annotation(None, s("g1", 11, 16)),
    )
    by_default = merged(*annotations)
    assert [(x.start, x.end) for x in by_default.spans] == [(0, 5)]
    assert by_default.status == "submitted"
    with_unfinished = merged(*annotations, include_unfinished=True)
    # Two voters now, each span backed by one of them: neither is a majority.
    assert with_unfinished.spans == ()
    assert with_unfinished.status == "in_progress"


def test_merged_skips_a_document_nobody_submitted() -> None:
    document = doc(annotation(None, s("g", 0, 5)), annotation("a", status="in_progress"))
    assert shape_document(document, options(annotations="merged")) is None


def test_merged_does_not_depend_on_annotation_order() -> None:
    a = annotation("a", s("a1", 0, 5), s("a2", 6, 10, "Critique"))
    b = annotation("b", s("b1", 0, 5), s("b2", 6, 10, "Critique"))
    c = annotation("c", s("c1", 0, 4))
    assert merged(a, b, c) == merged(c, b, a)
