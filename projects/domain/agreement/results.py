"""The result type every agreement figure is reported in, and the arithmetic shared by measures.

A coefficient that is mathematically undefined (0/0: one annotator, a single label, no units) is
reported as undefined *with its reason*. Established implementations disagree here (NLTK says 1.0,
scikit-learn ``nan``, DKPro throws, nervaluate says 0), and any number we made up would be read by
a project lead as a verdict on the dataset. ``n`` is always the sample behind the figure, so a
perfect score on three items never looks like a perfect score on three thousand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Measure", "defined", "mean_of", "ratio", "undefined"]


@dataclass(frozen=True, slots=True)
class Measure:
    """One figure: ``value`` (``None`` if undefined), its sample size ``n``, and why it is missing.

    What ``n`` counts is stated by each measure (pairable values, items, spans, annotator pairs).
    Exactly one of ``value`` and ``reason`` is set, so a caller can never mistake an undefined
    figure for 0.
    """

    value: float | None
    n: int
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError("a Measure has either a value or a reason for having none")

    @property
    def is_defined(self) -> bool:
        return self.value is not None


def defined(value: float | Fraction, n: int) -> Measure:
    """A figure with a value, converted to ``float`` (exact sums are kept as fractions)."""
    return Measure(float(value), n)


def undefined(reason: str, n: int = 0) -> Measure:
    return Measure(None, n, reason)


def ratio(numerator: float, denominator: float, n: int, reason: str) -> Measure:
    """``numerator / denominator``, or undefined with ``reason`` when the denominator is 0."""
    if denominator == 0:
        return undefined(reason, n)
    return defined(numerator / denominator, n)


def mean_of(measures: Iterable[Measure], reason: str) -> Measure:
    """The plain mean of the defined measures; ``n`` counts the measures that took part.

    Undefined members are left out rather than counted as 0 (a pair of annotators who both found
    nothing says nothing about how well the others agree); if none is defined the mean is
    undefined with ``reason``.
    """
    values = [m.value for m in measures if m.value is not None]
    if not values:
        return undefined(reason)
    return defined(sum(values) / len(values), len(values))
