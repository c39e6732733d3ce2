"""Inter-annotator agreement measures over plain records (AGREEMENT.md): pure Python, streamed.

Inputs are :mod:`records` grouped by document; every figure is a :class:`Measure` that carries the
sample behind it and is explicitly undefined (with the reason) where the coefficient is 0/0.

* coding (document stance, span attributes): :mod:`coding`
* span F1, relation F1, label confusion, attributes on aligned spans: :mod:`pairwise`
* the optimal one-to-one overlap alignment behind them: :mod:`matching`
* Krippendorff's unitizing alpha: :mod:`unitizing`
* everything at once: :func:`agreement_report`
"""

from projects.domain.agreement.coding import (
    AlphaResult,
    CodingAccumulator,
    CodingReport,
    FleissResult,
    KappaResult,
    Level,
    coding_agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    observed_agreement,
    pairwise_cohen_kappa,
)
from projects.domain.agreement.matching import overlap_matching
from projects.domain.agreement.pairwise import (
    F1Counts,
    F1Summary,
    LabelConfusion,
    PairF1,
    PairwiseAccumulator,
    RelationReport,
    SpanF1Report,
    attribute_agreement,
    label_confusion,
    relation_f1,
    span_f1,
)
from projects.domain.agreement.records import (
    AnnotatedDocument,
    DocumentStance,
    Extent,
    Relation,
    Span,
)
from projects.domain.agreement.report import AgreementReport, agreement_report, stance_agreement
from projects.domain.agreement.results import Measure
from projects.domain.agreement.unitizing import (
    DocumentAlphaU,
    LabelAlphaU,
    UnitizingAccumulator,
    UnitizingReport,
    UnitizingResult,
    filter_same_label_overlaps,
    unitizing_alpha,
    unitizing_alpha_document,
)

__all__ = [
    "AgreementReport",
    "AlphaResult",
    "AnnotatedDocument",
    "CodingAccumulator",
    "CodingReport",
    "DocumentAlphaU",
    "DocumentStance",
    "Extent",
    "F1Counts",
    "F1Summary",
    "FleissResult",
    "KappaResult",
    "LabelAlphaU",
    "LabelConfusion",
    "Level",
    "Measure",
    "PairF1",
    "PairwiseAccumulator",
    "Relation",
    "RelationReport",
    "Span",
    "SpanF1Report",
    "UnitizingAccumulator",
    "UnitizingReport",
    "UnitizingResult",
    "agreement_report",
    "attribute_agreement",
    "coding_agreement",
    "cohen_kappa",
    "filter_same_label_overlaps",
    "fleiss_kappa",
    "krippendorff_alpha",
    "label_confusion",
    "observed_agreement",
    "overlap_matching",
    "pairwise_cohen_kappa",
    "relation_f1",
    "span_f1",
    "stance_agreement",
    "unitizing_alpha",
    "unitizing_alpha_document",
]
