"""Plain records an export is built from, and the options that shape it.

The selector turns database rows into these (streamed, one document at a time); the pure functions
in this package choose which annotations go out (gold, all, merged), assign splits, and write the
file. Nothing here knows about Django, so every writer is tested in milliseconds and a format's
output depends only on these records and the options: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "ANNOTATION_CHOICES",
    "FORMATS",
    "ExportAnnotation",
    "ExportDocument",
    "ExportOptions",
    "ExportRelation",
    "ExportScheme",
    "ExportSpan",
    "ExportStance",
]

#: Format name -> file extension of the main file (FORMATS.md, "Export formats").
FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "jsonl": ".jsonl",
        "csv": ".csv",
        "conll": ".conll",
        "brat": ".zip",
        "spacy": ".spacy",
        "hf": ".zip",
    }
)

#: Which annotations an export carries: the adjudicated gold, every annotator's, or a majority
#: merge.
ANNOTATION_CHOICES: tuple[str, ...] = ("gold", "all", "merged")

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class ExportSpan:
    """``[start, end)`` in code points of the document text; ``text`` is ``text[start:end]``.

    ``id`` is the span's client id, unique within its annotation, and what relations point at.
    """

    id: str
    start: int
    end: int
    label: str
    text: str
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)


@dataclass(frozen=True)
class ExportRelation:
    """A directed, typed edge between two span ids of the same annotation."""

    source: str
    target: str
    type: str


@dataclass(frozen=True)
class ExportStance:
    """The annotation's stance ``value`` towards the stance target named ``target``."""

    target: str
    value: str


@dataclass(frozen=True)
class ExportAnnotation:
    """One annotator's work on a document, the gold (``annotator`` None, ``gold`` True), or a
    merge (``annotator`` "merged"). Spans are sorted by (start, end, label, id); relations by
    (source, target, type); stances by target: the selector guarantees the order, so writers
    never sort."""

    annotator: str | None
    gold: bool
    status: str
    spans: tuple[ExportSpan, ...] = ()
    relations: tuple[ExportRelation, ...] = ()
    stances: tuple[ExportStance, ...] = ()


@dataclass(frozen=True)
class ExportDocument:
    """A document with the annotations chosen for export. Documents arrive ordered by
    ``external_id``; annotations by annotator name, gold last. ``split`` is set by
    :func:`projects.domain.exports.select.shape_document`."""

    external_id: str
    title: str
    text: str
    meta: Mapping[str, object] = field(default_factory=lambda: _EMPTY, hash=False)
    annotations: tuple[ExportAnnotation, ...] = ()
    split: str = "train"


@dataclass(frozen=True)
class ExportScheme:
    """What a writer needs to know of the scheme: names in scheme order (labels become class ids
    in ``hf`` and tag sets in ``conll``), plus the version recorded in the manifest."""

    version: int
    labels: tuple[str, ...]
    relation_types: tuple[str, ...] = ()
    stance_targets: tuple[str, ...] = ()
    stance_values: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ("source", "stance")


@dataclass(frozen=True)
class ExportOptions:
    """The user's choices. ``splits`` is a tuple of (name, ratio) whose ratios sum to 1, e.g.
    (("train", 0.8), ("validation", 0.1), ("test", 0.1)); one split named "train" by default."""

    format: str = "jsonl"
    annotations: str = "all"
    include_unfinished: bool = False
    splits: tuple[tuple[str, float], ...] = (("train", 1.0),)
    seed: int = 0
    relations: bool = True
    stances: bool = True

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, in a fixed key order, for the manifest and the Export row."""
        return {
            "format": self.format,
            "annotations": self.annotations,
            "include_unfinished": self.include_unfinished,
            "splits": [[name, ratio] for name, ratio in self.splits],
            "seed": self.seed,
            "relations": self.relations,
            "stances": self.stances,
        }
