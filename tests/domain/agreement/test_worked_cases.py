"""Figures AGREEMENT.md quotes in its text, beyond the JSON cases (same data, other figures)."""

from __future__ import annotations

import pytest

from projects.domain.agreement import (
    AnnotatedDocument,
    Span,
    coding_agreement,
    relation_f1,
    unitizing_alpha,
    unitizing_alpha_document,
)
from tests.domain.agreement.reference import case, documents, items

ARGUMENTS = (
    ("A", 10, 30, "Claim"),
    ("A", 35, 60, "Justification"),
    ("A", 70, 90, "Critique"),
)


def spans(rows: tuple[tuple[str, int, int, str], ...]) -> tuple[Span, ...]:
    return tuple(Span("d1", a, s, e, label) for a, s, e, label in rows)


def test_binarised_alpha_per_label_matches_dkpro_on_krippendorff_1980() -> None:
    report = coding_agreement(
        items(case("krippendorff_alpha", "krippendorff1980_p139_nominal")["input"])
    )
    expected = {1: 0.381, 2: 0.711, 3: 0.717, 4: 0.764}
    for value, figure in expected.items():
        alpha = report.per_value_alpha[value].value
        assert alpha == pytest.approx(figure, abs=5e-4)


def test_alpha_is_fleiss_kappa_with_a_small_sample_correction_on_complete_data() -> None:
    report = coding_agreement(items(case("fleiss_kappa", "fleiss1971_p379")["input"]))
    kappa, alpha = report.fleiss.kappa.value, report.alpha.alpha.value
    assert kappa is not None and alpha is not None
    n = report.alpha.alpha.n
    assert n == 180
    assert alpha == pytest.approx(1 - (n - 1) / n * (1 - kappa), abs=1e-12)
    assert alpha == pytest.approx(0.43341, abs=1e-6)


def test_mean_of_the_pairwise_kappa_matrix_matches_nltk_kappa_on_fleiss_1971() -> None:
    report = coding_agreement(items(case("fleiss_kappa", "fleiss1971_p379")["input"]))
    kappas = [k.kappa.value for k in report.pairwise_cohen.values()]
    assert len(kappas) == 15
    assert sum(k for k in kappas if k is not None) / 15 == pytest.approx(0.459412, abs=1e-6)


def test_scott_pi_and_alpha_sit_below_kappa_on_cohen_1960() -> None:
    report = coding_agreement(items(case("cohen_kappa", "cohen1960_p45")["input"]))
    [pair] = report.pairwise_cohen.values()
    assert pair.scott_pi.value == pytest.approx(0.487179, abs=1e-6)
    assert report.alpha.alpha.value == pytest.approx(0.488462, abs=1e-6)


def test_dkpro_code_value_of_krippendorff_2004_unitizing_example_is_reproduced_exactly() -> None:
    docs = documents(case("unitizing_alpha", "krippendorff2004_p254")["input"])
    assert unitizing_alpha(docs).concatenated.alpha.value == pytest.approx(0.858665, abs=1e-6)


def test_the_same_spans_on_a_longer_text_give_a_much_higher_alpha_u() -> None:
    swapped = (
        *ARGUMENTS,
        ("B", 10, 30, "Justification"),
        ("B", 35, 60, "Claim"),
        ("B", 70, 90, "Critique"),
    )
    short = unitizing_alpha_document(AnnotatedDocument("d1", 100, ("A", "B"), spans(swapped)))
    long = unitizing_alpha_document(AnnotatedDocument("d1", 1000, ("A", "B"), spans(swapped)))
    assert short.alpha.value == pytest.approx(-0.410538, abs=1e-6)
    assert long.alpha.value == pytest.approx(0.24, abs=5e-3)


def test_an_annotator_who_submitted_nothing_drives_alpha_u_strongly_negative() -> None:
    # one_annotator_empty_2 is quoted, not shipped; its gamma figures imply A has three units and
    # B none, and the identical_2 spans reproduce the quoted -0.649.
    document = AnnotatedDocument("d1", 100, ("A", "B"), spans(ARGUMENTS))
    assert unitizing_alpha_document(document).alpha.value == pytest.approx(-0.649, abs=5e-4)


def test_aligned_relation_f1_credits_arrows_whose_endpoint_boundary_differs() -> None:
    docs = documents(case("relations", "endpoint_boundary_mismatch")["input"])
    report = relation_f1(docs)
    assert report.exact_labelled.f1.value == pytest.approx(2 / 3)
    assert report.aligned_labelled.f1.value == 1.0
    assert report.aligned_unlabelled.f1.value == 1.0


def test_aligned_relation_f1_still_sees_a_different_target_and_a_different_type() -> None:
    report = relation_f1(documents(case("relations", "two_annotators_shared_spans")["input"]))
    assert report.aligned_labelled.f1.value == pytest.approx(1 / 3)
    assert report.aligned_unlabelled.f1.value == pytest.approx(2 / 3)
    per_type = report.aligned_labelled.pairs[("A", "B")].per_label
    assert (per_type["supports"].matched, per_type["supports"].first) == (1, 2)
    assert (per_type["attacks"].matched, per_type["attacks"].second) == (0, 0)
