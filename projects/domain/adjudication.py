"""Adjudication: proposing a document's gold annotation from several annotators' work.

A reviewer builds the gold annotation by starting from an automatic merge (what all, or a
majority, of the annotators agree on) and then accepting, editing or rejecting each remaining
candidate. This module is the pure part of that: it turns the submitted annotations of one
document (the agreement records, :mod:`projects.domain.agreement.records`) into candidates with
their provenance, decides what the automatic merge may take, and scores how much work a document
needs so the review queue can put the contested ones first. Who decided, and when, is recorded by
the caller; here a candidate only says who *proposed* it.

Spans are grouped with the label-independent one-to-one alignment of AGREEMENT.md rule 6
(:func:`~projects.domain.agreement.matching.overlap_matching`), so candidates that differ only in a
boundary or a label land in the same *cluster* and are presented to the reviewer as alternatives
for one argument component.

Every result is independent of the order in which annotators, spans, relations or stances are
listed: inputs are put into a canonical order first, and ties are never broken by position.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from projects.domain.agreement.matching import overlap_matching
from projects.domain.agreement.records import (
    AnnotatedDocument,
    DocumentStance,
    Extent,
    Span,
)

__all__ = [
    "Candidate",
    "Kind",
    "RelationCandidate",
    "StanceCandidate",
    "auto_accept",
    "disagreement",
    "merge_relations",
    "merge_spans",
    "merge_stances",
]

#: How widely a candidate is supported among the annotators who submitted the document.
Kind = Literal["unanimous", "majority", "minority"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _kind(support: int, submitted: int) -> Kind:
    """``unanimous`` when everyone who submitted proposed it, ``majority`` when more than half."""
    if submitted and support >= submitted:
        return "unanimous"
    if 2 * support > submitted:
        return "majority"
    return "minority"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One distinct ``(extent, label)`` proposed by at least one annotator, with its provenance.

    ``cluster`` numbers the group of aligned spans the candidate came from (0, 1, … in text
    order): candidates of one cluster are rival versions of the same argument component, which is
    what the reviewer chooses between and what :func:`auto_accept` must not accept twice with
    different labels. ``attributes`` are the supporters' plurality values (see
    :func:`merge_spans`) and take no part in hashing, like :class:`Span`'s.
    """

    start: int
    end: int
    label: str
    proposed_by: tuple[str, ...]
    kind: Kind
    cluster: int
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.attributes, MappingProxyType):
            object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @property
    def extent(self) -> Extent:
        return (self.start, self.end)

    @property
    def support(self) -> int:
        """How many distinct annotators proposed exactly this extent and label."""
        return len(self.proposed_by)


@dataclass(frozen=True, slots=True)
class RelationCandidate:
    """A typed relation between two gold extents, with the annotators whose arrows map onto it."""

    source: Extent
    target: Extent
    type: str
    proposed_by: tuple[str, ...]
    kind: Kind

    @property
    def support(self) -> int:
        return len(self.proposed_by)


@dataclass(frozen=True, slots=True)
class StanceCandidate:
    """The merged document-level stance towards one target.

    ``value`` is the value with the most votes, or ``None`` when two or more values tie for first
    place: a tie is a decision for the reviewer, not for the order of the input. ``votes`` maps
    each value to the sorted names of the annotators who chose it; ``kind`` describes the winning
    value's support (a tie is always ``minority``).
    """

    target: str
    value: str | None
    votes: Mapping[str, tuple[str, ...]]
    kind: Kind

    def __post_init__(self) -> None:
        if not isinstance(self.votes, MappingProxyType):
            object.__setattr__(self, "votes", MappingProxyType(dict(self.votes)))


# --- spans ---------------------------------------------------------------------------------------


def _span_order(span: Span) -> tuple[int, int, str, tuple[tuple[str, str], ...]]:
    return (span.start, span.end, span.label, tuple(sorted(span.attributes.items())))


def _clusters(document: AnnotatedDocument) -> list[list[Span]]:
    """Group the spans into clusters: connected components of the alignment between annotators.

    Two spans share a cluster when :func:`overlap_matching` aligns them for some pair of
    annotators, or when they have the same extent (so a label disagreement never splits an
    extent into two clusters, and every ``(extent, label)`` occurs in exactly one cluster).
    Connected components over *all* pairs were chosen over greedy matching against a pivot
    annotator because they need no pivot to be chosen and the partition does not depend on the
    order in which the pairs are examined; the matching itself is symmetric (rule 6), and each
    annotator's spans are passed to it in a canonical order.
    """
    by_annotator: dict[str, list[Span]] = defaultdict(list)
    for span in document.spans:
        by_annotator[span.annotator].append(span)
    names = sorted(by_annotator)
    for name in names:
        by_annotator[name].sort(key=_span_order)
    nodes = [(name, index) for name in names for index in range(len(by_annotator[name]))]
    parent: dict[tuple[str, int], tuple[str, int]] = {node: node for node in nodes}

    def find(node: tuple[str, int]) -> tuple[str, int]:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: tuple[str, int], b: tuple[str, int]) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)

    first_with_extent: dict[Extent, tuple[str, int]] = {}
    for node in nodes:
        extent = by_annotator[node[0]][node[1]].extent
        union(node, first_with_extent.setdefault(extent, node))
    extents = {name: [span.extent for span in by_annotator[name]] for name in names}
    for x, a in enumerate(names):
        for b in names[x + 1 :]:
            for i, j in overlap_matching(extents[a], extents[b]):
                union((a, i), (b, j))
    groups: dict[tuple[str, int], list[Span]] = defaultdict(list)
    for node in nodes:
        groups[find(node)].append(by_annotator[node[0]][node[1]])
    return sorted(
        (sorted(group, key=_span_order) for group in groups.values()),
        key=lambda group: _span_order(group[0]),
    )


def _plurality(values: Iterable[str]) -> str | None:
    """The most frequent value, or ``None`` when there is none or the first place is shared."""
    ranked = Counter(values).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def merge_spans(document: AnnotatedDocument) -> tuple[Candidate, ...]:
    """Every distinct ``(extent, label)`` the annotators proposed, as candidates in text order.

    Spans are clustered by the rule 6 alignment (see :func:`_clusters`); inside a cluster each
    distinct extent and label becomes one candidate, supported by the annotators who marked
    exactly that. An annotator who marked the same extent and label twice supports it once, with
    the attributes of their first such span in canonical order.

    A candidate's attributes are, per attribute, the plurality value among the supporters who set
    it; when two values tie for first place the attribute is left unset, because picking one
    would let input order (or an arbitrary rule) make a decision that belongs to the reviewer.
    Order: by start, end, label (unique, as every extent lives in one cluster).
    """
    submitted = len(document.annotators)
    candidates: list[Candidate] = []
    for number, group in enumerate(_clusters(document)):
        votes: dict[tuple[int, int, str], dict[str, Span]] = defaultdict(dict)
        for span in group:
            votes[(span.start, span.end, span.label)].setdefault(span.annotator, span)
        for (start, end, label), supporters in votes.items():
            keys = sorted({key for span in supporters.values() for key in span.attributes})
            attributes = {}
            for key in keys:
                value = _plurality(
                    span.attributes[key] for span in supporters.values() if key in span.attributes
                )
                if value is not None:
                    attributes[key] = value
            names = tuple(sorted(supporters))
            candidates.append(
                Candidate(
                    start=start,
                    end=end,
                    label=label,
                    proposed_by=names,
                    kind=_kind(len(names), submitted),
                    cluster=number,
                    attributes=attributes,
                )
            )
    candidates.sort(key=lambda c: (c.start, c.end, c.label))
    return tuple(candidates)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.start < b.end and b.start < a.end


def auto_accept(
    candidates: Iterable[Candidate], *, policy: Literal["unanimous", "majority"]
) -> tuple[tuple[Candidate, ...], tuple[Candidate, ...]]:
    """Split candidates into what the automatic merge takes and what remains for the reviewer.

    ``policy="unanimous"`` takes only unanimous candidates; ``"majority"`` also takes majority
    ones. An eligible candidate that overlaps another eligible candidate of its cluster with a
    different label is *not* taken, and neither is that rival: with conflicting readings both
    backed by the policy, choosing one is the reviewer's decision (this only happens when
    annotators marked one extent twice with different labels). Both tuples keep the canonical
    order of :func:`merge_spans`.
    """
    if policy not in ("unanimous", "majority"):
        raise ValueError(f"unknown auto-accept policy {policy!r}")
    allowed = {"unanimous"} if policy == "unanimous" else {"unanimous", "majority"}
    ordered = sorted(candidates, key=lambda c: (c.start, c.end, c.label))
    eligible = [c for c in ordered if c.kind in allowed]
    conflicting = {
        id(a)
        for a in eligible
        for b in eligible
        if a.cluster == b.cluster and a.label != b.label and _overlaps(a, b)
    }
    accepted = tuple(c for c in eligible if id(c) not in conflicting)
    taken = {id(c) for c in accepted}
    remaining = tuple(c for c in ordered if id(c) not in taken)
    return accepted, remaining


# --- relations -----------------------------------------------------------------------------------


def merge_relations(
    document: AnnotatedDocument, accepted_extents: Iterable[Extent]
) -> tuple[RelationCandidate, ...]:
    """Relation candidates between the accepted (gold) spans, with their supporters.

    Each annotator's span extents are aligned to the accepted extents with
    :func:`overlap_matching` (rule 6, labels ignored), and each relation's endpoints are mapped
    through that alignment. Aligning to the accepted extents themselves, rather than to the
    clusters of :func:`merge_spans`, keeps this correct when the reviewer edited a boundary. A
    relation with an endpoint that has no aligned partner is dropped: it cannot become gold
    without a span to attach to. ``kind`` counts distinct annotators against everyone who
    submitted the document. Order: by source, target, type.
    """
    gold = sorted(set(accepted_extents))
    own: dict[str, list[Extent]] = defaultdict(list)
    for span in document.spans:
        own[span.annotator].append(span.extent)
    mapping: dict[str, dict[Extent, Extent]] = {}
    for name, extents in own.items():
        unique = sorted(set(extents))
        mapping[name] = {unique[i]: gold[j] for i, j in overlap_matching(unique, gold)}
    supporters: dict[tuple[Extent, Extent, str], set[str]] = defaultdict(set)
    for relation in document.relations:
        aligned = mapping.get(relation.annotator, {})
        source, target = aligned.get(relation.source), aligned.get(relation.target)
        if source is not None and target is not None:
            supporters[(source, target, relation.type)].add(relation.annotator)
    submitted = len(document.annotators)
    return tuple(
        RelationCandidate(
            source=source,
            target=target,
            type=type_,
            proposed_by=tuple(sorted(names)),
            kind=_kind(len(names), submitted),
        )
        for (source, target, type_), names in sorted(supporters.items())
    )


# --- document stances ----------------------------------------------------------------------------


def merge_stances(
    stances: Iterable[DocumentStance], annotators: Iterable[str]
) -> dict[str, StanceCandidate]:
    """The merged stance per target of one document, with every annotator's vote.

    Only stances of ``annotators`` (those who submitted the document) count, and all of them
    count in the denominator of ``kind``, including those who gave no stance for a target. The
    stances must belong to one document, and one annotator may give one value per target: anything
    else is a selector bug and raises :class:`ValueError`. Targets appear in sorted order.
    """
    present = set(annotators)
    choices: dict[str, dict[str, str]] = defaultdict(dict)
    documents: set[str] = set()
    for stance in stances:
        if stance.annotator not in present:
            continue
        documents.add(stance.doc_id)
        previous = choices[stance.target].setdefault(stance.annotator, stance.value)
        if previous != stance.value:
            raise ValueError(
                f"{stance.annotator!r} gave two stances towards {stance.target!r} "
                f"in {stance.doc_id!r}"
            )
    if len(documents) > 1:
        raise ValueError(f"stances of several documents merged together: {sorted(documents)}")
    merged: dict[str, StanceCandidate] = {}
    for target in sorted(choices):
        by_value: dict[str, list[str]] = defaultdict(list)
        for name, value in choices[target].items():
            by_value[value].append(name)
        votes = {value: tuple(sorted(names)) for value, names in sorted(by_value.items())}
        winner = _plurality(value for value in choices[target].values())
        support = len(votes[winner]) if winner is not None else 0
        merged[target] = StanceCandidate(
            target=target,
            value=winner,
            votes=votes,
            kind=_kind(support, len(present)) if winner is not None else "minority",
        )
    return merged


# --- queue order ---------------------------------------------------------------------------------


def disagreement(document: AnnotatedDocument) -> float:
    """How contested a document's spans are, in [0, 1], for ordering the adjudication queue.

    Defined as 1 − (spans that belong to a unanimous candidate) / (all spans), counting every
    annotator's span records. 0 means the automatic merge can take everything; a document in
    which nobody marked anything is 0 (there is nothing to adjudicate), and so is a document with
    a single annotator. Relations and stances are not included: the queue is ordered by what
    costs the reviewer most, the span decisions, which the relations then depend on.
    """
    if not document.spans:
        return 0.0
    unanimous = {(c.start, c.end, c.label) for c in merge_spans(document) if c.kind == "unanimous"}
    agreed = sum((s.start, s.end, s.label) in unanimous for s in document.spans)
    return 1.0 - agreed / len(document.spans)
