import json
from fractions import Fraction

from projects.domain.agreement import AnnotatedDocument, Span, agreement_report
from projects.domain.agreement.results import Measure
from projects.domain.agreement.serialize import to_jsonable


def test_a_full_report_becomes_plain_json() -> None:
    doc = AnnotatedDocument(
        doc_id="d",
        text_length=50,
        annotators=("a", "b"),
        spans=(
            Span("d", "a", 0, 5, "Claim"),
            Span("d", "b", 0, 5, "Claim"),
            Span("d", "b", 10, 20, "Critique"),
        ),
    )
    data = to_jsonable(agreement_report([doc]))
    text = json.dumps(data)  # must not raise
    assert data["documents"] == 1
    assert data["spans"]["exact_labelled"]["per_label"]["Claim"]["n"] >= 1
    assert "NaN" not in text


def test_undefined_measures_keep_their_reason_and_odd_values_are_tamed() -> None:
    assert to_jsonable(Measure(None, 0, "no items")) == {
        "value": None,
        "n": 0,
        "reason": "no items",
    }
    assert to_jsonable({("a", None): Fraction(1, 2)}) == [{"key": ["a", ""], "value": 0.5}]
    assert to_jsonable(float("nan")) is None


def test_pair_counts_carry_their_derived_f1_precision_and_recall() -> None:
    from projects.domain.agreement.pairwise import F1Counts

    data = to_jsonable(F1Counts(matched=1, first=2, second=2))
    assert data["f1"] == {"value": 0.5, "n": 4, "reason": None}
    assert set(data) == {"matched", "first", "second", "precision", "recall", "f1"}
