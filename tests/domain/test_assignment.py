from hypothesis import given
from hypothesis import strategies as st

from projects.domain.assignment import plan_assignments


def test_every_document_gets_k_distinct_annotators_and_loads_stay_even() -> None:
    plan = plan_assignments(document_ids=list(range(10)), annotator_ids=[1, 2, 3], existing={}, k=2)
    per_doc: dict[int, list[int]] = {}
    for doc, ann in plan.pairs:
        per_doc.setdefault(doc, []).append(ann)
    assert all(len(set(v)) == 2 for v in per_doc.values()) and len(per_doc) == 10
    loads = [sum(1 for _, a in plan.pairs if a == x) for x in (1, 2, 3)]
    assert max(loads) - min(loads) <= 1
    assert plan.short == ()


def test_existing_assignments_count_and_too_few_annotators_are_reported() -> None:
    plan = plan_assignments(document_ids=[1, 2], annotator_ids=[7], existing={1: {7}}, k=2)
    assert plan.pairs == ((2, 7),)
    assert plan.short == (1, 2)


@given(docs=st.integers(0, 40), annotators=st.integers(1, 6), k=st.integers(1, 4))
def test_plans_are_deterministic_balanced_and_never_repeat_a_pair(
    docs: int, annotators: int, k: int
) -> None:
    args = {
        "document_ids": list(range(docs)),
        "annotator_ids": list(range(annotators)),
        "existing": {},
        "k": k,
    }
    plan = plan_assignments(**args)
    assert plan == plan_assignments(**args)
    assert len(set(plan.pairs)) == len(plan.pairs)
    loads = [sum(1 for _, a in plan.pairs if a == x) for x in range(annotators)]
    assert max(loads) - min(loads) <= 1
    assert len(plan.pairs) == docs * min(k, annotators)
