"""Agreement on coded items: document stance, and span attributes on aligned span pairs.

An *item* is whatever received labels (a document for stance, an aligned span pair for an
attribute); it is given as a mapping ``annotator -> value``, where ``None`` or a left-out
annotator means *missing* (never a label). Formulas and conventions are those of AGREEMENT.md §2.

Everything is accumulated as a count of distinct *item signatures* (who said what on one item):
every coefficient here depends only on those counts, real data repeats the same few signatures
over and over, so adding an item costs one dictionary update and the figures are computed from a
handful of distinct signatures at the end. Sums are kept in integers (or fractions) until the last
division, so "is this 0/0?" is decided exactly, never by comparing floats with a tolerance.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from numbers import Real
from operator import itemgetter
from typing import Literal

from projects.domain.agreement.results import Measure, defined, ratio, undefined

__all__ = [
    "AlphaResult",
    "CodingAccumulator",
    "CodingReport",
    "FleissResult",
    "KappaResult",
    "Level",
    "Signature",
    "coding_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "observed_agreement",
    "pairwise_cohen_kappa",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
#: One item as ``((annotator, value), ...)`` sorted by annotator: who said what, nothing missing.
Signature = tuple[tuple[str, Hashable], ...]

_NO_PAIRABLE = "no item has values from two or more annotators"
_ONE_VALUE = "every pairable value is the same, so there is no disagreement to expect (0/0)"
_first = itemgetter(0)


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha (§2.4); ``alpha.n`` counts the pairable values.

    ``observed`` and ``expected`` are ``D_o`` and ``D_e`` (``None`` when there is nothing pairable).
    """

    alpha: Measure
    level: Level
    observed: float | None
    expected: float | None
    pairable_items: int


@dataclass(frozen=True)
class KappaResult:
    """Cohen's kappa for one pair of annotators on the items both labelled (§2.2).

    Scott's pi comes free with the same counts; it differs from kappa only when the two
    annotators' label distributions differ, which is worth seeing next to it.
    ``kappa.n`` counts the items both annotators labelled.
    """

    annotators: tuple[str, str]
    kappa: Measure
    observed: Measure
    expected: float | None
    scott_pi: Measure


@dataclass(frozen=True)
class FleissResult:
    """Fleiss' kappa (§2.3), defined only when every item has the same number ``m`` of labels.

    ``observed`` is ``P̄`` and ``expected`` is ``P_e``; ``per_value`` holds Fleiss' per-category
    kappas. ``kappa.n`` counts the items.
    """

    kappa: Measure
    labels_per_item: int | None
    observed: float | None
    expected: float | None
    per_value: Mapping[Hashable, Measure] = field(default_factory=dict)


@dataclass(frozen=True)
class CodingReport:
    """Every coding figure for one set of items (one stance target, or one span attribute).

    ``per_value_alpha`` is nominal alpha with the data binarised (value vs everything else), to
    find which label is unreliable (§2.5). ``pairwise_cohen`` is keyed by annotator pairs in sorted
    order; there is deliberately no single multi-annotator "Cohen's kappa" (§2.2).
    """

    items: int
    pairable_items: int
    observed_agreement: Measure
    alpha: AlphaResult
    per_value_alpha: Mapping[Hashable, Measure]
    fleiss: FleissResult
    pairwise_cohen: Mapping[tuple[str, str], KappaResult]


def _signature(item: Mapping[str, Hashable | None]) -> Signature:
    return tuple(sorted(((a, v) for a, v in item.items() if v is not None), key=_first))


class CodingAccumulator:
    """Collects items one at a time (streaming) and computes every coding figure at the end."""

    def __init__(self) -> None:
        self.signatures: Counter[Signature] = Counter()

    def add(self, item: Mapping[str, Hashable | None]) -> None:
        """Add one item; annotators mapped to ``None`` (or left out) are missing."""
        signature = _signature(item)
        if signature:
            self.signatures[signature] += 1

    def add_signature(self, signature: Signature) -> None:
        """Add an item already in canonical form (sorted by annotator, no missing values)."""
        if signature:
            self.signatures[signature] += 1

    def report(
        self, *, level: Level = "nominal", order: Sequence[Hashable] | None = None
    ) -> CodingReport:
        tally = _Tally(self.signatures)
        return CodingReport(
            items=tally.items,
            pairable_items=tally.pairable_items,
            observed_agreement=tally.observed_agreement(),
            alpha=tally.alpha(level, order),
            per_value_alpha=tally.per_value_alpha(),
            fleiss=tally.fleiss(),
            pairwise_cohen=tally.pairwise_cohen(),
        )


class _Tally:
    """The sums behind every formula of §2, computed once from the signature counts."""

    def __init__(self, signatures: Mapping[Signature, int]) -> None:
        self.items = 0
        self.pairable_items = 0
        self.sizes: set[int] = set()
        # n_c: pairable values per label.
        self.value_counts: Counter[Hashable] = Counter()
        # Coincidences, kept per item size m so the division by (m - 1) stays exact:
        # (m, c, k) -> sum over items of n_uc * n_uk (or n_uc * (n_uc - 1) when c == k).
        self.coincidences: Counter[tuple[int, Hashable, Hashable]] = Counter()
        # m -> (sum over items of sum_k n_uk (n_uk - 1), number of items).
        self.agreeing_pairs: Counter[int] = Counter()
        self.items_by_size: Counter[int] = Counter()
        # (m, k) -> sum over items of n_uk (m - n_uk): disagreement of label k against the rest.
        self.binary_disagreement: Counter[tuple[int, Hashable]] = Counter()
        self.pairs: defaultdict[tuple[str, str], Counter[tuple[Hashable, Hashable]]] = defaultdict(
            Counter
        )
        for signature, weight in signatures.items():
            self._add(signature, weight)

    def _add(self, signature: Signature, weight: int) -> None:
        m = len(signature)
        if m == 0:
            return
        self.items += weight
        self.sizes.add(m)
        for (a, va), (b, vb) in combinations(signature, 2):
            self.pairs[(a, b)][(va, vb)] += weight
        if m < 2:
            return
        self.pairable_items += weight
        self.items_by_size[m] += weight
        counts = Counter(v for _, v in signature)
        agreeing = 0
        for c, n_c in counts.items():
            self.value_counts[c] += weight * n_c
            agreeing += n_c * (n_c - 1)
            self.binary_disagreement[(m, c)] += weight * n_c * (m - n_c)
            for k, n_k in counts.items():
                self.coincidences[(m, c, k)] += weight * n_c * (n_k - 1 if c == k else n_k)
        self.agreeing_pairs[m] += weight * agreeing

    # §2.1
    def observed_agreement(self) -> Measure:
        if not self.pairable_items:
            return undefined(_NO_PAIRABLE, 0)
        total = sum(
            (Fraction(agreeing, m * (m - 1)) for m, agreeing in self.agreeing_pairs.items()),
            Fraction(0),
        )
        return defined(total / self.pairable_items, self.pairable_items)

    # §2.4
    def alpha(self, level: Level, order: Sequence[Hashable] | None) -> AlphaResult:
        n = sum(self.value_counts.values())
        if n == 0:
            return AlphaResult(undefined(_NO_PAIRABLE, 0), level, None, None, 0)
        if level == "nominal":
            # Exact: D_o = (1/n) sum_{c != k} o_ck and D_e = (n^2 - sum n_c^2) / (n (n - 1)).
            disagreeing = sum(
                (
                    Fraction(count, m - 1)
                    for (m, c, k), count in self.coincidences.items()
                    if c != k
                ),
                Fraction(0),
            )
            d_o = disagreeing / n
            d_e = Fraction(n * n - sum(v * v for v in self.value_counts.values()), n * (n - 1))
        else:
            delta = _difference_function(level, order, self.value_counts)
            d_o_float = (
                sum(count / (m - 1) * delta(c, k) for (m, c, k), count in self.coincidences.items())
                / n
            )
            d_e_float = sum(
                n_c * n_k * delta(c, k)
                for c, n_c in self.value_counts.items()
                for k, n_k in self.value_counts.items()
            ) / (n * (n - 1))
            d_o, d_e = Fraction(d_o_float), Fraction(d_e_float)
        if d_e == 0:
            return AlphaResult(
                undefined(_ONE_VALUE, n), level, float(d_o), 0.0, self.pairable_items
            )
        return AlphaResult(
            defined(1 - d_o / d_e, n), level, float(d_o), float(d_e), self.pairable_items
        )

    # §2.5
    def per_value_alpha(self) -> dict[Hashable, Measure]:
        n = sum(self.value_counts.values())
        result: dict[Hashable, Measure] = {}
        for value, n_k in self.value_counts.items():
            if n_k == n:
                result[value] = undefined(_ONE_VALUE, n)
                continue
            disagreeing = sum(
                (
                    Fraction(count, m - 1)
                    for (m, k), count in self.binary_disagreement.items()
                    if k == value
                ),
                Fraction(0),
            )
            # alpha = 1 - D_o / D_e with D_o = 2 * disagreeing / n, D_e = 2 n_k (n - n_k) / (n(n-1))
            result[value] = defined(1 - disagreeing * (n - 1) / (n_k * (n - n_k)), n)
        return result

    # §2.3
    def fleiss(self) -> FleissResult:
        if not self.items:
            return FleissResult(undefined("no item has any value", 0), None, None, None)
        if len(self.sizes) != 1:
            sizes = ", ".join(str(s) for s in sorted(self.sizes))
            reason = f"items have different numbers of labels ({sizes}); Fleiss needs the same"
            return FleissResult(undefined(reason, self.items), None, None, None)
        (m,) = self.sizes
        if m < 2:
            return FleissResult(undefined(_NO_PAIRABLE, self.items), m, None, None)
        items = self.items
        raters = items * m
        squares = sum(t * t for t in self.value_counts.values())
        p_bar = Fraction(self.agreeing_pairs[m], items * m * (m - 1))
        p_e = Fraction(squares, raters * raters)
        per_value: dict[Hashable, Measure] = {}
        for value, total in self.value_counts.items():
            if total == raters:
                per_value[value] = undefined(_ONE_VALUE, items)
                continue
            # kappa_k = 1 - sum_u n_uk (m - n_uk) / (N m (m - 1) p_k q_k), all in integers.
            disagreement = self.binary_disagreement[(m, value)]
            per_value[value] = defined(
                1 - Fraction(disagreement * raters, (m - 1) * total * (raters - total)), items
            )
        if p_e == 1:
            return FleissResult(undefined(_ONE_VALUE, items), m, float(p_bar), 1.0, per_value)
        kappa = (p_bar - p_e) / (1 - p_e)
        return FleissResult(defined(kappa, items), m, float(p_bar), float(p_e), per_value)

    # §2.2
    def pairwise_cohen(self) -> dict[tuple[str, str], KappaResult]:
        return {pair: _kappa_from_table(pair, table) for pair, table in sorted(self.pairs.items())}


def _kappa_from_table(
    annotators: tuple[str, str], table: Mapping[tuple[Hashable, Hashable], int]
) -> KappaResult:
    n = sum(table.values())
    if n == 0:
        nothing = undefined("the two annotators labelled no item in common", 0)
        return KappaResult(annotators, nothing, nothing, None, nothing)
    agree = sum(count for (a, b), count in table.items() if a == b)
    first: Counter[Hashable] = Counter()
    second: Counter[Hashable] = Counter()
    for (a, b), count in table.items():
        first[a] += count
        second[b] += count
    # P_e * n^2 for kappa (own marginals) and 4 n^2 P_e for pi (pooled marginals).
    chance = sum(first[k] * second[k] for k in first)
    pooled = sum((first[k] + second[k]) ** 2 for k in first.keys() | second.keys())
    reason = "both annotators used one and the same label on every item (P_e = 1, 0/0)"
    return KappaResult(
        annotators=annotators,
        kappa=ratio(n * agree - chance, n * n - chance, n, reason),
        observed=defined(agree / n, n),
        expected=chance / (n * n),
        scott_pi=ratio(4 * n * agree - pooled, 4 * n * n - pooled, n, reason),
    )


def _difference_function(
    level: Level, order: Sequence[Hashable] | None, frequencies: Mapping[Hashable, int]
) -> Callable[[Hashable, Hashable], float]:
    """``delta^2`` of §2.4 for the non-nominal levels."""
    if level in ("interval", "ratio"):
        numbers: dict[Hashable, float] = {}
        for value in frequencies:
            if not isinstance(value, Real) or isinstance(value, bool):
                raise ValueError(f"{level} alpha needs numeric values, got {value!r}")
            if level == "ratio" and value < 0:
                raise ValueError(f"ratio alpha needs non-negative values, got {value!r}")
            numbers[value] = float(value)
        if level == "interval":
            return lambda c, k: (numbers[c] - numbers[k]) ** 2

        def ratio_delta(c: Hashable, k: Hashable) -> float:
            x, y = numbers[c], numbers[k]
            return 0.0 if x == y else ((x - y) / (x + y)) ** 2

        return ratio_delta
    if level != "ordinal":
        raise ValueError(f"unknown level of measurement {level!r}")
    if order is None:
        try:
            ranked: list[Hashable] = sorted(frequencies)  # type: ignore[type-var]
        except TypeError as error:
            raise ValueError(
                "ordinal alpha needs comparable values or an explicit order"
            ) from error
    else:
        ranked = list(order)
        unknown = [v for v in frequencies if v not in set(ranked)]
        if unknown:
            raise ValueError(f"values {unknown!r} are not in the given order")
    rank = {value: index for index, value in enumerate(ranked)}
    cumulative = [0]
    for value in ranked:
        cumulative.append(cumulative[-1] + frequencies.get(value, 0))

    def ordinal_delta(c: Hashable, k: Hashable) -> float:
        low, high = sorted((rank[c], rank[k]))
        between = cumulative[high + 1] - cumulative[low]
        return float((between - (frequencies.get(c, 0) + frequencies.get(k, 0)) / 2) ** 2)

    return ordinal_delta


def _accumulate(items: Iterable[Mapping[str, Hashable | None]]) -> CodingAccumulator:
    accumulator = CodingAccumulator()
    for item in items:
        accumulator.add(item)
    return accumulator


def coding_agreement(
    items: Iterable[Mapping[str, Hashable | None]],
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
) -> CodingReport:
    """Every coding figure of §2 in one pass over ``items`` (``annotator -> value`` each)."""
    return _accumulate(items).report(level=level, order=order)


def observed_agreement(items: Iterable[Mapping[str, Hashable | None]]) -> Measure:
    """Mean pairwise percent agreement over items with two or more values (§2.1)."""
    return _Tally(_accumulate(items).signatures).observed_agreement()


def krippendorff_alpha(
    items: Iterable[Mapping[str, Hashable | None]],
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
) -> AlphaResult:
    """Krippendorff's alpha for any number of annotators with missing values (§2.4).

    ``order`` ranks the values for ``level="ordinal"`` (default: their natural sort order).
    """
    return _Tally(_accumulate(items).signatures).alpha(level, order)


def fleiss_kappa(items: Iterable[Mapping[str, Hashable | None]]) -> FleissResult:
    """Fleiss' kappa (multi-rater Scott's pi); undefined unless every item has ``m`` labels."""
    return _Tally(_accumulate(items).signatures).fleiss()


def pairwise_cohen_kappa(
    items: Iterable[Mapping[str, Hashable | None]],
) -> dict[tuple[str, str], KappaResult]:
    """Cohen's kappa for every annotator pair, each on the items that pair both labelled."""
    return _Tally(_accumulate(items).signatures).pairwise_cohen()


def cohen_kappa(
    pairs: Iterable[tuple[Hashable, Hashable]], *, annotators: tuple[str, str] = ("A", "B")
) -> KappaResult:
    """Cohen's kappa for two annotators from ``(label of A, label of B)`` per item."""
    table: Counter[tuple[Hashable, Hashable]] = Counter(pairs)
    return _kappa_from_table(annotators, table)
