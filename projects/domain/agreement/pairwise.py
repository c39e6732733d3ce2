"""Pairwise span and relation measures: span F1, relation F1, label confusion, span attributes.

Everything here compares two annotators on one document at a time and pools counts over
documents (AGREEMENT.md rule 4), so a corpus is streamed document by document and no span is
ever compared with a span of another document.

For each pair of annotators present on a document (in sorted order, so "first" and "second" are
stable and A-vs-B is B-vs-A by construction) the *alignment* of rule 6 is computed once: the
optimal one-to-one overlap matching of their span extents, ignoring labels. It serves unlabelled
overlap F1, partial-credit F1, the label confusion matrix, span attributes and aligned relation
F1. Labelled overlap F1 matches each label's spans on their own, solved on those of the pair's
overlaps (found once, for the alignment) that join two spans of the label: the same optimum as
matching them from scratch.

Spans are compared as sets: two identical spans ``(start, end, label)`` of one annotator count
once (as relation sets do in the reference computation), and unlabelled modes compare the set of
extents. Two spans of one annotator with the same extent and different labels ("stacked", as
INCEpTION calls it) are one argument component for the alignment; since it cannot be said which
of their labels to compare, such an aligned pair is left out of the confusion matrix and the
attribute items and counted in ``stacked`` (INCEpTION excludes stacked positions too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import ClassVar

from projects.domain.agreement.coding import CodingAccumulator, CodingReport
from projects.domain.agreement.matching import aligned_matching, matching_size, sorted_overlaps
from projects.domain.agreement.records import AnnotatedDocument, Extent, Span
from projects.domain.agreement.results import Measure, mean_of, ratio, undefined

__all__ = [
    "F1Counts",
    "F1Summary",
    "LabelConfusion",
    "PairF1",
    "PairwiseAccumulator",
    "RelationReport",
    "SpanF1Report",
    "attribute_agreement",
    "label_confusion",
    "relation_f1",
    "span_f1",
]

_BOTH_EMPTY = "neither annotator marked anything (F1 = 0/0)"
_NO_PAIRS = "no document has two or more annotators"
Pair = tuple[str, str]


@dataclass(frozen=True)
class F1Counts:
    """Pooled counts of one annotator pair: the first annotator is the reference.

    ``matched`` is a float only for partial credit (an overlap-only pair counts 0.5).
    """

    matched: float
    first: int
    second: int

    #: derived figures the JSON form carries too (see ``serialize.to_jsonable``)
    JSON_PROPERTIES: ClassVar[tuple[str, ...]] = ("precision", "recall", "f1")

    @property
    def precision(self) -> Measure:
        return ratio(self.matched, self.second, self.second, "the second annotator marked nothing")

    @property
    def recall(self) -> Measure:
        return ratio(self.matched, self.first, self.first, "the first annotator marked nothing")

    @property
    def f1(self) -> Measure:
        total = self.first + self.second
        return ratio(2 * self.matched, total, total, _BOTH_EMPTY)


@dataclass(frozen=True)
class PairF1:
    """One annotator pair, counts pooled over the ``documents`` both submitted.

    ``macro`` is the mean of the per-label F1 over labels either annotator used (``n`` = labels).
    """

    annotators: Pair
    documents: int
    micro: F1Counts
    per_label: Mapping[str, F1Counts]
    macro: Measure


@dataclass(frozen=True)
class F1Summary:
    """One matching mode: the mean over annotator pairs, and the pair matrix behind it.

    ``f1``, ``macro`` and each ``per_label`` entry are means over the pairs where the figure is
    defined (``n`` = those pairs). Unlabelled modes have no labels: ``per_label`` is empty and
    ``macro`` undefined.
    """

    mode: str
    f1: Measure
    macro: Measure
    per_label: Mapping[str, Measure]
    pairs: Mapping[Pair, PairF1]


@dataclass(frozen=True)
class SpanF1Report:
    """Span F1 in every mode of §3.3, plus the worst documents for labelled overlap F1."""

    exact_labelled: F1Summary
    exact_unlabelled: F1Summary
    overlap_labelled: F1Summary
    overlap_unlabelled: F1Summary
    partial_credit: F1Summary
    per_document: tuple[tuple[str, Measure], ...]


@dataclass(frozen=True)
class RelationReport:
    """Relation F1 (§4): exact endpoints, and endpoints mapped through the span alignment.

    The chance-corrected extras code every ``(source, target)`` extent pair linked by anyone as
    one item: ``coding_none`` gives an annotator who did not link it the value ``"none"``;
    ``coding_missing`` treats them as missing (INCEpTION), so it measures agreement on the type
    *given* both linked, and can be 1.0 while F1 is poor: never show it alone. An annotator who
    linked one pair with two types is left out of that item (counted in ``ambiguous``).
    """

    exact_labelled: F1Summary
    exact_unlabelled: F1Summary
    aligned_labelled: F1Summary
    aligned_unlabelled: F1Summary
    coding_none: CodingReport
    coding_missing: CodingReport
    ambiguous: int


@dataclass(frozen=True)
class LabelConfusion:
    """Labels of aligned spans; ``None`` stands for "no aligned span" (a missed or extra span).

    ``pairs`` holds one matrix per annotator pair (rows = first annotator). ``counts`` pools them
    over both orders of every pair, so it is symmetric, like a coincidence matrix: an agreeing
    aligned pair adds 2 to its diagonal cell. ``aligned`` counts aligned span pairs, ``stacked``
    the aligned pairs left out because an extent carried several labels.
    """

    counts: Mapping[tuple[str | None, str | None], int]
    pairs: Mapping[Pair, Mapping[tuple[str | None, str | None], int]]
    labels: tuple[str, ...]
    aligned: int
    unaligned: int
    stacked: int


class _Annotation:
    """One annotator's spans and relations on one document, indexed for the comparisons.

    ``extents`` are the distinct extents in order; ``labels``, ``single`` and ``spans_at`` run
    parallel to them (``labels[i]`` is the label at ``extents[i]``, or a frozenset when several
    are stacked there; ``single[i]`` the span there unless several are), and ``first_seen``
    lists the indices in the order the extents first came. A comparison works on indices into
    ``extents`` rather than hashing extents, and all of this is computed once per document, not
    once per annotator pair.
    """

    __slots__ = (
        "at",
        "by_label",
        "extents",
        "first_seen",
        "labelled",
        "labels",
        "relation_types",
        "relations",
        "relations_unlabelled",
        "single",
        "spans_at",
    )

    def __init__(self) -> None:
        self.labelled: set[tuple[int, int, str]] = set()
        self.by_label: dict[str, list[Extent]] = {}
        self.at: dict[Extent, list[Span]] = {}
        self.extents: list[Extent] = []
        self.spans_at: list[list[Span]] = []
        self.single: list[Span | None] = []
        self.labels: list[str | frozenset[str]] = []
        self.first_seen: list[int] = []
        self.relations: set[tuple[Extent, Extent, str]] = set()
        self.relations_unlabelled: set[tuple[Extent, Extent]] = set()
        self.relation_types: dict[str, int] = {}

    def finish(self) -> None:
        at = self.at
        self.extents = extents = sorted(at)
        self.spans_at = spans_at = [at[extent] for extent in extents]
        self.single = [spans[0] if len(spans) == 1 else None for spans in spans_at]
        self.labels = [
            spans[0].label if len(spans) == 1 else frozenset(s.label for s in spans)
            for spans in spans_at
        ]
        index = {extent: i for i, extent in enumerate(extents)}
        self.first_seen = [index[extent] for extent in at]
        types = self.relation_types
        for _, _, kind in self.relations:
            types[kind] = types.get(kind, 0) + 1


def _by_annotator(document: AnnotatedDocument) -> dict[str, _Annotation]:
    annotations = {a: _Annotation() for a in document.annotators}
    for span in document.spans:
        annotation = annotations[span.annotator]
        key = (span.start, span.end, span.label)
        if key in annotation.labelled:
            continue
        annotation.labelled.add(key)
        extent = (span.start, span.end)
        same_label = annotation.by_label.get(span.label)
        if same_label is None:
            annotation.by_label[span.label] = [extent]
        else:
            same_label.append(extent)
        same_extent = annotation.at.get(extent)
        if same_extent is None:
            annotation.at[extent] = [span]
        else:
            same_extent.append(span)
    for relation in document.relations:
        annotation = annotations[relation.annotator]
        annotation.relations.add((relation.source, relation.target, relation.type))
        annotation.relations_unlabelled.add((relation.source, relation.target))
    for annotation in annotations.values():
        annotation.finish()
    return annotations


class _Pooled:
    """mode -> pair -> label (``None`` for unlabelled) -> [matched, first, second]."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[Pair, dict[str | None, list[float]]]] = {}
        self.documents: Counter[Pair] = Counter()

    def cells(self, mode: str, pair: Pair) -> dict[str | None, list[float]]:
        """label -> [matched, first, second] of one mode and pair, to add to with :func:`_pool`."""
        by_pair = self.counts.get(mode)
        if by_pair is None:
            by_pair = self.counts[mode] = {}
        cells = by_pair.get(pair)
        if cells is None:
            cells = by_pair[pair] = {}
        return cells

    def summary(self, mode: str, *, labelled: bool) -> F1Summary:
        pairs: dict[Pair, PairF1] = {}
        for pair in sorted(self.documents):
            cells = self.counts.get(mode, {}).get(pair, {})
            if labelled:
                per_label = {
                    label: F1Counts(cell[0], int(cell[1]), int(cell[2]))
                    for label, cell in sorted(cells.items())
                    if label
                }
                micro = F1Counts(
                    sum(c.matched for c in per_label.values()),
                    sum(c.first for c in per_label.values()),
                    sum(c.second for c in per_label.values()),
                )
                macro = mean_of((c.f1 for c in per_label.values()), _BOTH_EMPTY)
            else:
                matched, first, second = cells.get(None, [0.0, 0, 0])
                micro, per_label = F1Counts(matched, int(first), int(second)), {}
                macro = undefined("an unlabelled mode has no labels")
            pairs[pair] = PairF1(pair, self.documents[pair], micro, per_label, macro)
        if not pairs:
            nothing = undefined(_NO_PAIRS)
            return F1Summary(mode, nothing, nothing, {}, pairs)
        labels = sorted({label for p in pairs.values() for label in p.per_label})
        per_label_mean = {
            label: mean_of(
                (p.per_label[label].f1 for p in pairs.values() if label in p.per_label),
                _BOTH_EMPTY,
            )
            for label in labels
        }
        return F1Summary(
            mode,
            mean_of((p.micro.f1 for p in pairs.values()), _BOTH_EMPTY),
            mean_of((p.macro for p in pairs.values()), _BOTH_EMPTY)
            if labelled
            else undefined("an unlabelled mode has no labels"),
            per_label_mean,
            pairs,
        )


def _pool(
    cells: dict[str | None, list[float]],
    label: str | None,
    matched: float,
    first: int,
    second: int,
) -> None:
    cell = cells.get(label)
    if cell is None:
        cells[label] = [matched, first, second]
    else:
        cell[0] += matched
        cell[1] += first
        cell[2] += second


@dataclass
class PairwiseAccumulator:
    """Streams documents and pools every pairwise comparison; each part can be switched off."""

    spans: bool = True
    relations: bool = True
    confusion: bool = True
    attributes: bool = True
    attribute_names: frozenset[str] | None = None
    _pooled: _Pooled = field(default_factory=_Pooled)
    _relations: _Pooled = field(default_factory=_Pooled)
    _per_document: list[tuple[str, Measure]] = field(default_factory=list)
    _confusion: dict[Pair, Counter[tuple[str | None, str | None]]] = field(default_factory=dict)
    _aligned: int = 0
    _unaligned: int = 0
    _stacked: int = 0
    _attribute_values: Counter[tuple[Pair, str, str | None, str | None]] = field(
        default_factory=Counter
    )
    _relation_none: CodingAccumulator = field(default_factory=CodingAccumulator)
    _relation_missing: CodingAccumulator = field(default_factory=CodingAccumulator)
    _ambiguous: int = 0

    def add(self, document: AnnotatedDocument) -> None:
        annotations = _by_annotator(document)
        document_f1: list[Measure] = []
        for pair in combinations(sorted(annotations), 2):
            a, b = annotations[pair[0]], annotations[pair[1]]
            self._pooled.documents[pair] += 1
            self._relations.documents[pair] += 1
            # The overlaps of the two annotations, found once: the alignment and every label's
            # matching are drawn from them.
            edges = sorted_overlaps(a.extents, b.extents)
            alignment = aligned_matching(a.extents, b.extents, edges)
            if self.spans:
                document_f1.append(self._add_span_f1(pair, a, b, edges, alignment))
            if self.relations and (a.relations or b.relations):
                extents_a, extents_b = a.extents, b.extents
                aligned = [(extents_a[i], extents_b[j]) for i, j in alignment]
                self._add_relations(pair, a, b, aligned)
            if self.confusion or self.attributes:
                self._add_aligned_labels(pair, a, b, alignment)
        if self.relations:
            self._add_relation_items(annotations)
        if self.spans:
            self._per_document.append(
                (document.doc_id, mean_of(document_f1, _BOTH_EMPTY if document_f1 else _NO_PAIRS))
            )

    def _add_span_f1(
        self,
        pair: Pair,
        a: _Annotation,
        b: _Annotation,
        edges: list[tuple[int, int, int]],
        alignment: list[tuple[int, int]],
    ) -> Measure:
        exact: dict[str, int] = {}
        for _, _, label in a.labelled & b.labelled:
            exact[label] = exact.get(label, 0) + 1
        # Labelled overlap F1 matches each label's spans on their own. Their overlaps are the
        # edges joining two spans of that label, so each label's matching is solved on its share
        # of the edges (matching_size) instead of sweeping that label's spans again.
        by_label: dict[str, list[tuple[int, int, int]]] = {}
        labels_a, labels_b = a.labels, b.labels
        for edge in edges:
            label_a, label_b = labels_a[edge[0]], labels_b[edge[1]]
            if type(label_a) is str and type(label_b) is str:
                if label_a == label_b:
                    shared = by_label.get(label_a)
                    if shared is None:
                        by_label[label_a] = [edge]
                    else:
                        shared.append(edge)
            else:
                for label in _label_set(label_a) & _label_set(label_b):
                    by_label.setdefault(label, []).append(edge)
        overlap: dict[str, int] = {
            label: matching_size(a.extents, b.extents, shared) for label, shared in by_label.items()
        }
        exact_cells = self._pooled.cells("exact_labelled", pair)
        overlap_cells = self._pooled.cells("overlap_labelled", pair)
        matched = first = second = 0
        for label in a.by_label.keys() | b.by_label.keys():
            n_a, n_b = len(a.by_label.get(label, ())), len(b.by_label.get(label, ()))
            _pool(exact_cells, label, exact.get(label, 0), n_a, n_b)
            hit = overlap.get(label, 0)
            _pool(overlap_cells, label, hit, n_a, n_b)
            matched, first, second = matched + hit, first + n_a, second + n_b
        n_a, n_b = len(a.extents), len(b.extents)
        same = len(a.at.keys() & b.at.keys())
        _pool(self._pooled.cells("exact_unlabelled", pair), None, same, n_a, n_b)
        _pool(self._pooled.cells("overlap_unlabelled", pair), None, len(alignment), n_a, n_b)
        extents_a, extents_b = a.extents, b.extents
        credit = sum(1.0 if extents_a[i] == extents_b[j] else 0.5 for i, j in alignment)
        _pool(self._pooled.cells("partial_credit_unlabelled", pair), None, credit, n_a, n_b)
        return F1Counts(matched, first, second).f1

    def _add_relations(
        self, pair: Pair, a: _Annotation, b: _Annotation, aligned: list[tuple[Extent, Extent]]
    ) -> None:
        pooled = self._relations
        types_a, types_b = a.relation_types, b.relation_types
        mapping = dict(aligned)
        mapped = {
            (mapping[s], mapping[t], kind)
            for s, t, kind in a.relations
            if s in mapping and t in mapping
        }
        mapped_unlabelled = {
            (mapping[s], mapping[t])
            for s, t in a.relations_unlabelled
            if s in mapping and t in mapping
        }
        kinds = types_a.keys() | types_b.keys()
        for mode, hits in (
            ("exact_labelled", a.relations & b.relations),
            ("aligned_labelled", mapped & b.relations),
        ):
            per_type: dict[str, int] = {}
            for _, _, kind in hits:
                per_type[kind] = per_type.get(kind, 0) + 1
            cells = pooled.cells(mode, pair)
            for kind in kinds:
                hit = per_type.get(kind, 0)
                _pool(cells, kind, hit, types_a.get(kind, 0), types_b.get(kind, 0))
        n_a, n_b = len(a.relations_unlabelled), len(b.relations_unlabelled)
        exact_hits = len(a.relations_unlabelled & b.relations_unlabelled)
        _pool(pooled.cells("exact_unlabelled", pair), None, exact_hits, n_a, n_b)
        aligned_hits = len(mapped_unlabelled & b.relations_unlabelled)
        _pool(pooled.cells("aligned_unlabelled", pair), None, aligned_hits, n_a, n_b)

    def _add_relation_items(self, annotations: Mapping[str, _Annotation]) -> None:
        linked: dict[tuple[Extent, Extent], dict[str, str | None]] = {}
        for name in sorted(annotations):
            # sorted: a set of strings iterates in an order that changes with the hash seed,
            # and the first-seen order here becomes the key order of the report
            for source, target, kind in sorted(annotations[name].relations):
                item = linked.setdefault((source, target), {})
                if name in item:
                    item[name] = None  # two types on one pair: no single value to compare
                    self._ambiguous += 1
                else:
                    item[name] = kind
        names = sorted(annotations)
        with_missing = self._relation_missing.signatures
        with_none = self._relation_none.signatures
        for item in linked.values():
            # Signatures built directly in annotator order (this runs for every linked pair).
            missing: list[tuple[str, Hashable]] = []
            none: list[tuple[str, Hashable]] = []
            for name in names:
                value = item.get(name, "")
                if value is None:
                    continue
                if value:
                    missing.append((name, value))
                none.append((name, value or "none"))
            if missing:
                with_missing[tuple(missing)] += 1
            with_none[tuple(none)] += 1

    def _add_aligned_labels(
        self, pair: Pair, a: _Annotation, b: _Annotation, alignment: list[tuple[int, int]]
    ) -> None:
        # Keys are collected and counted in one Counter.update each (first-seen order kept):
        # this runs for every aligned pair in the corpus.
        matrix = self._confusion.get(pair)
        if matrix is None:
            matrix = self._confusion[pair] = Counter()
        cells: list[tuple[str | None, str | None]] = []
        values: list[tuple[Pair, str, str | None, str | None]] = []
        confusion, attributes = self.confusion, self.attributes
        single_a, single_b = a.single, b.single
        stacked = 0
        for i, j in alignment:
            span_a, span_b = single_a[i], single_b[j]
            if span_a is None or span_b is None:
                stacked += 1
                continue
            if confusion:
                cells.append((span_a.label, span_b.label))
            if attributes and (span_a.attributes or span_b.attributes):
                # raw counts now, item signatures once at the end
                attributes_a, attributes_b = span_a.attributes, span_b.attributes
                for name, value in attributes_a.items():
                    values.append((pair, name, value, attributes_b.get(name)))
                for name, value in attributes_b.items():
                    if name not in attributes_a:
                        values.append((pair, name, None, value))
        self._stacked += stacked
        self._aligned += len(alignment) - stacked
        if values:
            self._attribute_values.update(values)
        if confusion:
            # Unaligned spans in the order they came (the matrix keeps first-seen order).
            if len(alignment) < len(single_a):
                taken = {i for i, _ in alignment}
                spans_at = a.spans_at
                for x in a.first_seen:
                    if x not in taken:
                        for span in spans_at[x]:
                            cells.append((span.label, None))
            if len(alignment) < len(single_b):
                taken = {j for _, j in alignment}
                spans_at = b.spans_at
                for x in b.first_seen:
                    if x not in taken:
                        for span in spans_at[x]:
                            cells.append((None, span.label))
            self._unaligned += len(cells) - (len(alignment) - stacked)
            matrix.update(cells)

    def span_report(self) -> SpanF1Report:
        pooled = self._pooled
        return SpanF1Report(
            exact_labelled=pooled.summary("exact_labelled", labelled=True),
            exact_unlabelled=pooled.summary("exact_unlabelled", labelled=False),
            overlap_labelled=pooled.summary("overlap_labelled", labelled=True),
            overlap_unlabelled=pooled.summary("overlap_unlabelled", labelled=False),
            partial_credit=pooled.summary("partial_credit_unlabelled", labelled=False),
            per_document=tuple(sorted(self._per_document, key=_worst_first)),
        )

    def relation_report(self) -> RelationReport:
        pooled = self._relations
        return RelationReport(
            exact_labelled=pooled.summary("exact_labelled", labelled=True),
            exact_unlabelled=pooled.summary("exact_unlabelled", labelled=False),
            aligned_labelled=pooled.summary("aligned_labelled", labelled=True),
            aligned_unlabelled=pooled.summary("aligned_unlabelled", labelled=False),
            coding_none=self._relation_none.report(),
            coding_missing=self._relation_missing.report(),
            ambiguous=self._ambiguous,
        )

    def confusion_report(self) -> LabelConfusion:
        pooled: Counter[tuple[str | None, str | None]] = Counter()
        for matrix in self._confusion.values():
            for (x, y), count in matrix.items():
                pooled[(x, y)] += count
                pooled[(y, x)] += count
        labels = sorted({label for cell in pooled for label in cell if label is not None})
        return LabelConfusion(
            counts=dict(pooled),
            pairs={pair: dict(matrix) for pair, matrix in sorted(self._confusion.items())},
            labels=tuple(labels),
            aligned=self._aligned,
            unaligned=self._unaligned,
            stacked=self._stacked,
        )

    def attribute_reports(self) -> dict[str, CodingReport]:
        names = self.attribute_names
        accumulators: dict[str, CodingAccumulator] = {}
        for (pair, name, value_a, value_b), count in self._attribute_values.items():
            if names is not None and name not in names:
                continue
            signature: list[tuple[str, Hashable]] = []
            if value_a is not None:
                signature.append((pair[0], value_a))
            if value_b is not None:
                signature.append((pair[1], value_b))
            accumulator = accumulators.setdefault(name, CodingAccumulator())
            accumulator.signatures[tuple(signature)] += count
        return {name: acc.report() for name, acc in sorted(accumulators.items())}


def _label_set(labels: str | frozenset[str]) -> frozenset[str]:
    return frozenset((labels,)) if isinstance(labels, str) else labels


def _worst_first(entry: tuple[str, Measure]) -> tuple[bool, float, str]:
    value = entry[1].value
    return (value is None, value if value is not None else 0.0, entry[0])


def _run(documents: Iterable[AnnotatedDocument], **parts: bool) -> PairwiseAccumulator:
    accumulator = PairwiseAccumulator(
        spans=parts.get("spans", False),
        relations=parts.get("relations", False),
        confusion=parts.get("confusion", False),
        attributes=parts.get("attributes", False),
    )
    for document in documents:
        accumulator.add(document)
    return accumulator


def span_f1(documents: Iterable[AnnotatedDocument]) -> SpanF1Report:
    """Pairwise span F1 in every matching mode, counts pooled over documents (§3.3)."""
    return _run(documents, spans=True).span_report()


def relation_f1(documents: Iterable[AnnotatedDocument]) -> RelationReport:
    """Pairwise relation F1, exact and aligned endpoints, labelled and unlabelled (§4)."""
    return _run(documents, relations=True).relation_report()


def label_confusion(documents: Iterable[AnnotatedDocument]) -> LabelConfusion:
    """The label confusion matrix over aligned spans (rule 6)."""
    return _run(documents, confusion=True).confusion_report()


def attribute_agreement(
    documents: Iterable[AnnotatedDocument], *, names: Iterable[str] | None = None
) -> dict[str, CodingReport]:
    """Coding agreement on span attributes; each aligned span pair is one item (rule 6).

    ``names`` restricts the attributes measured (default: every attribute seen).
    """
    accumulator = PairwiseAccumulator(
        spans=False,
        relations=False,
        confusion=False,
        attributes=True,
        attribute_names=None if names is None else frozenset(names),
    )
    for document in documents:
        accumulator.add(document)
    return accumulator.attribute_reports()
