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
from itertools import accumulate

from projects.domain.agreement.records import AnnotatedDocument, Extent
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


def _observed(first: Sequence[Extent], second: Sequence[Extent]) -> int:
    """Sum of ``delta^2`` over intersecting segments of two annotators' filtered units (one order).

    Only a unit meets a non-zero ``delta``: against each unit of the other side it intersects
    (the squared boundary differences) or, when it intersects none, against the gap that then
    contains it (its squared length); gaps against gaps, and a unit against a gap it only
    partly covers, count 0. So it is enough to walk the units of both sides, never the gaps.
    Both lists are in start order and free of overlaps (filtered), so their ends rise too.
    """
    total = sum((end - start) ** 2 for start, end in second)  # until a unit of first meets one
    size = len(second)
    low = 0
    last = -1  # the last unit of second met: meetings come in index order, a unit can meet two
    for start, end in first:
        while low < size and second[low][1] <= start:
            low += 1
        k = low
        while k < size:
            other_start, other_end = second[k]
            if other_start >= end:
                break
            total += (start - other_start) ** 2 + (end - other_end) ** 2
            if k != last:
                total -= (other_end - other_start) ** 2
                last = k
            k += 1
        if k == low:
            total += (end - start) ** 2
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


def _expected_numerator_of(units: list[int], gaps: list[int]) -> int:
    """:func:`_expected_numerator` of one document, from plain lists of lengths (a document has
    few units and gaps, mostly of distinct lengths: counting them first costs more)."""
    gaps.sort()
    n_gaps = len(gaps)
    # below[i]: total length of the i shortest gaps
    below = list(accumulate(gaps, initial=0))
    everything = below[-1]
    n_units = len(units)
    numerator = 0
    for length in units:
        i = bisect_left(gaps, length)
        in_gaps = everything - below[i] - (length - 1) * (n_gaps - i)
        own = (n_units - 1) * length * (length - 1) * (2 * length - 1) // 3
        numerator += own + length * length * in_gaps
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
        raw: dict[str, dict[str, list[Extent]]] = {}
        everything: dict[str, list[Extent]] = {}
        for span in document.spans:
            extent = (span.start, span.end)
            by_annotator = raw.get(span.label)
            if by_annotator is None:
                by_annotator = raw[span.label] = {}
            mine = by_annotator.get(span.annotator)
            if mine is None:
                by_annotator[span.annotator] = [extent]
            else:
                mine.append(extent)
            mine = everything.get(span.annotator)
            if mine is None:
                everything[span.annotator] = [extent]
            else:
                mine.append(extent)
        # coverage: code points covered by any span, each annotator's union
        covered = 0
        for extents in everything.values():
            reach = -1
            for start, end in sorted(extents):
                if end > reach:
                    covered += end - max(start, reach)
                    reach = end
        coverage = covered / (m * length) if m and length else None
        # label -> each present annotator's filtered units, in the order of ``annotators``
        units: dict[str, list[list[Extent]]] = {}
        dropped = n_units = 0
        for label, by_annotator in raw.items():
            lists = units[label] = []
            for annotator in annotators:
                extents = by_annotator.get(annotator)
                if extents is None:
                    lists.append([])
                    continue
                if len(extents) > 1:
                    extents, lost = filter_same_label_overlaps(extents)
                    dropped += lost
                lists.append(extents)
                n_units += len(extents)
        if m < 2:
            result = UnitizingResult(
                undefined(_FEW_ANNOTATORS, n_units), {}, m, length, n_units, dropped, coverage
            )
            self.per_document.append(DocumentAlphaU(document.doc_id, result))
            return result
        per_label: dict[str, tuple[int, int, int, int]] = {}
        positions, gap_starts = self._position, self._gap_start
        for label, lists in units.items():
            observed = 0
            for x in range(m - 1):
                first = lists[x]
                for y in range(x + 1, m):
                    if first or lists[y]:
                        observed += _observed(first, lists[y])
            # Unit and gap lengths, of this document's continuum and of each annotator's
            # concatenated one (where a leading gap joins the gap left open before).
            unit_lengths: list[int] = []
            gap_lengths: list[int] = []
            corpus_gaps: list[int] = []
            for annotator, extents in zip(annotators, lists, strict=True):
                if not extents:
                    if length:
                        gap_lengths.append(length)
                    continue
                key = (annotator, label)
                base = positions.get(annotator, 0)
                start, position = extents[0]
                unit_lengths.append(position - start)
                if start:
                    gap_lengths.append(start)
                open_gap = base + start - gap_starts.get(key, 0)
                if open_gap > 0:
                    corpus_gaps.append(open_gap)
                for start, end in extents[1:]:
                    if start > position:
                        gap_lengths.append(start - position)
                        corpus_gaps.append(start - position)
                    unit_lengths.append(end - start)
                    position = end
                if position < length:
                    gap_lengths.append(length - position)
                gap_starts[key] = base + position
            squared = sum(size * (size - 1) for size in unit_lengths)
            per_label[label] = (
                observed,
                _expected_numerator_of(unit_lengths, gap_lengths),
                squared,
                len(unit_lengths),
            )
            self._observed[label] += observed
            corpus_units = self._units.get(label)
            if corpus_units is None:
                corpus_units = self._units[label] = Counter()
                self._gaps[label] = Counter()
            corpus_units.update(unit_lengths)
            self._gaps[label].update(corpus_gaps)
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
            positions[annotator] = positions.get(annotator, 0) + length
        return result

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
