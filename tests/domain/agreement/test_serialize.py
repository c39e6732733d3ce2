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


_REPORT_OF_A_RANDOM_CORPUS = """
import json, random, sys
from projects.domain.agreement import AnnotatedDocument, Relation, Span, agreement_report
from projects.domain.agreement.serialize import to_jsonable

rng = random.Random(5)
labels, types, names = ("Claim", "Premise", "Critique"), ("supports", "attacks", "cites"), "abc"
# first, a document where one annotator links three pairs with three types: the first-seen
# order of the types is then whatever order the annotator's relations are read in
ends = [(0, 5), (10, 15), (20, 25), (30, 35)]
first = [Span("d", name, s, e, "Claim") for name in names for s, e in ends]
links = [Relation("d", "a", ends[i], ends[i + 1], types[i]) for i in range(3)]
docs = [AnnotatedDocument("d", 200, tuple(names), tuple(first), tuple(links))]
for d in range(40):
    spans, relations = [], []
    shared = [(start, start + rng.randint(1, 20)) for start in rng.sample(range(180), 6)]
    for name in names:
        mine = []
        for start, end in rng.sample(shared, rng.randint(2, 6)):
            mine.append(Span(f"d{d}", name, start, end, rng.choice(labels)))
        spans += mine
        for _ in range(rng.randint(0, 4)) if len(mine) > 1 else ():
            s, t = rng.sample(mine, 2)
            relations.append(
                Relation(f"d{d}", name, (s.start, s.end), (t.start, t.end), rng.choice(types))
            )
    docs.append(AnnotatedDocument(f"d{d}", 200, tuple(names), tuple(spans), tuple(relations)))
sys.stdout.write(json.dumps(to_jsonable(agreement_report(docs))))
"""


def test_the_same_data_gives_the_same_report_bytes_in_any_process() -> None:
    """Cached reports and their CSV/JSON downloads must not change with Python's string hash
    seed (relation coding once took its key order from a set of strings)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    outputs = set()
    for seed in ("1", "2", "3"):
        result = subprocess.run(
            [sys.executable, "-c", _REPORT_OF_A_RANDOM_CORPUS],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert '"supports"' in outputs.pop()
