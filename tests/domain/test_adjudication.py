"""Adjudication: candidates for the gold annotation, the automatic merge and the review queue."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.adjudication import (
    Candidate,
    auto_accept,
    disagreement,
    merge_relations,
    merge_spans,
    merge_stances,
)
from projects.domain.agreement.records import AnnotatedDocument, DocumentStance, Relation, Span

DOC = "d1"


def span(annotator: str, start: int, end: int, label: str = "claim", **attributes: str) -> Span:
    return Span(DOC, annotator, start, end, label, attributes)


def document(
    annotators: tuple[str, ...], spans: list[Span], relations: list[Relation] | None = None
) -> AnnotatedDocument:
    return AnnotatedDocument(DOC, 100, annotators, tuple(spans), tuple(relations or ()))


def keyed(candidates: tuple[Candidate, ...]) -> dict[tuple[int, int, str], Candidate]:
    return {(c.start, c.end, c.label): c for c in candidates}


# --- merge_spans -----------------------------------------------------------------------------


def test_a_span_everyone_marked_identically_is_one_unanimous_candidate() -> None:
    doc = document(("a", "b", "c"), [span(n, 0, 10) for n in ("c", "a", "b")])
    (candidate,) = merge_spans(doc)
    assert candidate.extent == (0, 10)
    assert candidate.proposed_by == ("a", "b", "c")
    assert candidate.support == 3
    assert candidate.kind == "unanimous"


def test_two_of_three_annotators_agreeing_is_a_majority_and_the_third_a_minority() -> None:
    doc = document(("a", "b", "c"), [span("a", 0, 10), span("b", 0, 10), span("c", 20, 30)])
    candidates = keyed(merge_spans(doc))
    assert candidates[(0, 10, "claim")].kind == "majority"
    assert candidates[(0, 10, "claim")].proposed_by == ("a", "b")
    assert candidates[(20, 30, "claim")].kind == "minority"
    assert candidates[(20, 30, "claim")].proposed_by == ("c",)


def test_an_annotator_who_submitted_nothing_still_counts_against_unanimity() -> None:
    doc = document(("a", "b", "c"), [span("a", 0, 10), span("b", 0, 10)])
    (candidate,) = merge_spans(doc)
    assert candidate.kind == "majority"


def test_half_of_the_annotators_is_not_a_majority() -> None:
    doc = document(("a", "b"), [span("a", 0, 10)])
    assert merge_spans(doc)[0].kind == "minority"


def test_boundary_differences_give_separate_candidates_in_one_cluster() -> None:
    doc = document(("a", "b", "c"), [span("a", 0, 10), span("b", 0, 10), span("c", 0, 12)])
    candidates = keyed(merge_spans(doc))
    assert set(candidates) == {(0, 10, "claim"), (0, 12, "claim")}
    assert candidates[(0, 10, "claim")].cluster == candidates[(0, 12, "claim")].cluster
    assert candidates[(0, 12, "claim")].kind == "minority"


def test_label_differences_give_separate_candidates_in_one_cluster() -> None:
    doc = document(
        ("a", "b", "c"), [span("a", 0, 10), span("b", 0, 10, "premise"), span("c", 0, 10)]
    )
    candidates = keyed(merge_spans(doc))
    assert candidates[(0, 10, "claim")].kind == "majority"
    assert candidates[(0, 10, "premise")].kind == "minority"
    assert candidates[(0, 10, "claim")].cluster == candidates[(0, 10, "premise")].cluster


def test_spans_that_do_not_overlap_are_in_different_clusters_numbered_in_text_order() -> None:
    doc = document(("a", "b"), [span("a", 50, 60), span("b", 0, 10), span("a", 0, 10)])
    first, second = merge_spans(doc)
    assert (first.extent, first.cluster) == ((0, 10), 0)
    assert (second.extent, second.cluster) == ((50, 60), 1)


def test_the_one_to_one_alignment_keeps_a_neighbour_out_of_the_cluster() -> None:
    # b's long span is aligned with a's first span only; a's second span stays on its own.
    doc = document(("a", "b"), [span("a", 0, 10), span("a", 10, 12), span("b", 0, 11)])
    candidates = keyed(merge_spans(doc))
    assert candidates[(0, 10, "claim")].cluster == candidates[(0, 11, "claim")].cluster
    assert candidates[(10, 12, "claim")].cluster != candidates[(0, 10, "claim")].cluster


def test_candidates_are_ordered_by_start_end_and_label() -> None:
    doc = document(
        ("a", "b"),
        [span("b", 30, 40), span("a", 0, 12, "premise"), span("b", 0, 12), span("a", 0, 10)],
    )
    assert [(c.start, c.end, c.label) for c in merge_spans(doc)] == [
        (0, 10, "claim"),
        (0, 12, "claim"),
        (0, 12, "premise"),
        (30, 40, "claim"),
    ]


def test_attributes_take_the_majority_value_of_the_supporters() -> None:
    doc = document(
        ("a", "b", "c"),
        [
            span("a", 0, 10, source="author", stance="pro"),
            span("b", 0, 10, source="author", stance="con"),
            span("c", 0, 10, source="quoted", stance="pro"),
        ],
    )
    (candidate,) = merge_spans(doc)
    assert dict(candidate.attributes) == {"source": "author", "stance": "pro"}


def test_a_tied_attribute_is_left_unset_for_the_reviewer() -> None:
    doc = document(
        ("a", "b"),
        [span("a", 0, 10, source="author", stance="pro"), span("b", 0, 10, source="quoted")],
    )
    (candidate,) = merge_spans(doc)
    assert dict(candidate.attributes) == {"stance": "pro"}


def test_attributes_of_non_supporters_do_not_vote() -> None:
    doc = document(
        ("a", "b", "c"),
        [
            span("a", 0, 10, source="author"),
            span("b", 0, 12, source="quoted"),
            span("c", 0, 12, source="quoted"),
        ],
    )
    assert keyed(merge_spans(doc))[(0, 10, "claim")].attributes == {"source": "author"}


def test_a_document_without_spans_has_no_candidates() -> None:
    assert merge_spans(document(("a", "b"), [])) == ()


# --- auto_accept -----------------------------------------------------------------------------


def three_way() -> tuple[Candidate, ...]:
    return merge_spans(
        document(
            ("a", "b", "c"),
            [
                *(span(n, 0, 10) for n in "abc"),
                span("a", 20, 30),
                span("b", 20, 30),
                span("c", 20, 31),
                span("c", 50, 60),
            ],
        )
    )


def test_the_unanimous_policy_takes_only_unanimous_candidates() -> None:
    accepted, remaining = auto_accept(three_way(), policy="unanimous")
    assert [c.extent for c in accepted] == [(0, 10)]
    assert [c.extent for c in remaining] == [(20, 30), (20, 31), (50, 60)]


def test_the_majority_policy_also_takes_majority_candidates() -> None:
    accepted, remaining = auto_accept(three_way(), policy="majority")
    assert [c.extent for c in accepted] == [(0, 10), (20, 30)]
    assert [c.extent for c in remaining] == [(20, 31), (50, 60)]


def test_two_rival_labels_of_one_cluster_are_never_both_accepted() -> None:
    doc = document(
        ("a", "b"),
        [span(n, 0, 10, label) for n in "ab" for label in ("claim", "premise")]
        + [span(n, 20, 30) for n in "ab"],
    )
    accepted, remaining = auto_accept(merge_spans(doc), policy="unanimous")
    assert [(c.extent, c.label) for c in accepted] == [((20, 30), "claim")]
    assert {c.label for c in remaining} == {"claim", "premise"}


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="policy"):
        auto_accept(three_way(), policy="most")  # type: ignore[arg-type]


# --- merge_relations -------------------------------------------------------------------------


def test_relation_endpoints_follow_the_alignment_to_the_accepted_spans() -> None:
    spans = [
        span("a", 0, 10),
        span("a", 20, 30, "premise"),
        span("b", 0, 11),
        span("b", 19, 30, "premise"),
        span("c", 0, 10),
        span("c", 20, 30, "premise"),
    ]
    relations = [
        Relation(DOC, "a", (20, 30), (0, 10), "supports"),
        Relation(DOC, "b", (19, 30), (0, 11), "supports"),
        Relation(DOC, "c", (20, 30), (0, 10), "attacks"),
    ]
    doc = document(("a", "b", "c"), spans, relations)
    accepted, _ = auto_accept(merge_spans(doc), policy="majority")
    candidates = merge_relations(doc, [c.extent for c in accepted])
    assert [(r.source, r.target, r.type, r.proposed_by, r.kind) for r in candidates] == [
        ((20, 30), (0, 10), "attacks", ("c",), "minority"),
        ((20, 30), (0, 10), "supports", ("a", "b"), "majority"),
    ]


def test_a_relation_whose_endpoint_has_no_accepted_partner_is_dropped() -> None:
    doc = document(
        ("a", "b"),
        [span("a", 0, 10), span("a", 20, 30), span("b", 0, 10), span("b", 20, 30)],
        [
            Relation(DOC, "a", (20, 30), (0, 10), "supports"),
            Relation(DOC, "b", (20, 30), (0, 10), "supports"),
        ],
    )
    assert merge_relations(doc, [(0, 10)]) == ()
    (candidate,) = merge_relations(doc, [(0, 10), (20, 30)])
    assert candidate.kind == "unanimous"
    assert candidate.support == 2


# --- merge_stances ---------------------------------------------------------------------------


def test_stance_votes_are_counted_per_target() -> None:
    stances = [
        DocumentStance(DOC, "a", "nuclear", "pro"),
        DocumentStance(DOC, "b", "nuclear", "pro"),
        DocumentStance(DOC, "c", "nuclear", "con"),
        DocumentStance(DOC, "a", "wind", "pro"),
        DocumentStance(DOC, "b", "wind", "pro"),
        DocumentStance(DOC, "c", "wind", "pro"),
    ]
    merged = merge_stances(stances, ("a", "b", "c"))
    assert list(merged) == ["nuclear", "wind"]
    assert merged["nuclear"].value == "pro"
    assert merged["nuclear"].kind == "majority"
    assert dict(merged["nuclear"].votes) == {"con": ("c",), "pro": ("a", "b")}
    assert merged["wind"].kind == "unanimous"


def test_a_stance_tie_leaves_the_value_to_the_reviewer() -> None:
    stances = [DocumentStance(DOC, "a", "t", "pro"), DocumentStance(DOC, "b", "t", "con")]
    merged = merge_stances(stances, ("a", "b"))["t"]
    assert merged.value is None
    assert merged.kind == "minority"
    assert dict(merged.votes) == {"con": ("b",), "pro": ("a",)}


def test_stances_of_annotators_who_did_not_submit_are_ignored() -> None:
    stances = [DocumentStance(DOC, "a", "t", "pro"), DocumentStance(DOC, "z", "t", "con")]
    merged = merge_stances(stances, ("a",))["t"]
    assert (merged.value, merged.kind) == ("pro", "unanimous")


def test_contradictory_stances_of_one_annotator_are_refused() -> None:
    stances = [DocumentStance(DOC, "a", "t", "pro"), DocumentStance(DOC, "a", "t", "con")]
    with pytest.raises(ValueError, match="two stances"):
        merge_stances(stances, ("a",))


# --- disagreement ----------------------------------------------------------------------------


def test_a_document_where_nobody_marked_anything_has_no_disagreement() -> None:
    assert disagreement(document(("a", "b"), [])) == 0.0


def test_disagreement_orders_documents_from_agreed_to_contested() -> None:
    agreed = document(("a", "b"), [span("a", 0, 10), span("b", 0, 10)])
    boundary = document(
        ("a", "b"), [span("a", 0, 10), span("b", 0, 10), span("a", 20, 30), span("b", 20, 31)]
    )
    disjoint = document(("a", "b"), [span("a", 0, 10), span("b", 20, 30)])
    scores = [disagreement(doc) for doc in (agreed, boundary, disjoint)]
    assert scores == [0.0, 0.5, 1.0]


# --- order independence ----------------------------------------------------------------------

_spans = st.tuples(
    st.sampled_from("abc"),
    st.integers(0, 20),
    st.integers(1, 6),
    st.sampled_from(["claim", "premise"]),
    st.sampled_from(["author", "quoted"]),
)


@settings(max_examples=150, deadline=None)
@given(
    raw=st.lists(_spans, max_size=12),
    links=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_results_do_not_depend_on_the_order_annotators_or_spans_are_listed_in(
    raw: list[tuple[str, int, int, str, str]], links: list[tuple[int, int]], seed: int
) -> None:
    spans = [span(n, s, s + length, label, source=src) for n, s, length, label, src in raw]
    relations = [
        Relation(DOC, spans[i].annotator, spans[i].extent, spans[j].extent, "supports")
        for i, j in links
        if i < len(spans) and j < len(spans) and spans[i].annotator == spans[j].annotator
    ]
    stances = [DocumentStance(DOC, n, "t", src) for n, _, _, _, src in raw[:3]]
    shuffler = random.Random(seed)
    names = ["a", "b", "c"]
    shuffled_spans, shuffled_relations = spans[:], relations[:]
    shuffled_stances = list(dict.fromkeys(stances))
    shuffler.shuffle(names)
    shuffler.shuffle(shuffled_spans)
    shuffler.shuffle(shuffled_relations)
    shuffler.shuffle(shuffled_stances)
    original = document(("a", "b", "c"), spans, relations)
    reordered = document(tuple(names), shuffled_spans, shuffled_relations)

    candidates = merge_spans(original)
    assert merge_spans(reordered) == candidates
    assert [c.attributes for c in merge_spans(reordered)] == [c.attributes for c in candidates]
    for policy in ("unanimous", "majority"):
        accepted = auto_accept(candidates, policy=policy)
        assert auto_accept(reversed(candidates), policy=policy) == accepted
        extents = [c.extent for c in accepted[0]]
        assert merge_relations(reordered, reversed(extents)) == merge_relations(original, extents)
    assert disagreement(reordered) == disagreement(original)
    try:
        expected = merge_stances(list(dict.fromkeys(stances)), ("a", "b", "c"))
    except ValueError:
        return
    assert merge_stances(shuffled_stances, names) == expected
