"""Behaviour of each measure beyond the reference figures: conventions, counts, undefined cases."""

from __future__ import annotations

import pytest

from projects.domain.agreement import (
    AnnotatedDocument,
    DocumentStance,
    Measure,
    Relation,
    Span,
    agreement_report,
    attribute_agreement,
    coding_agreement,
    cohen_kappa,
    filter_same_label_overlaps,
    fleiss_kappa,
    krippendorff_alpha,
    label_confusion,
    observed_agreement,
    span_f1,
    stance_agreement,
    unitizing_alpha,
    unitizing_alpha_document,
)


def doc(
    annotators: tuple[str, ...],
    *rows: tuple[str, int, int, str],
    length: int = 100,
    doc_id: str = "d1",
) -> AnnotatedDocument:
    spans = tuple(Span(doc_id, a, s, e, label) for a, s, e, label in rows)
    return AnnotatedDocument(doc_id, length, annotators, spans)


# Records


def test_zero_length_spans_are_rejected_at_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        Span("d1", "A", 5, 5, "Claim")


def test_a_span_of_an_annotator_who_did_not_submit_is_rejected() -> None:
    with pytest.raises(ValueError, match="not submitted"):
        doc(("A",), ("B", 0, 5, "Claim"))


def test_a_relation_endpoint_must_be_one_of_the_annotators_spans() -> None:
    span = Span("d1", "A", 0, 5, "Claim")
    relation = Relation("d1", "A", (0, 5), (6, 9), "supports")
    with pytest.raises(ValueError, match="not one of that annotator's spans"):
        AnnotatedDocument("d1", 10, ("A",), (span,), (relation,))


def test_a_measure_has_either_a_value_or_a_reason() -> None:
    with pytest.raises(ValueError):
        Measure(None, 0)
    with pytest.raises(ValueError):
        Measure(0.5, 3, "why")


# Coding measures


def test_unpairable_items_are_ignored_by_alpha_not_counted_as_agreement() -> None:
    base = [{"A": "pro", "B": "con"}, {"A": "pro", "B": "pro"}, {"A": "con", "B": "con"}]
    with_singles = [*base, {"A": "pro"}, {"B": "con", "C": None}]
    assert krippendorff_alpha(with_singles) == krippendorff_alpha(base)
    report = coding_agreement(with_singles)
    assert (report.items, report.pairable_items) == (5, 3)


def test_alpha_with_a_single_value_is_undefined_and_observed_agreement_is_one() -> None:
    report = coding_agreement([{"A": "pro", "B": "pro"}] * 4)
    assert report.alpha.alpha.value is None
    assert report.alpha.alpha.reason
    assert report.alpha.alpha.n == 8
    assert report.observed_agreement == Measure(1.0, 4)
    assert report.fleiss.kappa.value is None


def test_alpha_without_pairable_items_is_undefined() -> None:
    alpha = krippendorff_alpha([{"A": "pro"}, {"B": "con"}]).alpha
    assert (alpha.value, alpha.n) == (None, 0)
    assert observed_agreement([{"A": "pro"}]).value is None


def test_cohen_kappa_with_one_shared_label_is_undefined() -> None:
    result = cohen_kappa([("pro", "pro")] * 5)
    assert result.kappa.value is None
    assert result.observed.value == 1.0


def test_cohen_kappa_is_computed_on_complete_pairs_only_and_says_how_many() -> None:
    report = coding_agreement([{"A": 1, "B": 1}, {"A": 2, "B": 2}, {"A": 1}, {"B": 2, "C": 2}])
    assert report.pairwise_cohen[("A", "B")].kappa == Measure(1.0, 2)
    assert report.pairwise_cohen[("B", "C")].kappa.value is None


def test_fleiss_kappa_needs_the_same_number_of_labels_on_every_item() -> None:
    result = fleiss_kappa([{"A": 1, "B": 1, "C": 2}, {"A": 1, "B": 2}])
    assert result.kappa.value is None
    assert "different numbers of labels" in (result.kappa.reason or "")


def test_fleiss_kappa_does_not_care_who_the_raters_are() -> None:
    same = fleiss_kappa([{"A": 1, "B": 1}, {"A": 1, "B": 2}, {"A": 2, "B": 2}])
    rotated = fleiss_kappa([{"A": 1, "B": 1}, {"C": 1, "D": 2}, {"E": 2, "A": 2}])
    assert same == rotated


def test_ordinal_alpha_accepts_an_explicit_order_of_string_labels() -> None:
    scale = ["strongly against", "against", "neutral", "favor", "strongly favor"]
    data = [
        {"A": "favor", "B": "strongly favor"},
        {"A": "against", "B": "strongly against"},
        {"A": "neutral", "B": "neutral"},
        {"A": "strongly favor", "B": "strongly against"},
    ]
    ordinal = krippendorff_alpha(data, level="ordinal", order=scale).alpha.value
    nominal = krippendorff_alpha(data).alpha.value
    assert ordinal is not None and nominal is not None
    assert ordinal != nominal
    with pytest.raises(ValueError, match="not in the given order"):
        krippendorff_alpha(data, level="ordinal", order=scale[:2])


def test_interval_alpha_needs_numbers() -> None:
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha([{"A": "pro", "B": "con"}], level="interval")


# Document stance


def test_stance_is_measured_per_target_with_missing_annotators_as_missing_data() -> None:
    stances = [
        DocumentStance("d1", "A", "policy", "pro"),
        DocumentStance("d1", "B", "policy", "pro"),
        DocumentStance("d1", "A", "author", "con"),
        DocumentStance("d2", "A", "policy", "con"),
        DocumentStance("d2", "B", "policy", "pro"),
    ]
    report = stance_agreement(stances)
    assert sorted(report) == ["author", "policy"]
    assert report["policy"].pairable_items == 2
    assert report["author"].alpha.alpha.value is None


def test_stances_must_come_grouped_by_document() -> None:
    stances = [
        DocumentStance("d1", "A", "policy", "pro"),
        DocumentStance("d2", "A", "policy", "pro"),
        DocumentStance("d1", "B", "policy", "pro"),
    ]
    with pytest.raises(ValueError, match="grouped by document"):
        stance_agreement(stances)


# Span F1


def test_both_annotators_empty_gives_undefined_f1_not_zero() -> None:
    report = span_f1([doc(("A", "B"))])
    assert report.overlap_labelled.f1.value is None
    assert report.overlap_labelled.pairs[("A", "B")].documents == 1


def test_one_annotator_gives_no_pair_and_undefined_f1() -> None:
    report = span_f1([doc(("A",), ("A", 0, 10, "Claim"))])
    assert report.exact_labelled.f1.value is None
    assert report.exact_labelled.pairs == {}


def test_f1_pools_counts_over_documents_before_dividing() -> None:
    documents = [
        doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 0, 10, "Claim")),
        doc(("A", "B"), *[("A", i * 10, i * 10 + 5, "Claim") for i in range(9)], doc_id="d2"),
    ]
    pair = span_f1(documents).exact_labelled.pairs[("A", "B")]
    assert (pair.micro.matched, pair.micro.first, pair.micro.second) == (1, 10, 1)
    assert pair.micro.f1.value == pytest.approx(2 / 11)
    assert pair.documents == 2


def test_touching_spans_do_not_overlap() -> None:
    report = span_f1([doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 10, 20, "Claim"))])
    assert report.overlap_labelled.f1.value == 0.0


def test_labelled_overlap_only_matches_spans_of_the_same_label() -> None:
    document = doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 2, 10, "Premise"))
    report = span_f1([document])
    assert report.overlap_labelled.f1.value == 0.0
    assert report.overlap_unlabelled.f1.value == 1.0
    assert report.partial_credit.f1.value == 0.5


def test_macro_f1_averages_labels_and_micro_pools_them() -> None:
    document = doc(
        ("A", "B"),
        *[("A", i * 10, i * 10 + 5, "Claim") for i in range(3)],
        *[("B", i * 10, i * 10 + 5, "Claim") for i in range(3)],
        ("A", 50, 55, "Premise"),
    )
    summary = span_f1([document]).exact_labelled
    assert summary.per_label["Claim"].value == 1.0
    assert summary.per_label["Premise"].value == 0.0
    assert summary.macro.value == 0.5
    assert summary.f1.value == pytest.approx(6 / 7)


def test_f1_over_three_annotators_is_the_mean_over_the_pairs() -> None:
    document = doc(
        ("A", "B", "C"), ("A", 0, 10, "Claim"), ("B", 0, 10, "Claim"), ("C", 20, 30, "Claim")
    )
    summary = span_f1([document]).exact_labelled
    assert sorted(summary.pairs) == [("A", "B"), ("A", "C"), ("B", "C")]
    assert summary.f1 == Measure(1 / 3, 3)


def test_per_document_f1_lists_the_worst_document_first() -> None:
    documents = [
        doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 0, 10, "Claim"), doc_id="good"),
        doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 20, 30, "Claim"), doc_id="bad"),
        doc(("A", "B"), doc_id="empty"),
    ]
    ranked = span_f1(documents).per_document
    assert [doc_id for doc_id, _ in ranked] == ["bad", "good", "empty"]


# Unitizing alpha


def test_alpha_u_of_a_single_annotator_is_undefined() -> None:
    result = unitizing_alpha_document(doc(("A",), ("A", 0, 10, "Claim")))
    assert result.alpha.value is None
    assert "two annotators" in (result.alpha.reason or "")


def test_same_label_overlaps_are_dropped_keeping_the_first_and_longest() -> None:
    kept, dropped = filter_same_label_overlaps([(20, 30), (10, 40), (10, 20), (40, 50)])
    assert (kept, dropped) == ([(10, 40), (40, 50)], 2)


def test_alpha_u_reports_dropped_overlaps_and_coverage() -> None:
    document = doc(("A", "B"), ("A", 0, 40, "Claim"), ("A", 10, 20, "Claim"), ("B", 0, 40, "Claim"))
    result = unitizing_alpha_document(document)
    assert result.dropped == 1
    assert result.coverage == pytest.approx(0.4)
    assert result.alpha.value == 1.0


def test_documents_with_one_annotator_stay_out_of_the_concatenated_continuum() -> None:
    pair = doc(("A", "B"), ("A", 10, 30, "Claim"), ("B", 12, 30, "Claim"))
    alone = doc(("A",), ("A", 0, 50, "Claim"), doc_id="d2")
    assert (
        unitizing_alpha([pair, alone]).concatenated.alpha
        == unitizing_alpha([pair]).concatenated.alpha
    )


def test_concatenated_alpha_u_equals_alpha_u_of_the_documents_laid_end_to_end() -> None:
    first = doc(("A", "B"), ("A", 12, 30, "Claim"), ("B", 10, 30, "Claim"), ("B", 90, 100, "X"))
    second = doc(("A", "B"), ("A", 0, 20, "X"), ("B", 5, 25, "Claim"), length=80, doc_id="d2")
    shifted = doc(
        ("A", "B"),
        *[(s.annotator, s.start, s.end, s.label) for s in first.spans],
        *[(s.annotator, s.start + 100, s.end + 100, s.label) for s in second.spans],
        length=180,
    )
    concatenated = unitizing_alpha([first, second]).concatenated
    laid_out = unitizing_alpha_document(shifted)
    assert concatenated.alpha.value == pytest.approx(laid_out.alpha.value, abs=1e-12)
    for label, result in laid_out.per_label.items():
        assert concatenated.per_label[label].expected == pytest.approx(result.expected, abs=1e-15)


# Alignment-based measures


def test_confusion_matrix_counts_aligned_labels_and_unaligned_spans() -> None:
    document = doc(
        ("A", "B"),
        ("A", 0, 10, "Claim"),
        ("B", 2, 10, "Premise"),
        ("A", 20, 30, "Claim"),
        ("B", 20, 30, "Claim"),
        ("B", 50, 60, "Premise"),
    )
    confusion = label_confusion([document])
    assert confusion.pairs[("A", "B")] == {
        ("Claim", "Premise"): 1,
        ("Claim", "Claim"): 1,
        (None, "Premise"): 1,
    }
    assert confusion.counts[("Premise", "Claim")] == confusion.counts[("Claim", "Premise")] == 1
    assert confusion.counts[("Claim", "Claim")] == 2
    assert (confusion.aligned, confusion.unaligned, confusion.stacked) == (2, 1, 0)
    assert confusion.labels == ("Claim", "Premise")


def test_stacked_spans_are_aligned_once_and_left_out_of_the_confusion_matrix() -> None:
    document = doc(
        ("A", "B"), ("A", 0, 10, "Claim"), ("A", 0, 10, "Premise"), ("B", 0, 10, "Claim")
    )
    confusion = label_confusion([document])
    assert (confusion.aligned, confusion.stacked) == (0, 1)


def test_span_attributes_are_coded_on_aligned_pairs_even_when_labels_differ() -> None:
    def span(annotator: str, start: int, end: int, label: str, stance: str) -> Span:
        return Span("d1", annotator, start, end, label, {"stance": stance})

    spans = (
        span("A", 0, 10, "Claim", "favor"),
        span("B", 1, 10, "Premise", "favor"),
        span("A", 20, 30, "Claim", "against"),
        span("B", 20, 30, "Claim", "against"),
        span("A", 40, 50, "Claim", "favor"),
    )
    report = attribute_agreement([AnnotatedDocument("d1", 60, ("A", "B"), spans)])["stance"]
    assert (report.items, report.pairable_items) == (2, 2)
    assert report.alpha.alpha.value == 1.0
    assert report.pairwise_cohen[("A", "B")].kappa.n == 2


def test_the_full_report_runs_every_measure_in_one_pass() -> None:
    document = doc(("A", "B"), ("A", 0, 10, "Claim"), ("B", 0, 10, "Claim"))
    stances = [DocumentStance("d1", "A", "t", "pro"), DocumentStance("d1", "B", "t", "con")]
    report = agreement_report(iter([document]), iter(stances))
    assert report.documents == 1
    assert report.spans.exact_labelled.f1.value == 1.0
    assert report.unitizing.concatenated.alpha.value == 1.0
    assert report.relations.exact_labelled.f1.value is None
    assert report.confusion.aligned == 1
    assert report.stance["t"].observed_agreement.value == 0.0


def test_a_tie_in_the_alignment_does_not_make_aligned_relation_f1_depend_on_annotator_order() -> (
    None
):
    """Found by the symmetry property: ann1's [1, 2) overlaps ann2's [1, 3) and [1, 4) by one
    code point each, and which annotator came first decided which one it was aligned with."""
    from projects.domain.agreement import AnnotatedDocument, Relation, Span, relation_f1

    def doc(one: str, two: str) -> AnnotatedDocument:
        spans = (
            Span("d", one, 0, 1, "Claim"),
            Span("d", one, 1, 2, "Claim"),
            Span("d", two, 0, 1, "Claim"),
            Span("d", two, 1, 3, "Claim"),
            Span("d", two, 1, 4, "Claim"),
        )
        relations = (
            Relation("d", one, (1, 2), (0, 1), "supports"),
            Relation("d", two, (1, 3), (0, 1), "supports"),
        )
        return AnnotatedDocument("d", 60, ("ann1", "ann2"), spans, relations)

    forward = relation_f1([doc("ann1", "ann2")]).aligned_labelled.f1
    swapped = relation_f1([doc("ann2", "ann1")]).aligned_labelled.f1
    assert forward == swapped
