"""Document stance agreement and the full agreement report over a streamed corpus.

``agreement_report`` is what the project's agreement page (or its Celery task) calls: one pass
over the documents feeds every span and relation measure, one pass over the stances feeds the
coding measures per stance target.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from projects.domain.agreement.coding import CodingAccumulator, CodingReport, Level
from projects.domain.agreement.pairwise import (
    LabelConfusion,
    PairwiseAccumulator,
    RelationReport,
    SpanF1Report,
)
from projects.domain.agreement.records import AnnotatedDocument, DocumentStance
from projects.domain.agreement.unitizing import UnitizingAccumulator, UnitizingReport

__all__ = ["AgreementReport", "agreement_report", "stance_agreement"]


@dataclass(frozen=True)
class AgreementReport:
    """Every figure of AGREEMENT.md §1 for one project (gamma excepted: a background extra)."""

    documents: int
    spans: SpanF1Report
    unitizing: UnitizingReport
    relations: RelationReport
    confusion: LabelConfusion
    attributes: Mapping[str, CodingReport]
    stance: Mapping[str, CodingReport]


def stance_agreement(
    stances: Iterable[DocumentStance],
    *,
    level: Level = "nominal",
    order: Sequence[Hashable] | None = None,
) -> dict[str, CodingReport]:
    """Coding agreement on document stance, one study per stance target (items = documents).

    ``stances`` must come grouped by document (as a selector streams them), so only one
    document is held in memory; an annotator missing for a target is missing data, never a label.
    """
    accumulators: dict[str, CodingAccumulator] = {}
    finished: set[str] = set()
    current: str | None = None
    items: dict[str, dict[str, Hashable]] = {}

    def flush() -> None:
        for target, item in items.items():
            accumulator = accumulators.get(target)
            if accumulator is None:
                accumulator = accumulators[target] = CodingAccumulator()
            accumulator.add(item)
        items.clear()

    for stance in stances:
        if stance.doc_id != current:
            flush()
            if current is not None:
                finished.add(current)
            if stance.doc_id in finished:
                raise ValueError(f"stances of {stance.doc_id!r} are not grouped by document")
            current = stance.doc_id
        item = items.setdefault(stance.target, {})
        if stance.annotator in item:
            raise ValueError(
                f"{stance.annotator!r} gave two stances on {stance.target!r} in {stance.doc_id!r}"
            )
        item[stance.annotator] = stance.value
    flush()
    return {
        target: accumulator.report(level=level, order=order)
        for target, accumulator in sorted(accumulators.items())
    }


def agreement_report(
    documents: Iterable[AnnotatedDocument],
    stances: Iterable[DocumentStance] = (),
    *,
    stance_level: Level = "nominal",
    stance_order: Sequence[Hashable] | None = None,
    attribute_names: Iterable[str] | None = None,
) -> AgreementReport:
    """Span, unitizing, relation, confusion, attribute and stance agreement in one pass each."""
    pairwise = PairwiseAccumulator(
        attribute_names=None if attribute_names is None else frozenset(attribute_names)
    )
    unitizing = UnitizingAccumulator()
    count = 0
    for document in documents:
        pairwise.add(document)
        unitizing.add(document)
        count += 1
    return AgreementReport(
        documents=count,
        spans=pairwise.span_report(),
        unitizing=unitizing.report(),
        relations=pairwise.relation_report(),
        confusion=pairwise.confusion_report(),
        attributes=pairwise.attribute_reports(),
        stance=stance_agreement(stances, level=stance_level, order=stance_order),
    )
