"""Random data cross-checked against the established packages (test-only dependencies).

``krippendorff`` for alpha at every level with missing values, scikit-learn for Cohen's kappa,
statsmodels for Fleiss' kappa. Where those packages raise or return ``nan`` (a single value),
we must return undefined.
"""

from __future__ import annotations

import math
import random
import warnings

import pytest

from projects.domain.agreement import coding_agreement, krippendorff_alpha

krippendorff = pytest.importorskip("krippendorff")
np = pytest.importorskip("numpy")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")

SEEDS = range(40)


def random_table(seed: int, *, missing: float) -> list[list[int | None]]:
    """annotators x items, values 1..k, some missing."""
    rnd = random.Random(seed)
    annotators, items, k = rnd.randint(2, 6), rnd.randint(2, 40), rnd.randint(2, 5)
    return [
        [None if rnd.random() < missing else rnd.randint(1, k) for _ in range(items)]
        for _ in range(annotators)
    ]


def as_items(table: list[list[int | None]]) -> list[dict[str, int | None]]:
    return [{f"r{r}": row[u] for r, row in enumerate(table)} for u in range(len(table[0]))]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_matches_the_krippendorff_package_with_missing_values(seed: int, level: str) -> None:
    table = random_table(seed, missing=0.3)
    ours = krippendorff_alpha(as_items(table), level=level).alpha  # type: ignore[arg-type]
    data = np.array([[np.nan if v is None else v for v in row] for row in table], dtype=float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            theirs = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    except ValueError:
        assert ours.value is None  # one value in the domain (or nothing pairable)
        return
    if ours.value is None:
        # The package counts unpairable values in its domain check; we must be undefined only
        # when every pairable value is the same, where the package returns nan.
        assert math.isnan(theirs)
        return
    assert ours.value == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_cohen_kappa_matches_scikit_learn(seed: int) -> None:
    rnd = random.Random(seed)
    k = rnd.randint(1, 4)
    first = [rnd.randint(1, k) for _ in range(rnd.randint(1, 50))]
    second = [v if rnd.random() < 0.6 else rnd.randint(1, k) for v in first]
    [ours] = coding_agreement(
        [{"A": a, "B": b} for a, b in zip(first, second, strict=True)]
    ).pairwise_cohen.values()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = sklearn_metrics.cohen_kappa_score(first, second)
    if math.isnan(theirs):
        assert ours.kappa.value is None
        assert ours.kappa.reason
    else:
        assert ours.kappa.value == pytest.approx(theirs, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels_on_complete_data(seed: int) -> None:
    table = random_table(seed, missing=0.0)
    ours = coding_agreement(as_items(table)).fleiss.kappa
    counts, _ = inter_rater.aggregate_raters(np.array(table).T)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = inter_rater.fleiss_kappa(counts, method="fleiss")
    if math.isnan(theirs):
        assert ours.value is None
    else:
        assert ours.value == pytest.approx(theirs, abs=1e-9)
