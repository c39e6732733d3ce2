"""Span, relation and stance records and their validation, shared by imports and the API.

Validation returns a list of :class:`Problem` rather than raising, so a caller can merge problems
from many records (a whole upload, or every span in one API request) and report them together.
Records are deliberately permissive about types (they are built straight from decoded JSON): the
validators are the gate, and they check types too, so ``"start": true`` is reported, not crashed on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from projects.domain.problems import Problem
from projects.domain.scheme import RelationType, SchemeSpec

__all__ = [
    "RelationIn",
    "SpanIn",
    "StanceIn",
    "validate_relations",
    "validate_span",
    "validate_span_content",
    "validate_span_ids",
    "validate_span_offsets",
    "validate_spans",
    "validate_stances",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    """Copy into a read-only mapping so a record cannot change behind a validator's back."""
    if isinstance(value, MappingProxyType) or not value:
        return value if value else _EMPTY
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class SpanIn:
    """A span ``[start, end)`` in code points, as received.

    ``attributes`` accepts any mapping and is stored as a read-only ``MappingProxyType`` copy: a
    mapping reads naturally (``span.attributes["stance"]``) and round-trips to JSON, and the copy
    keeps the record immutable. It takes no part in hashing (a mapping is unhashable); equality
    still compares it.
    """

    start: int
    end: int
    label: str
    id: str | None = None
    text: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)

    def __post_init__(self) -> None:
        if isinstance(self.attributes, Mapping):
            object.__setattr__(self, "attributes", _frozen_mapping(self.attributes))


@dataclass(frozen=True)
class RelationIn:
    """A typed edge between two spans of one annotation, by span id (JSON ``from``/``to``)."""

    source: str
    target: str
    type: str


@dataclass(frozen=True)
class StanceIn:
    """The annotation's stance ``value`` towards one of the scheme's stance ``target`` s."""

    target: str
    value: str


def _is_int(value: object) -> bool:
    """JSON ``true`` decodes to a Python bool, which *is* an int; as an offset it is a mistake."""
    return isinstance(value, int) and not isinstance(value, bool)


def _short(text: str, limit: int = 40) -> str:
    """Quote a piece of text for a message without pasting a whole paragraph into it."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def validate_span_offsets(text: str, span: SpanIn, *, field: str = "span") -> list[Problem]:
    """Check the offsets (and the quoted ``text``, which exists to catch offset mistakes)."""
    problems: list[Problem] = []
    start_ok = _is_int(span.start)
    end_ok = _is_int(span.end)
    if not start_ok:
        problems.append(
            Problem(f"start must be an integer, not {span.start!r}", field=f"{field}.start")
        )
    if not end_ok:
        problems.append(Problem(f"end must be an integer, not {span.end!r}", field=f"{field}.end"))
    if not (start_ok and end_ok):
        return problems
    start, end, length = span.start, span.end, len(text)
    if start < 0:
        problems.append(
            Problem(f"start {start} is negative", field=f"{field}.start", code="out_of_range")
        )
    if start > length:
        problems.append(
            Problem(
                f"start {start} is past the end of the text (length {length})",
                field=f"{field}.start",
                code="out_of_range",
            )
        )
    if end > length:
        problems.append(
            Problem(
                f"end {end} is past the end of the text (length {length})",
                field=f"{field}.end",
                code="out_of_range",
            )
        )
    if start == end:
        problems.append(Problem(f"the span is empty (start = end = {start})", field=f"{field}.end"))
    elif start > end:
        problems.append(Problem(f"end {end} is before start {start}", field=f"{field}.end"))
    if span.text is not None:
        if not isinstance(span.text, str):
            problems.append(Problem("text must be a string", field=f"{field}.text"))
        elif not problems and text[start:end] != span.text:
            problems.append(
                Problem(
                    f"span text {_short(span.text)} does not match the document text "
                    f"{_short(text[start:end])} at {start}-{end}",
                    field=f"{field}.text",
                    code="mismatch",
                )
            )
    return problems


def validate_span_content(
    span: SpanIn, scheme: SchemeSpec | None, *, field: str = "span"
) -> list[Problem]:
    """Check what does not depend on the text: id, label and attributes against the scheme.

    Without a scheme only the shapes are checked (an import may run before a scheme exists).
    """
    problems: list[Problem] = []
    if span.id is not None and (not isinstance(span.id, str) or not span.id):
        problems.append(Problem("a span id must be a non-empty string", field=f"{field}.id"))
    if not isinstance(span.label, str) or not span.label:
        problems.append(Problem("label must be a non-empty string", field=f"{field}.label"))
    elif scheme is not None and span.label not in scheme.label_names():
        existing = scheme.label(span.label)
        known = ", ".join(sorted(scheme.label_names()))
        message = (
            f"label {span.label!r} is retired"
            if existing is not None
            else f"unknown label {span.label!r} (the scheme has: {known})"
        )
        problems.append(Problem(message, field=f"{field}.label", code="unknown_label"))
    if not isinstance(span.attributes, Mapping):
        problems.append(Problem("attributes must be an object", field=f"{field}.attributes"))
        return problems
    for name, value in span.attributes.items():
        path = f"{field}.attributes.{name}"
        if not isinstance(value, str):
            problems.append(Problem(f"attribute {name!r} must be a string", field=path))
            continue
        if scheme is None:
            continue
        attribute = scheme.attribute(name)
        if attribute is None:
            known = ", ".join(a.name for a in scheme.span_attributes) or "none"
            problems.append(
                Problem(
                    f"unknown attribute {name!r} (the scheme has: {known})",
                    field=path,
                    code="unknown_attribute",
                )
            )
        elif attribute.kind == "choice" and value not in attribute.values:
            problems.append(
                Problem(
                    f"{value!r} is not a value of {name!r} "
                    f"(allowed: {', '.join(attribute.values)})",
                    field=path,
                    code="unknown_value",
                )
            )
    return problems


def validate_span(
    text: str, span: SpanIn, scheme: SchemeSpec | None, *, field: str = "span"
) -> list[Problem]:
    """Every problem with one span: offsets against ``text``, then label and attributes."""
    return validate_span_offsets(text, span, field=field) + validate_span_content(
        span, scheme, field=field
    )


def validate_span_ids(spans: Sequence[SpanIn], *, field_prefix: str = "spans") -> list[Problem]:
    """Span ids are what relations point at, so two spans sharing one make a relation ambiguous."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, span in enumerate(spans):
        if not isinstance(span.id, str) or not span.id:
            continue
        if span.id in first:
            problems.append(
                Problem(
                    f"span id {span.id!r} is already used by {field_prefix}[{first[span.id]}]",
                    field=f"{field_prefix}[{index}].id",
                    code="duplicate",
                )
            )
        else:
            first[span.id] = index
    return problems


def validate_spans(
    text: str,
    spans: Sequence[SpanIn],
    scheme: SchemeSpec | None,
    *,
    field_prefix: str = "spans",
) -> list[Problem]:
    """Every problem with every span (fields like ``spans[2].end``), plus duplicate span ids."""
    problems: list[Problem] = []
    for index, span in enumerate(spans):
        problems.extend(validate_span(text, span, scheme, field=f"{field_prefix}[{index}]"))
    problems.extend(validate_span_ids(spans, field_prefix=field_prefix))
    return problems


def _endpoint_allowed(allowed: tuple[str, ...], label: str) -> bool:
    return not allowed or label in allowed


def validate_relations(
    spans_by_id: Mapping[str, str],
    relations: Sequence[RelationIn],
    scheme: SchemeSpec | None,
    *,
    field_prefix: str = "relations",
) -> list[Problem]:
    """Every problem with the relations of one annotation.

    ``spans_by_id`` maps each span id of the annotation to its label. An undirected relation is
    allowed if either orientation fits the scheme, and A-B duplicates B-A.
    """
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, relation in enumerate(relations):
        path = f"{field_prefix}[{index}]"
        shapes_ok = True
        for key, value in (("from", relation.source), ("to", relation.target)):
            if not isinstance(value, str) or not value:
                problems.append(Problem(f"{key} must be a span id", field=f"{path}.{key}"))
                shapes_ok = False
            elif value not in spans_by_id:
                problems.append(
                    Problem(f"no span has id {value!r}", field=f"{path}.{key}", code="unknown_span")
                )
                shapes_ok = False
        relation_type = None
        if not isinstance(relation.type, str) or not relation.type:
            problems.append(Problem("type must be a non-empty string", field=f"{path}.type"))
            shapes_ok = False
        elif scheme is not None:
            relation_type = scheme.relation_type(relation.type)
            if relation_type is None:
                known = ", ".join(rt.name for rt in scheme.relation_types) or "none"
                problems.append(
                    Problem(
                        f"unknown relation type {relation.type!r} (the scheme has: {known})",
                        field=f"{path}.type",
                        code="unknown_type",
                    )
                )
        if isinstance(relation.source, str) and relation.source == relation.target:
            problems.append(
                Problem(
                    f"a relation cannot connect span {relation.source!r} to itself",
                    field=f"{path}.to",
                )
            )
            continue
        if not shapes_ok:
            continue
        directed = relation_type.directed if relation_type is not None else True
        source_label = spans_by_id[relation.source]
        target_label = spans_by_id[relation.target]
        if relation_type is not None:
            fits = _endpoint_allowed(relation_type.from_labels, source_label) and (
                _endpoint_allowed(relation_type.to_labels, target_label)
            )
            fits_reversed = _endpoint_allowed(relation_type.from_labels, target_label) and (
                _endpoint_allowed(relation_type.to_labels, source_label)
            )
            if not fits and not (not directed and fits_reversed):
                problems.append(_endpoint_problem(relation_type, path, source_label, target_label))
        identity = (relation.source, relation.target, relation.type)
        if not directed:
            low, high = sorted((relation.source, relation.target))
            identity = (low, high, relation.type)
        if identity in seen:
            problems.append(
                Problem(
                    f"the same {relation.type!r} relation from {relation.source!r} to "
                    f"{relation.target!r} is already {field_prefix}[{seen[identity]}]",
                    field=path,
                    code="duplicate",
                )
            )
        else:
            seen[identity] = index
    return problems


def _endpoint_problem(
    relation_type: RelationType, path: str, source_label: str, target_label: str
) -> Problem:
    """Name the offending end and the labels that would have been allowed there."""
    name = relation_type.name
    if not _endpoint_allowed(relation_type.from_labels, source_label):
        allowed = ", ".join(relation_type.from_labels)
        return Problem(
            f"a {name!r} relation cannot start at a {source_label!r} span (allowed: {allowed})",
            field=f"{path}.from",
            code="not_allowed",
        )
    allowed = ", ".join(relation_type.to_labels)
    return Problem(
        f"a {name!r} relation cannot end at a {target_label!r} span (allowed: {allowed})",
        field=f"{path}.to",
        code="not_allowed",
    )


def validate_stances(
    stances: Sequence[StanceIn],
    scheme: SchemeSpec | None,
    *,
    field_prefix: str = "stances",
) -> list[Problem]:
    """Every problem with one annotation's stances: one value per target, both from the scheme."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, stance in enumerate(stances):
        path = f"{field_prefix}[{index}]"
        target_ok = isinstance(stance.target, str) and bool(stance.target)
        if not target_ok:
            problems.append(Problem("target must be a non-empty string", field=f"{path}.target"))
        elif scheme is not None and stance.target not in scheme.stance_targets:
            problems.append(
                Problem(
                    f"unknown stance target {_short(stance.target, 60)}",
                    field=f"{path}.target",
                    code="unknown_target",
                )
            )
        if not isinstance(stance.value, str) or not stance.value:
            problems.append(Problem("value must be a non-empty string", field=f"{path}.value"))
        elif scheme is not None and stance.value not in scheme.stance_values:
            allowed = ", ".join(scheme.stance_values) or "none"
            problems.append(
                Problem(
                    f"unknown stance value {stance.value!r} (allowed: {allowed})",
                    field=f"{path}.value",
                    code="unknown_value",
                )
            )
        if not target_ok:
            continue
        if stance.target in first:
            problems.append(
                Problem(
                    f"this target already has a stance in {field_prefix}[{first[stance.target]}]",
                    field=f"{path}.target",
                    code="duplicate",
                )
            )
        else:
            first[stance.target] = index
    return problems
