"""Krippendorff's unitizing alpha (alpha_U) as DKPro Agreement computes it (AGREEMENT.md §3.1).

One binary study per label: an annotator's continuum is cut into that label's units and the gaps
between them. ``D_o`` compares every segment of one annotator with every intersecting segment of
another; ``D_e`` is DKPro's closed form over all units and gaps. The overall value is
``1 - mean_c D_o(c) / mean_c D_e(c)`` over the labels that occur, not a mean of label alphas.

Conventions (rules 2-5 of AGREEMENT.md):

* Same-label overlapping units of one annotator are undefined for alpha_U; as INCEpTION does, the
  first unit in start order (the longest on ties) is kept and those overlapping it are dropped,
  and the number dropped is reported.
* Per document, the continuum is the whole text, ``[0, text_length)``.
* The corpus figure concatenates the documents into one continuum, so an annotator's trailing gap
  in one document merges with their leading gap in the next. ``D_o`` is a sum of terms that never
  cross a document boundary, so it is accumulated per document, and ``D_e`` needs only the unit
  and gap *length histograms*: the corpus is streamed in memory bounded by the number of distinct
  lengths, and ``sum over gaps at least as long as u`` is a suffix sum, not a nested loop.
* DKPro assumes every rater covers the whole continuum. When annotator sets differ between
  documents, each annotator's continuum is the concatenation of the documents they submitted,
  ``m L`` becomes the total rater length ``T = sum_d m_d L_d`` and ``m (m-1) L^2`` becomes
  ``L * sum_d m_d (m_d - 1) L_d``; both reduce to DKPro's figures when every annotator submitted
  every document. Documents with fewer than two annotators stay out of the corpus continuum
  (they would add expected disagreement without any observed comparison).
* 0/0 (no units, one annotator, no expected disagreement) is undefined, where DKPro returns NaN,
  0.0 or 1.0 depending on the case.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, combinations

from projects.domain.agreement.records import AnnotatedDocument, Extent, Span
from projects.domain.agreement.results import Measure, defined, undefined

__all__ = [
    "DocumentAlphaU",
    "LabelAlphaU",
    "UnitizingAccumulator",
    "UnitizingReport",
    "UnitizingResult",
    "filter_same_label_overlaps",
    "unitizing_alpha",
    "unitizing_alpha_document",
]

_FEW_ANNOTATORS = "fewer than two annotators submitted the document"
_NO_UNITS = "no annotator marked any span (no units)"
_NO_EXPECTED = "no expected disagreement (0/0)"


@dataclass(frozen=True)
class LabelAlphaU:
    """alpha_U of one label's binary study; ``alpha.n`` counts that label's units."""

    alpha: Measure
    observed: float
    expected: float


@dataclass(frozen=True)
class UnitizingResult:
    """alpha_U on one continuum (a document, or the concatenated corpus).

    ``alpha.n`` counts the units after filtering; ``dropped`` the same-label overlapping units
    removed first (rule 5); ``coverage`` is the share of the annotators' text covered by their
    spans (alpha_U depends strongly on it, so it is shown beside it).
    """

    alpha: Measure
    per_label: Mapping[str, LabelAlphaU]
    annotators: int
    length: int
    units: int
    dropped: int
    coverage: float | None


@dataclass(frozen=True)
class DocumentAlphaU:
    doc_id: str
    result: UnitizingResult


@dataclass(frozen=True)
class UnitizingReport:
    """The corpus figure (concatenated continuum) and every document's own, worst first."""

    concatenated: UnitizingResult
    per_document: tuple[DocumentAlphaU, ...]


def filter_same_label_overlaps(extents: Iterable[Extent]) -> tuple[list[Extent], int]:
    """INCEpTION's filter for one annotator and label: keep first (longest on ties), drop overlaps.

    Returns the kept extents in start order and how many were dropped.
    """
    kept: list[Extent] = []
    dropped = 0
    kept_end = -1
    for start, end in sorted(extents, key=lambda e: (e[0], -e[1])):
        if start < kept_end:
            dropped += 1
            continue
        kept.append((start, end))
        kept_end = end
    return kept, dropped


def _units_by_label(
    spans: Sequence[Span], annotators: Sequence[str]
) -> tuple[dict[str, dict[str, list[Extent]]], int]:
    """label -> annotator -> filtered units (every present annotator, possibly with none)."""
    raw: dict[str, dict[str, list[Extent]]] = {}
    for span in spans:
        raw.setdefault(span.label, {}).setdefault(span.annotator, []).append(span.extent)
    dropped = 0
    units: dict[str, dict[str, list[Extent]]] = {}
    for label, by_annotator in raw.items():
        units[label] = {}
        for annotator in annotators:
            kept, lost = filter_same_label_overlaps(by_annotator.get(annotator, ()))
            units[label][annotator] = kept
            dropped += lost
    return units, dropped


def _segments(units: Sequence[Extent], length: int) -> list[tuple[int, int, bool]]:
    """The continuum ``[0, length)`` cut into units (``True``) and the gaps between them."""
    segments: list[tuple[int, int, bool]] = []
    position = 0
    for start, end in units:
        if start > position:
            segments.append((position, start, False))
        segments.append((start, end, True))
        position = end
    if position < length:
        segments.append((position, length, False))
    return segments


def _pair_disagreement(
    first: list[tuple[int, int, bool]], second: list[tuple[int, int, bool]]
) -> int:
    """Sum of ``delta^2`` over intersecting segment pairs of two annotators (one order)."""
    total = 0
    p = q = 0
    while p < len(first) and q < len(second):
        b_g, e_g, unit_g = first[p]
        b_h, e_h, unit_h = second[q]
        if unit_g and unit_h:
            total += (b_g - b_h) ** 2 + (e_g - e_h) ** 2
        elif unit_g and b_g >= b_h and e_g <= e_h:
            total += (e_g - b_g) ** 2
        elif unit_h and b_h >= b_g and e_h <= e_g:
            total += (e_h - b_h) ** 2
        if e_g <= e_h:
            p += 1
        if e_h <= e_g:
            q += 1
    return total


def _expected_numerator(units: Mapping[int, int], gaps: Mapping[int, int]) -> int:
    """``sum_u [(N_c - 1)(2l^3 - 3l^2 + l)/3 + l^2 sum_{g >= l} (g - l + 1)]`` in integers.

    ``units`` and ``gaps`` are length histograms. ``2l^3 - 3l^2 + l = l(l-1)(2l-1)`` is six times
    a sum of squares, so the division by 3 is exact.
    """
    n_units = sum(units.values())
    lengths = sorted(gaps)
    # Suffix sums over gap lengths: count and total length of gaps at least as long as index i.
    counts = list(accumulate((gaps[g] for g in reversed(lengths)), initial=0))[::-1]
    totals = list(accumulate((gaps[g] * g for g in reversed(lengths)), initial=0))[::-1]
    numerator = 0
    for length, how_many in units.items():
        i = bisect_left(lengths, length)
        in_gaps = totals[i] - (length - 1) * counts[i]
        own = (n_units - 1) * length * (length - 1) * (2 * length - 1) // 3
        numerator += how_many * (own + length * length * in_gaps)
    return numerator


def _combine(
    per_label: dict[str, tuple[int, int, int, int]],
    *,
    length: int,
    pair_norm: int,
    rater_length: int,
) -> tuple[Measure, dict[str, LabelAlphaU]]:
    """Turn each label's (observed sum, expected numerator, squared lengths, units) into alphas."""
    labels: dict[str, LabelAlphaU] = {}
    sum_observed = sum_expected = 0.0
    total_units = 0
    for label in sorted(per_label):
        observed_sum, expected_num, squared, units = per_label[label]
        total_units += units
        d_o = 2 * observed_sum / (pair_norm * length)
        denominator = length * (rater_length * (rater_length - 1) - squared)
        d_e = 2 * expected_num / denominator if denominator else 0.0
        sum_observed += d_o
        sum_expected += d_e
        alpha = (
            defined(1 - d_o / d_e, units)
            if expected_num and denominator
            else undefined(_NO_EXPECTED, units)
        )
        labels[label] = LabelAlphaU(alpha, d_o, d_e)
    if not labels:
        return undefined(_NO_UNITS, 0), labels
    if sum_expected == 0:
        return undefined(_NO_EXPECTED, total_units), labels
    return defined(1 - sum_observed / sum_expected, total_units), labels


def _coverage(spans: Sequence[Span]) -> int:
    """Code points covered by any span, summed over annotators (each annotator's union)."""
    by_annotator: dict[str, list[Extent]] = {}
    for span in spans:
        by_annotator.setdefault(span.annotator, []).append(span.extent)
    covered = 0
    for extents in by_annotator.values():
        reach = -1
        for start, end in sorted(extents):
            if end > reach:
                covered += end - max(start, reach)
                reach = end
    return covered


class UnitizingAccumulator:
    """Streams documents; computes each document's alpha_U and the concatenated corpus figure."""

    def __init__(self) -> None:
        self.per_document: list[DocumentAlphaU] = []
        self._length = 0  # L of the corpus continuum
        self._rater_length = 0  # T = sum_d m_d L_d
        self._pair_norm = 0  # sum_d m_d (m_d - 1) L_d
        self._covered = 0
        self._dropped = 0
        self._annotators: set[str] = set()
        self._observed: Counter[str] = Counter()
        self._units: dict[str, Counter[int]] = {}
        self._gaps: dict[str, Counter[int]] = {}
        self._position: dict[str, int] = {}  # end of each annotator's own continuum so far
        self._gap_start: dict[tuple[str, str], int] = {}  # (annotator, label) -> open gap start

    def add(self, document: AnnotatedDocument) -> UnitizingResult:
        length = document.text_length
        annotators = document.annotators
        m = len(annotators)
        units, dropped = _units_by_label(document.spans, annotators)
        covered = _coverage(document.spans)
        coverage = covered / (m * length) if m and length else None
        n_units = sum(len(u) for by in units.values() for u in by.values())
        if m < 2:
            result = UnitizingResult(
                undefined(_FEW_ANNOTATORS, n_units), {}, m, length, n_units, dropped, coverage
            )
            self.per_document.append(DocumentAlphaU(document.doc_id, result))
            return result
        per_label: dict[str, tuple[int, int, int, int]] = {}
        for label, by_annotator in units.items():
            segments = {a: _segments(by_annotator[a], length) for a in annotators}
            observed = sum(
                _pair_disagreement(segments[a], segments[b])
                for a, b in combinations(annotators, 2)
                if by_annotator[a] or by_annotator[b]
            )
            unit_lengths: dict[int, int] = {}
            gap_lengths: dict[int, int] = {}
            for pieces in segments.values():
                for start, end, is_unit in pieces:
                    lengths = unit_lengths if is_unit else gap_lengths
                    lengths[end - start] = lengths.get(end - start, 0) + 1
            squared = sum(n * size * (size - 1) for size, n in unit_lengths.items())
            per_label[label] = (
                observed,
                _expected_numerator(unit_lengths, gap_lengths),
                squared,
                sum(unit_lengths.values()),
            )
            self._observed[label] += observed
            self._add_to_corpus(label, by_annotator)
        alpha, labels = _combine(
            per_label, length=length, pair_norm=m * (m - 1) * length, rater_length=m * length
        )
        result = UnitizingResult(alpha, labels, m, length, n_units, dropped, coverage)
        self.per_document.append(DocumentAlphaU(document.doc_id, result))
        self._length += length
        self._rater_length += m * length
        self._pair_norm += m * (m - 1) * length
        self._covered += covered
        self._dropped += dropped
        self._annotators.update(annotators)
        for annotator in annotators:
            self._position[annotator] = self._position.get(annotator, 0) + length
        return result

    def _add_to_corpus(self, label: str, by_annotator: Mapping[str, list[Extent]]) -> None:
        """Record units and the gaps they close on each annotator's concatenated continuum."""
        unit_lengths = self._units.setdefault(label, Counter())
        gap_lengths = self._gaps.setdefault(label, Counter())
        for annotator, extents in by_annotator.items():
            base = self._position.get(annotator, 0)
            key = (annotator, label)
            gap_start = self._gap_start.get(key, 0)
            for start, end in extents:
                if base + start > gap_start:
                    gap_lengths[base + start - gap_start] += 1
                unit_lengths[end - start] += 1
                gap_start = base + end
            self._gap_start[key] = gap_start

    def report(self) -> UnitizingReport:
        per_label: dict[str, tuple[int, int, int, int]] = {}
        for label, unit_lengths in self._units.items():
            gap_lengths = Counter(self._gaps[label])
            for annotator, position in self._position.items():
                trailing = position - self._gap_start.get((annotator, label), 0)
                if trailing > 0:
                    gap_lengths[trailing] += 1
            squared = sum(n * size * (size - 1) for size, n in unit_lengths.items())
            per_label[label] = (
                self._observed[label],
                _expected_numerator(unit_lengths, gap_lengths),
                squared,
                sum(unit_lengths.values()),
            )
        n_units = sum(entry[3] for entry in per_label.values())
        labels: dict[str, LabelAlphaU]
        if not self._pair_norm:
            alpha, labels = undefined("no document has two or more annotators", n_units), {}
        else:
            alpha, labels = _combine(
                per_label,
                length=self._length,
                pair_norm=self._pair_norm,
                rater_length=self._rater_length,
            )
        concatenated = UnitizingResult(
            alpha,
            labels,
            len(self._annotators),
            self._length,
            n_units,
            self._dropped,
            self._covered / self._rater_length if self._rater_length else None,
        )
        return UnitizingReport(concatenated, tuple(sorted(self.per_document, key=_worst_first)))


def _worst_first(entry: DocumentAlphaU) -> tuple[bool, float]:
    value = entry.result.alpha.value
    return (value is None, value if value is not None else 0.0)


def unitizing_alpha_document(document: AnnotatedDocument) -> UnitizingResult:
    """alpha_U of one document on its whole text."""
    return UnitizingAccumulator().add(document)


def unitizing_alpha(documents: Iterable[AnnotatedDocument]) -> UnitizingReport:
    """alpha_U per document and on the concatenated corpus, in one pass over ``documents``."""
    accumulator = UnitizingAccumulator()
    for document in documents:
        accumulator.add(document)
    return accumulator.report()
