"""Plain input records for the agreement measures, built by a selector from submitted annotations.

They are deliberately minimal and carry their document and annotator, so a flat export row and a
record are the same thing. Measures consume them grouped by document (:class:`AnnotatedDocument`),
which is how a selector streams them and what keeps every measure linear in the corpus size.

Offsets are code points, half-open ``[start, end)``, as everywhere in the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["AnnotatedDocument", "DocumentStance", "Extent", "Relation", "Span"]

#: ``(start, end)`` of a span: what relation endpoints point at and what the alignment pairs.
Extent = tuple[int, int]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Span:
    """One annotator's span in one document, with its label and attribute values.

    Zero-length spans are rejected here rather than measured: unitizing alpha gives them no mass
    (DKPro returns arbitrary 0.0/1.0 for them) and the project never stores them anyway.
    ``attributes`` is copied into a read-only mapping and takes no part in hashing.
    """

    doc_id: str
    annotator: str
    start: int
    end: int
    label: str
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if self.start < 0 or self.end <= self.start:
            raise ValueError(
                f"span [{self.start}, {self.end}) of {self.annotator!r} in {self.doc_id!r} "
                "is empty or negative; agreement needs 0 <= start < end"
            )
        if self.attributes and not isinstance(self.attributes, MappingProxyType):
            object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @property
    def extent(self) -> Extent:
        return (self.start, self.end)


@dataclass(frozen=True, slots=True)
class Relation:
    """A directed, typed edge between two of one annotator's spans, given by their extents.

    Endpoints are extents, not span ids: ids are private to one annotation, while offsets are what
    two annotators can agree on (and what the reference cases use).
    """

    doc_id: str
    annotator: str
    source: Extent
    target: Extent
    type: str


@dataclass(frozen=True, slots=True)
class DocumentStance:
    """One annotator's stance ``value`` towards ``target`` for one document."""

    doc_id: str
    annotator: str
    target: str
    value: str


@dataclass(frozen=True)
class AnnotatedDocument:
    """Everything the span and relation measures need about one document.

    ``annotators`` lists who *submitted* the document: someone listed with no spans agreed that
    there is nothing to mark (and counts, strongly), while someone not listed is simply absent.
    Only submitted work belongs here. ``text_length`` is the real length of the text in code
    points: unitizing alpha depends on it.
    """

    doc_id: str
    text_length: int
    annotators: tuple[str, ...]
    spans: tuple[Span, ...] = ()
    relations: tuple[Relation, ...] = ()

    def __post_init__(self) -> None:
        if len(set(self.annotators)) != len(self.annotators):
            raise ValueError(f"document {self.doc_id!r} lists an annotator twice")
        if self.text_length < 0:
            raise ValueError(f"document {self.doc_id!r} has a negative text length")
        present = set(self.annotators)
        extents: set[tuple[str, Extent]] = set()
        for span in self.spans:
            # checked on every document of every report: the message is built only on failure
            if (
                span.doc_id != self.doc_id
                or span.annotator not in present
                or span.end > self.text_length
            ):
                self._refuse(span)
            extents.add((span.annotator, (span.start, span.end)))
        for relation in self.relations:
            if relation.doc_id != self.doc_id:
                raise ValueError(
                    f"a relation of {relation.doc_id!r} is filed under {self.doc_id!r}"
                )
            for endpoint in (relation.source, relation.target):
                if (relation.annotator, endpoint) not in extents:
                    raise ValueError(
                        f"relation endpoint {endpoint} of {relation.annotator!r} in "
                        f"{self.doc_id!r} is not one of that annotator's spans"
                    )

    def _refuse(self, span: Span) -> None:
        where = f"span [{span.start}, {span.end}) of {span.annotator!r}"
        if span.doc_id != self.doc_id:
            raise ValueError(f"{where} belongs to {span.doc_id!r}, not {self.doc_id!r}")
        if span.annotator not in set(self.annotators):
            raise ValueError(f"{where}: the annotator has not submitted {self.doc_id!r}")
        raise ValueError(f"{where} ends past the text (length {self.text_length})")
