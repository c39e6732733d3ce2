"""Properties that must hold on any data: symmetry, order invariance, perfect agreement, 0/0."""

from __future__ import annotations

from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.agreement import (
    AnnotatedDocument,
    Relation,
    Span,
    coding_agreement,
    overlap_matching,
    relation_f1,
    span_f1,
    unitizing_alpha,
    unitizing_alpha_document,
)
from projects.domain.agreement.matching import (
    _overlapping_pairs,
    aligned_matching,
    matching_size,
    sorted_overlaps,
)
from projects.domain.agreement.records import Extent

LABELS = ("Claim", "Premise", "Critique")
NAMES = ("ann1", "ann2", "ann3")
LENGTH = 60

extents = st.tuples(st.integers(0, LENGTH - 1), st.integers(1, 20)).map(
    lambda se: (se[0], min(LENGTH, se[0] + se[1]))
)
span_rows = st.lists(st.tuples(extents, st.sampled_from(LABELS)), max_size=6)


@st.composite
def documents(draw: st.DrawFn, annotators: int = 2) -> AnnotatedDocument:
    spans: list[Span] = []
    relations: list[Relation] = []
    for name in NAMES[:annotators]:
        rows = draw(span_rows)
        mine = [Span("d", name, s, e, label) for (s, e), label in rows]
        spans.extend(mine)
        if len(mine) >= 2:
            for i, j, kind in draw(
                st.lists(
                    st.tuples(
                        st.integers(0, len(mine) - 1),
                        st.integers(0, len(mine) - 1),
                        st.sampled_from(("supports", "attacks")),
                    ),
                    max_size=4,
                )
            ):
                relations.append(Relation("d", name, mine[i].extent, mine[j].extent, kind))
    return AnnotatedDocument("d", LENGTH, NAMES[:annotators], tuple(spans), tuple(relations))


def renamed(document: AnnotatedDocument, names: dict[str, str]) -> AnnotatedDocument:
    return AnnotatedDocument(
        document.doc_id,
        document.text_length,
        tuple(names[a] for a in document.annotators),
        tuple(
            Span(s.doc_id, names[s.annotator], s.start, s.end, s.label, s.attributes)
            for s in document.spans
        ),
        tuple(
            Relation(r.doc_id, names[r.annotator], r.source, r.target, r.type)
            for r in document.relations
        ),
    )


def brute_force_best(a: list[Extent], b: list[Extent]) -> tuple[int, int, int]:
    """(total overlap, identical pairs, pairs) of the best matching, trying every assignment."""

    def overlap(x: Extent, y: Extent) -> int:
        return max(0, min(x[1], y[1]) - max(x[0], y[0]))

    best = (0, 0, 0)
    small, large, flip = (a, b, False) if len(a) <= len(b) else (b, a, True)
    for chosen in permutations([*range(len(large)), *[None] * len(small)], len(small)):
        total = identical = pairs = 0
        for i, j in enumerate(chosen):
            if j is not None:
                x, y = (large[j], small[i]) if flip else (small[i], large[j])
                if overlap(x, y):
                    total, pairs = total + overlap(x, y), pairs + 1
                    identical += x == y
        best = max(best, (total, identical, pairs))
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(extents, max_size=5), st.lists(extents, max_size=5))
def test_overlap_matching_is_optimal_one_to_one_and_only_pairs_overlapping_spans(
    a: list[Extent], b: list[Extent]
) -> None:
    pairs = overlap_matching(a, b)
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
    overlaps = [min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]) for i, j in pairs]
    assert all(o > 0 for o in overlaps)
    identical = sum(a[i] == b[j] for i, j in pairs)
    assert (sum(overlaps), identical, len(pairs)) == brute_force_best(a, b)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_every_pairwise_figure_is_symmetric_in_the_two_annotators(
    document: AnnotatedDocument,
) -> None:
    swapped = renamed(document, {"ann1": "ann2", "ann2": "ann1"})
    spans, spans_swapped = span_f1([document]), span_f1([swapped])
    for mode in ("exact_labelled", "exact_unlabelled", "overlap_labelled", "overlap_unlabelled"):
        assert getattr(spans, mode).f1 == getattr(spans_swapped, mode).f1
        assert getattr(spans, mode).per_label == getattr(spans_swapped, mode).per_label
    assert spans.partial_credit.f1 == spans_swapped.partial_credit.f1
    relations, relations_swapped = relation_f1([document]), relation_f1([swapped])
    for mode in ("exact_labelled", "exact_unlabelled", "aligned_labelled", "aligned_unlabelled"):
        assert getattr(relations, mode).f1 == getattr(relations_swapped, mode).f1
    alpha = unitizing_alpha_document(document).alpha
    assert alpha == unitizing_alpha_document(swapped).alpha


@settings(max_examples=100, deadline=None)
@given(documents(annotators=3), st.permutations(NAMES))
def test_figures_do_not_depend_on_the_order_annotators_are_listed_in(
    document: AnnotatedDocument, order: list[str]
) -> None:
    reordered = AnnotatedDocument(
        document.doc_id,
        document.text_length,
        tuple(order),
        tuple(reversed(document.spans)),
        tuple(reversed(document.relations)),
    )
    assert span_f1([document]) == span_f1([reordered])
    assert relation_f1([document]) == relation_f1([reordered])
    first, second = unitizing_alpha([document]), unitizing_alpha([reordered])
    assert first.concatenated.alpha.value == second.concatenated.alpha.value or (
        abs((first.concatenated.alpha.value or 0) - (second.concatenated.alpha.value or 0)) < 1e-12
    )


@settings(max_examples=100, deadline=None)
@given(span_rows.filter(bool), st.integers(2, 3))
def test_identical_annotations_agree_perfectly_wherever_the_figure_is_defined(
    rows: list[tuple[Extent, str]], annotators: int
) -> None:
    names = NAMES[:annotators]
    spans = tuple(Span("d", name, s, e, label) for name in names for (s, e), label in rows)
    document = AnnotatedDocument("d", LENGTH, names, spans)
    report = span_f1([document])
    for summary in (
        report.exact_labelled,
        report.exact_unlabelled,
        report.overlap_labelled,
        report.overlap_unlabelled,
        report.partial_credit,
    ):
        assert summary.f1.value == 1.0
    alpha = unitizing_alpha_document(document).alpha
    assert alpha.value is None or abs(alpha.value - 1.0) < 1e-12


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(NAMES), st.sampled_from(("pro", "con", "none", None))),
        max_size=12,
    )
)
def test_coding_figures_are_invariant_to_annotator_names_and_item_order(
    items: list[dict[str, str | None]],
) -> None:
    report = coding_agreement(items)
    rename = {"ann1": "ann3", "ann2": "ann1", "ann3": "ann2"}
    shuffled = coding_agreement([{rename[a]: v for a, v in item.items()} for item in items[::-1]])
    assert report.alpha == shuffled.alpha
    assert report.observed_agreement == shuffled.observed_agreement
    assert report.fleiss.kappa == shuffled.fleiss.kappa
    assert report.per_value_alpha == shuffled.per_value_alpha


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("abc")), max_size=15))
def test_cohen_kappa_is_symmetric_and_perfect_when_defined(pairs: list[tuple[str, str]]) -> None:
    items = [{"A": x, "B": y} for x, y in pairs]
    kappa = coding_agreement(items).pairwise_cohen.get(("A", "B"))
    reverse = coding_agreement([{"A": y, "B": x} for x, y in pairs]).pairwise_cohen.get(("A", "B"))
    assert (kappa is None) == (reverse is None) == (not pairs)
    if kappa is not None and reverse is not None:
        assert kappa.kappa == reverse.kappa
        assert kappa.scott_pi == reverse.scott_pi
    perfect = coding_agreement([{"A": x, "B": x} for x, _ in pairs]).pairwise_cohen.get(("A", "B"))
    if perfect is not None:
        assert perfect.kappa.value in (1.0, None)
        assert perfect.kappa.value is not None or len({x for x, _ in pairs}) == 1


@settings(max_examples=100, deadline=None)
@given(documents())
def test_a_lone_annotator_makes_every_pairwise_figure_undefined(
    document: AnnotatedDocument,
) -> None:
    alone = AnnotatedDocument(
        "d", LENGTH, ("ann1",), tuple(s for s in document.spans if s.annotator == "ann1")
    )
    assert span_f1([alone]).overlap_labelled.f1.reason
    assert relation_f1([alone]).exact_labelled.f1.reason
    assert unitizing_alpha([alone]).concatenated.alpha.reason
    assert unitizing_alpha_document(alone).alpha.reason


def test_no_items_at_all_leave_every_coding_figure_undefined() -> None:
    report = coding_agreement([])
    figures = [report.alpha.alpha, report.observed_agreement, report.fleiss.kappa]
    assert all(f.value is None and f.reason for f in figures)
    assert report.pairwise_cohen == {}


def test_matching_handles_nested_and_stacked_spans_exactly() -> None:
    a = [(0, 100), (10, 20), (30, 40), (50, 60)]
    b = [(0, 100), (10, 20), (30, 41), (0, 100)]
    pairs = overlap_matching(a, b)
    assert brute_force_best(a, b) == (
        sum(min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]) for i, j in pairs),
        sum(a[i] == b[j] for i, j in pairs),
        len(pairs),
    )
    assert (0, 0) in pairs and (1, 1) in pairs


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(extents, st.sampled_from("XYZ")), max_size=10, unique=True),
    st.lists(st.tuples(extents, st.sampled_from("XYZ")), max_size=10, unique=True),
)
def test_matchings_drawn_from_shared_overlaps_equal_matching_from_scratch(
    a: list[tuple[Extent, str]], b: list[tuple[Extent, str]]
) -> None:
    """Span F1 sweeps two annotations once (sorted_overlaps) and draws the alignment
    (aligned_matching) and each label's matching (matching_size, on the edges joining two spans
    of that label, stacked extents included) from those edges; each must equal the matching
    computed from scratch, tie-breaks included."""
    a_extents = sorted({e for e, _ in a})
    b_extents = sorted({e for e, _ in b})
    edges = sorted_overlaps(a_extents, b_extents)
    assert edges == sorted(_overlapping_pairs(a_extents, b_extents))
    assert aligned_matching(a_extents, b_extents, edges) == overlap_matching(a_extents, b_extents)
    for label in "XYZ":
        mine = sorted({e for e, lab in a if lab == label})
        theirs = sorted({e for e, lab in b if lab == label})
        shared = [
            (i, j, w)
            for i, j, w in edges
            if (a_extents[i], label) in set(a) and (b_extents[j], label) in set(b)
        ]
        assert matching_size(a_extents, b_extents, shared) == len(overlap_matching(mine, theirs))


@given(
    st.sampled_from(("shared span in a", "shared span in b")),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(1, 3)),
)
def test_a_cluster_of_two_edges_is_matched_as_the_tree_programme_matches_it(
    shape: str, numbers: tuple[int, int, int, int]
) -> None:
    """Weights drawn from 1..3, so ties are frequent: the shortcut must break them the same way."""
    from projects.domain.agreement.matching import _better_of_two, _tree_matching

    x, y, w1, w2 = numbers
    if shape == "shared span in a":
        first, second = (x, y, w1), (x, y + 1, w2)
    else:
        first, second = (x, y, w1), (x + 1, y, w2)
    assert [_better_of_two(first, second)] == _tree_matching([first, second])


@given(
    st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    st.permutations(range(4)),
)
def test_two_by_two_overlapping_spans_are_matched_as_the_assignment_algorithm_matches_them(
    weights: tuple[int, int, int, int], order: list[int]
) -> None:
    """Small weights, so both pairings often tie; the shortcut must pick the same one, whatever
    the order of the edges."""
    from projects.domain.agreement.matching import _assignment_matching, _best_of_square

    cells = [(3, 5), (3, 8), (7, 5), (7, 8)]
    edges = [(*cells[k], weights[k]) for k in order]
    assert sorted(_best_of_square(edges)) == sorted(_assignment_matching(edges))
