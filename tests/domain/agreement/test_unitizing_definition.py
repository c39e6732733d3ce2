"""alpha_U against a literal, quadratic transcription of the AGREEMENT.md §3.1 formulas."""

from __future__ import annotations

from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projects.domain.agreement import (
    AnnotatedDocument,
    Span,
    filter_same_label_overlaps,
    unitizing_alpha_document,
)

Segment = tuple[int, int, bool]


def segments(units: list[tuple[int, int]], length: int) -> list[Segment]:
    result: list[Segment] = []
    position = 0
    for start, end in units:
        if start > position:
            result.append((position, start, False))
        result.append((start, end, True))
        position = end
    if position < length:
        result.append((position, length, False))
    return result


def delta(g: Segment, h: Segment) -> int:
    (b_g, e_g, unit_g), (b_h, e_h, unit_h) = g, h
    if not (b_g < e_h and b_h < e_g):
        return 0
    if unit_g and unit_h:
        return (b_g - b_h) ** 2 + (e_g - e_h) ** 2
    if unit_g and not unit_h and b_h <= b_g and e_g <= e_h:
        return (e_g - b_g) ** 2
    if unit_h and not unit_g and b_g <= b_h and e_h <= e_g:
        return (e_h - b_h) ** 2
    return 0


def literal_alpha_u(document: AnnotatedDocument) -> float | None:
    """Every formula exactly as written, with every segment compared with every segment."""
    m, length = len(document.annotators), document.text_length
    observed = expected = 0.0
    labels = sorted({s.label for s in document.spans})
    for label in labels:
        units = {
            a: filter_same_label_overlaps(
                s.extent for s in document.spans if s.annotator == a and s.label == label
            )[0]
            for a in document.annotators
        }
        cut = {a: segments(units[a], length) for a in document.annotators}
        d_o = sum(
            delta(g, h)
            for i, j in permutations(document.annotators, 2)
            for g in cut[i]
            for h in cut[j]
        ) / (m * (m - 1) * length**2)
        all_units = [e - b for a in units for b, e in units[a]]
        gaps = [e - b for a in cut for b, e, is_unit in cut[a] if not is_unit]
        n_c = len(all_units)
        numerator = sum(
            (n_c - 1) * (2 * u**3 - 3 * u**2 + u) / 3
            + u**2 * sum(g - u + 1 for g in gaps if g >= u)
            for u in all_units
        )
        d_e = (
            (2 / length)
            * numerator
            / (m * length * (m * length - 1) - sum(u * (u - 1) for u in all_units))
        )
        observed += d_o
        expected += d_e
    if not labels or expected == 0:
        return None
    return 1 - observed / expected


@st.composite
def documents(draw: st.DrawFn) -> AnnotatedDocument:
    length = draw(st.integers(1, 50))
    names = ("A", "B", "C")[: draw(st.integers(2, 3))]
    spans = []
    for name in names:
        for _ in range(draw(st.integers(0, 5))):
            start = draw(st.integers(0, length - 1))
            end = draw(st.integers(start + 1, length))
            spans.append(Span("d", name, start, end, draw(st.sampled_from("xy"))))
    return AnnotatedDocument("d", length, names, tuple(spans))


@settings(max_examples=300, deadline=None)
@given(documents())
def test_alpha_u_matches_the_formulas_of_the_design_document_transcribed_literally(
    document: AnnotatedDocument,
) -> None:
    expected = literal_alpha_u(document)
    actual = unitizing_alpha_document(document).alpha
    if expected is None:
        assert actual.value is None and actual.reason
    else:
        assert actual.value == pytest.approx(expected, rel=1e-9, abs=1e-9)


def segment_walk(first: list[Segment], second: list[Segment]) -> int:
    """D_o's sum for one ordered pair, walking every intersecting pair of segments."""
    total = p = q = 0
    while p < len(first) and q < len(second):
        total += delta(first[p], second[q])
        if first[p][1] <= second[q][1]:
            p += 1
        else:
            q += 1
    return total


units_of = st.lists(st.tuples(st.integers(0, 39), st.integers(1, 12)), max_size=8).map(
    lambda rows: filter_same_label_overlaps((s, min(40, s + n)) for s, n in rows)[0]
)


@settings(max_examples=500, deadline=None)
@given(units_of, units_of)
def test_observed_disagreement_from_units_alone_equals_the_segment_walk(
    first: list[tuple[int, int]], second: list[tuple[int, int]]
) -> None:
    """The accumulator walks units only (a unit meeting no unit lies in a gap); exact integers."""
    from projects.domain.agreement.unitizing import _observed

    walked = segment_walk(segments(first, 40), segments(second, 40))
    assert _observed(first, second) == walked == _observed(second, first)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(1, 30), max_size=12), st.lists(st.integers(1, 30), max_size=12))
def test_expected_numerator_from_length_lists_equals_the_histogram_form(
    units: list[int], gaps: list[int]
) -> None:
    from collections import Counter

    from projects.domain.agreement.unitizing import _expected_numerator, _expected_numerator_of

    assert _expected_numerator_of(units, list(gaps)) == _expected_numerator(
        Counter(units), Counter(gaps)
    )
