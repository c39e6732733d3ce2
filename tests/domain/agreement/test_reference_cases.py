"""Every case of the design repository's agreement-cases (copied to ``cases/``) is reproduced.

The expected figures come from publications or from the established implementations (DKPro
Agreement, ``krippendorff``, scikit-learn, statsmodels, NLTK, nervaluate); an ``undefined``
expectation must come back as an undefined :class:`Measure` with a reason, never as 0 or 1.
"""

from __future__ import annotations

from typing import Any

import pytest

from projects.domain.agreement import (
    Measure,
    coding_agreement,
    relation_f1,
    span_f1,
    unitizing_alpha,
)
from tests.domain.agreement.reference import Case, documents, items, load_cases


def check(actual: Measure | float | None, expected: dict[str, Any], what: str) -> None:
    value = actual.value if isinstance(actual, Measure) else actual
    if expected.get("undefined"):
        assert value is None, f"{what}: expected undefined, got {value}"
        assert isinstance(actual, Measure)
        assert actual.reason
        return
    assert value is not None, f"{what}: undefined ({getattr(actual, 'reason', None)})"
    tolerance = expected["tolerance"] + 1e-12
    assert abs(value - expected["value"]) <= tolerance, f"{what}: {value} != {expected['value']}"


def params(family: str) -> list[Any]:
    return [pytest.param(c, id=c["name"]) for c in load_cases(family)]


@pytest.mark.parametrize("case", params("krippendorff_alpha"))
def test_krippendorff_alpha_reference_case_is_reproduced(case: Case) -> None:
    report = coding_agreement(items(case["input"]), level=case["params"]["level_of_measurement"])
    expected = case["expected"]
    check(report.alpha.alpha, expected["alpha"], "alpha")
    for key in ("percent_agreement", "percent_agreement_pairwise"):
        if key in expected:
            check(report.observed_agreement, expected[key], key)


@pytest.mark.parametrize("case", params("cohen_kappa"))
def test_cohen_kappa_reference_case_is_reproduced(case: Case) -> None:
    [result] = coding_agreement(items(case["input"])).pairwise_cohen.values()
    expected = case["expected"]
    check(result.kappa, expected["kappa"], "kappa")
    check(result.observed, expected["observed_agreement"], "observed agreement")
    if "expected_agreement" in expected:
        check(result.expected, expected["expected_agreement"], "expected agreement")


@pytest.mark.parametrize("case", params("fleiss_kappa"))
def test_fleiss_kappa_reference_case_is_reproduced(case: Case) -> None:
    fleiss = coding_agreement(items(case["input"])).fleiss
    expected = case["expected"]
    check(fleiss.kappa, expected["kappa"], "kappa")
    check(fleiss.observed, expected["observed_agreement"], "P bar")
    check(fleiss.expected, expected["expected_agreement"], "P_e")
    category = expected["category_kappa"]
    for value, figure in category["value"].items():
        check(
            fleiss.per_value[value],
            {"value": figure, "tolerance": category["tolerance"]},
            f"category {value}",
        )


@pytest.mark.parametrize("case", params("unitizing_alpha"))
def test_unitizing_alpha_reference_case_is_reproduced(case: Case) -> None:
    docs = documents(case["input"])
    report = unitizing_alpha(docs)
    expected = case["expected"]
    if "alpha_u" in expected:
        check(report.concatenated.alpha, expected["alpha_u"], "alpha_U")
    if "per_label" in expected:
        tolerance = expected["per_label"]["tolerance"]
        for label, figures in expected["per_label"]["value"].items():
            result = report.concatenated.per_label[label]
            for key, actual in (
                ("alpha", result.alpha),
                ("D_o", result.observed),
                ("D_e", result.expected),
            ):
                check(actual, {"value": figures[key], "tolerance": tolerance}, f"{label} {key}")
    by_document = {entry.doc_id: entry.result.alpha for entry in report.per_document}
    for doc_id in case["input"]["text_length"]:
        if f"alpha_u_{doc_id}" in expected:
            check(by_document[doc_id], expected[f"alpha_u_{doc_id}"], f"alpha_U of {doc_id}")
    if "alpha_u_concatenated" in expected:
        check(report.concatenated.alpha, expected["alpha_u_concatenated"], "concatenated")


@pytest.mark.parametrize("case", params("span_f1"))
def test_span_f1_reference_case_is_reproduced(case: Case) -> None:
    report = span_f1(documents(case["input"]))
    modes = {
        "f1_exact_labeled": report.exact_labelled,
        "f1_exact_unlabeled": report.exact_unlabelled,
        "f1_overlap_labeled": report.overlap_labelled,
        "f1_partial_credit_unlabeled": report.partial_credit,
    }
    for key, expected in case["expected"].items():
        check(modes[key].f1, expected, key)


@pytest.mark.parametrize("case", params("relations"))
def test_relation_reference_case_is_reproduced(case: Case) -> None:
    report = relation_f1(documents(case["input"]))
    [kappa] = report.coding_none.pairwise_cohen.values()
    figures = {
        "f1_labeled": report.exact_labelled.f1,
        "f1_unlabeled": report.exact_unlabelled.f1,
        "alpha_nominal_none_category": report.coding_none.alpha.alpha,
        "alpha_nominal_missing_convention": report.coding_missing.alpha.alpha,
        "cohen_kappa_none_category": kappa.kappa,
    }
    for key, expected in case["expected"].items():
        check(figures[key], expected, key)


def test_every_case_file_is_exercised() -> None:
    families = {
        "krippendorff_alpha",
        "cohen_kappa",
        "fleiss_kappa",
        "unitizing_alpha",
        "span_f1",
        "relations",
    }
    assert sum(len(load_cases(f)) for f in families) == 25
