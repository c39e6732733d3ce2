"""Choosing what goes into an export: option validation, split assignment, and shaping each
document's annotations (gold only, everyone's, or a majority merge).

The selector streams every annotation of a document (any status, gold included);
:func:`shape_document` turns it into exactly what the writers receive. Writers then never decide
anything, so every format carries the same content for the same options.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from projects.domain import adjudication
from projects.domain.agreement.records import (
    AnnotatedDocument,
    DocumentStance,
    Relation,
    Span,
)
from projects.domain.exports.records import (
    ANNOTATION_CHOICES,
    FORMATS,
    ExportAnnotation,
    ExportDocument,
    ExportOptions,
    ExportRelation,
    ExportSpan,
    ExportStance,
)

__all__ = [
    "MERGED_ANNOTATOR",
    "SPLIT_NAMES",
    "InvalidExportOptions",
    "OptionProblem",
    "assign_split",
    "merge_majority",
    "shape_document",
    "validate_options",
]

#: The split names ``datasets`` and most training scripts expect, in their canonical order.
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
#: The annotator name a majority merge is exported under.
MERGED_ANNOTATOR = "merged"
#: Ratios may be typed as 0.8/0.1/0.1 and sum to 0.9999999999999999 in floating point.
RATIO_TOLERANCE = 1e-6

_FINISHED = "submitted"
_BOOLEAN_OPTIONS = ("include_unfinished", "relations", "stances")
_KNOWN_OPTIONS = ("format", "annotations", "splits", "seed", *_BOOLEAN_OPTIONS)


# --- options -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionProblem:
    """One thing wrong with the requested options; ``field`` is the option's name."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidExportOptions(ValueError):
    """Every problem with a set of export options, each naming its field."""

    def __init__(self, problems: Sequence[OptionProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


def validate_options(raw: Mapping[str, object]) -> ExportOptions:
    """Turn options from the API, the page form or the CLI into :class:`ExportOptions`.

    Missing options take their defaults; unknown ones are refused (a typo must not silently
    export something else). ``splits`` may be a list of ``[name, ratio]`` pairs (the shape
    :meth:`ExportOptions.as_dict` writes) or an object ``{name: ratio}``; either way they are
    stored in the canonical order train, validation, test, so the same choice written two ways
    is the same export. Raises :class:`InvalidExportOptions` listing every problem.
    """
    problems: list[OptionProblem] = []
    defaults = ExportOptions()
    for key in raw:
        if key not in _KNOWN_OPTIONS:
            problems.append(
                OptionProblem(
                    str(key), f"unknown option; the options are {', '.join(_KNOWN_OPTIONS)}"
                )
            )

    format_ = raw.get("format", defaults.format)
    if not isinstance(format_, str) or format_ not in FORMATS:
        problems.append(
            OptionProblem(
                "format", f"{format_!r} is not a format; choose one of {', '.join(FORMATS)}"
            )
        )
    annotations = raw.get("annotations", defaults.annotations)
    if not isinstance(annotations, str) or annotations not in ANNOTATION_CHOICES:
        problems.append(
            OptionProblem(
                "annotations",
                f"{annotations!r} is not a choice; choose one of {', '.join(ANNOTATION_CHOICES)}",
            )
        )
    flags: dict[str, bool] = {}
    for name in _BOOLEAN_OPTIONS:
        value = raw.get(name, getattr(defaults, name))
        if not isinstance(value, bool):
            problems.append(OptionProblem(name, f"must be true or false, not {value!r}"))
        else:
            flags[name] = value
    seed = raw.get("seed", defaults.seed)
    if not isinstance(seed, int) or isinstance(seed, bool):
        problems.append(OptionProblem("seed", f"must be an integer, not {seed!r}"))
    splits = _validate_splits(raw.get("splits", defaults.splits), problems)

    if problems:
        raise InvalidExportOptions(problems)
    assert isinstance(format_, str) and isinstance(annotations, str) and isinstance(seed, int)
    assert splits is not None
    return ExportOptions(
        format=format_,
        annotations=annotations,
        include_unfinished=flags["include_unfinished"],
        splits=splits,
        seed=seed,
        relations=flags["relations"],
        stances=flags["stances"],
    )


def _validate_splits(
    raw: object, problems: list[OptionProblem]
) -> tuple[tuple[str, float], ...] | None:
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list | tuple):
        for index, item in enumerate(raw):
            if not isinstance(item, list | tuple) or len(item) != 2:
                problems.append(
                    OptionProblem(f"splits[{index}]", f"must be a [name, ratio] pair, not {item!r}")
                )
                return None
            pairs.append((item[0], item[1]))
    else:
        problems.append(
            OptionProblem(
                "splits", "must be a list of [name, ratio] pairs or a {name: ratio} object"
            )
        )
        return None
    if not pairs:
        problems.append(OptionProblem("splits", "must name at least one split"))
        return None
    before = len(problems)
    seen: set[str] = set()
    ratios: dict[str, float] = {}
    for name, ratio in pairs:
        if not isinstance(name, str) or name not in SPLIT_NAMES:
            problems.append(
                OptionProblem(
                    "splits", f"{name!r} is not a split name; use {', '.join(SPLIT_NAMES)}"
                )
            )
            continue
        if name in seen:
            problems.append(OptionProblem("splits", f"split {name!r} is named twice"))
            continue
        seen.add(name)
        if (
            not isinstance(ratio, int | float)
            or isinstance(ratio, bool)
            or not math.isfinite(ratio)
            or ratio <= 0
        ):
            problems.append(
                OptionProblem(
                    f"splits.{name}", f"the ratio must be a number above 0, not {ratio!r}"
                )
            )
            continue
        ratios[name] = float(ratio)
    if len(problems) > before:
        return None
    total = math.fsum(ratios.values())
    if abs(total - 1.0) > RATIO_TOLERANCE:
        problems.append(OptionProblem("splits", f"the ratios must add up to 1, not {total:g}"))
        return None
    return tuple((name, ratios[name]) for name in SPLIT_NAMES if name in ratios)


# --- splits --------------------------------------------------------------------------------------


def assign_split(external_id: str, splits: Sequence[tuple[str, float]], seed: int) -> str:
    """The split of one document, from a hash of the seed and its id alone.

    The hash puts the document at a point in [0, 1), and the splits own consecutive intervals
    of that line in the order given. No other document takes part, so a document keeps its split
    when others are added or removed, and the same seed gives the same split on every machine
    (sha256, unlike Python's ``hash``, is not salted per process).
    """
    if not splits:
        raise ValueError("at least one split is needed")
    digest = hashlib.sha256(f"{seed}\x1f{external_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    bound = 0.0
    for name, ratio in splits:
        bound += ratio
        if point < bound:
            return name
    # Only reachable when the ratios sum to a hair under 1 in floating point.
    return splits[-1][0]


# --- shaping -------------------------------------------------------------------------------------


def _annotation_order(annotation: ExportAnnotation) -> tuple[bool, str]:
    return (annotation.gold, annotation.annotator or "")


def shape_document(document: ExportDocument, options: ExportOptions) -> ExportDocument | None:
    """The document as the export carries it, or None when it has nothing to export.

    ``document`` holds every annotation the selector found (any status, gold included). Unless
    ``include_unfinished`` is set only submitted work counts, the gold's included (a gold still
    being adjudicated is unfinished). Then ``gold`` keeps the gold alone, ``all`` every remaining
    annotation (by annotator name, gold last), and ``merged`` one majority merge of the
    remaining annotators' work (:func:`merge_majority`). None means skipped: no gold for
    ``gold``, no annotation at all for ``all`` and ``merged``. An annotation that is present but
    empty (an annotator found nothing to mark) is kept: that is a labelled negative.
    """
    kept = [
        annotation
        for annotation in document.annotations
        if options.include_unfinished or annotation.status == _FINISHED
    ]
    if options.annotations == "gold":
        chosen = [annotation for annotation in kept if annotation.gold]
    elif options.annotations == "all":
        chosen = sorted(kept, key=_annotation_order)
    elif options.annotations == "merged":
        voters = [annotation for annotation in kept if not annotation.gold]
        chosen = [merge_majority(document, voters)] if voters else []
    else:
        raise ValueError(
            f"unknown annotations choice {options.annotations!r}; "
            f"expected one of {', '.join(ANNOTATION_CHOICES)}"
        )
    if not chosen:
        return None
    if not options.relations or not options.stances:
        chosen = [
            replace(
                annotation,
                relations=annotation.relations if options.relations else (),
                stances=annotation.stances if options.stances else (),
            )
            for annotation in chosen
        ]
    return replace(
        document,
        annotations=tuple(chosen),
        split=assign_split(document.external_id, options.splits, options.seed),
    )


def merge_majority(
    document: ExportDocument, voters: Sequence[ExportAnnotation]
) -> ExportAnnotation:
    """One annotation of what more than half of ``voters`` agree on, annotator ``"merged"``.

    The same rules as the reviewer's automatic merge (:mod:`projects.domain.adjudication`,
    policy ``majority``): spans are clustered by the AGREEMENT.md rule 6 alignment and a
    ``(start, end, label)`` goes in when more than half of the voters marked exactly it (rival
    labels for one extent that both reach a majority are both left out); attributes are each
    the supporters' plurality value, unset on a tie. A relation goes in when more than half of
    the voters drew it between spans that align with the merged endpoints; a stance when more
    than half chose the same value. Merged spans are numbered ``m1``, ``m2``, … in text order.
    The status is "submitted" when every voter submitted, "in_progress" otherwise.
    """
    names: list[str] = []
    spans: list[Span] = []
    relations: list[Relation] = []
    stances: list[DocumentStance] = []
    doc_id = document.external_id
    for number, annotation in enumerate(sorted(voters, key=_annotation_order)):
        # Two annotations without a name (never from the selector) must still vote separately.
        name = annotation.annotator or f"#{number}"
        names.append(name)
        extent_of = {span.id: (span.start, span.end) for span in annotation.spans}
        spans.extend(
            Span(doc_id, name, span.start, span.end, span.label, span.attributes)
            for span in annotation.spans
        )
        relations.extend(
            Relation(doc_id, name, extent_of[r.source], extent_of[r.target], r.type)
            for r in annotation.relations
            if r.source in extent_of and r.target in extent_of
        )
        stances.extend(
            DocumentStance(doc_id, name, stance.target, stance.value)
            for stance in annotation.stances
        )
    work = AnnotatedDocument(
        doc_id=doc_id,
        text_length=len(document.text),
        annotators=tuple(names),
        spans=tuple(spans),
        relations=tuple(relations),
    )
    accepted, _remaining = adjudication.auto_accept(
        adjudication.merge_spans(work), policy="majority"
    )
    merged_spans: list[ExportSpan] = []
    id_of: dict[tuple[int, int], str] = {}
    for number, candidate in enumerate(accepted, start=1):
        span_id = f"m{number}"
        id_of.setdefault(candidate.extent, span_id)
        merged_spans.append(
            ExportSpan(
                id=span_id,
                start=candidate.start,
                end=candidate.end,
                label=candidate.label,
                text=document.text[candidate.start : candidate.end],
                attributes=dict(sorted(candidate.attributes.items())),
            )
        )
    winning = ("unanimous", "majority")
    merged_relations = sorted(
        {
            ExportRelation(id_of[r.source], id_of[r.target], r.type)
            for r in adjudication.merge_relations(work, list(id_of))
            if r.kind in winning and r.source != r.target
        },
        key=lambda r: (r.source, r.target, r.type),
    )
    merged_stances = [
        ExportStance(target, candidate.value)
        for target, candidate in adjudication.merge_stances(stances, names).items()
        if candidate.value is not None and candidate.kind in winning
    ]
    finished = all(annotation.status == _FINISHED for annotation in voters)
    return ExportAnnotation(
        annotator=MERGED_ANNOTATOR,
        gold=False,
        status=_FINISHED if finished else "in_progress",
        spans=tuple(merged_spans),
        relations=tuple(merged_relations),
        stances=tuple(merged_stances),
    )
