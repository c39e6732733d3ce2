"""The label scheme: which spans, relations, attributes and stances a project's annotators can make.

A scheme arrives as plain JSON (the project form, the API, ``scheme.json`` in the demo). It is
validated here in full, with every problem located by its field path, because a scheme mistake
(two labels on one hotkey, a relation allowed between labels that do not exist) otherwise surfaces
later, in the annotation workspace, where nobody can tell where it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from projects.domain.problems import ImportFailed, Problem

__all__ = [
    "ATTRIBUTE_KINDS",
    "DEFAULT_COLOURS",
    "RelationType",
    "SchemeSpec",
    "SpanAttribute",
    "SpanLabel",
    "parse_scheme",
]

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies. Black is last so it is
#: only used when a scheme has eight labels without colours of their own.
DEFAULT_COLOURS: tuple[str, ...] = (
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
    "#000000",
)

#: ``entity``: free text with suggestions (who asserts a span); ``choice``: one of fixed values.
ATTRIBUTE_KINDS: tuple[str, ...] = ("entity", "choice")

_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class SpanLabel:
    """A span label. ``retired`` labels keep existing spans meaningful but accept no new ones."""

    name: str
    color: str
    hotkey: str | None = None
    description: str = ""
    retired: bool = False


@dataclass(frozen=True)
class RelationType:
    """A relation type; empty ``from_labels``/``to_labels`` mean any label may be that endpoint."""

    name: str
    directed: bool = True
    hotkey: str | None = None
    from_labels: tuple[str, ...] = ()
    to_labels: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class SpanAttribute:
    """An attribute every span may carry; ``values`` constrain a choice, ``suggestions`` do not."""

    name: str
    kind: str
    description: str = ""
    suggestions: tuple[str, ...] = ()
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class SchemeSpec:
    """A validated scheme; built by :func:`parse_scheme` only, so it is always consistent."""

    name: str
    span_labels: tuple[SpanLabel, ...]
    relation_types: tuple[RelationType, ...] = ()
    span_attributes: tuple[SpanAttribute, ...] = ()
    stance_targets: tuple[str, ...] = ()
    stance_values: tuple[str, ...] = ()

    def label_names(self) -> frozenset[str]:
        """Labels a *new* span may use: retired labels are excluded on purpose."""
        return frozenset(label.name for label in self.span_labels if not label.retired)

    def label(self, name: str) -> SpanLabel | None:
        """Look up a label, retired or not (old spans still need their colour)."""
        return next((label for label in self.span_labels if label.name == name), None)

    def relation_type(self, name: str) -> RelationType | None:
        """Look up a relation type by name; None if the scheme has no such type."""
        return next((rt for rt in self.relation_types if rt.name == name), None)

    def attribute(self, name: str) -> SpanAttribute | None:
        """Look up a span attribute by name; None if the scheme has no such attribute."""
        return next((attr for attr in self.span_attributes if attr.name == name), None)

    def to_dict(self) -> dict[str, object]:
        """Serialise to the ``scheme.json`` shape; optional keys at their defaults are left out so
        a parsed file serialises back to (a dict equal to) itself."""
        labels: list[dict[str, object]] = []
        for label in self.span_labels:
            item: dict[str, object] = {"name": label.name, "color": label.color}
            if label.hotkey is not None:
                item["hotkey"] = label.hotkey
            item["description"] = label.description
            if label.retired:
                item["retired"] = True
            labels.append(item)
        relations: list[dict[str, object]] = []
        for rt in self.relation_types:
            rel: dict[str, object] = {"name": rt.name, "directed": rt.directed}
            if rt.hotkey is not None:
                rel["hotkey"] = rt.hotkey
            if rt.from_labels:
                rel["from_labels"] = list(rt.from_labels)
            if rt.to_labels:
                rel["to_labels"] = list(rt.to_labels)
            if rt.description:
                rel["description"] = rt.description
            relations.append(rel)
        attributes: list[dict[str, object]] = []
        for attr in self.span_attributes:
            entry: dict[str, object] = {
                "name": attr.name,
                "kind": attr.kind,
                "description": attr.description,
            }
            if attr.kind == "entity":
                entry["suggestions"] = list(attr.suggestions)
            else:
                entry["values"] = list(attr.values)
            attributes.append(entry)
        return {
            "name": self.name,
            "span_labels": labels,
            "relation_types": relations,
            "span_attributes": attributes,
            "stance_targets": list(self.stance_targets),
            "stance_values": list(self.stance_values),
        }


class _Collector:
    """Accumulates problems while parsing, so one call reports everything that is wrong."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.problems.append(Problem(message, field=field, code=code))

    def name(self, item: Mapping[str, object], path: str, what: str) -> str | None:
        value = item.get("name")
        if not isinstance(value, str) or not value.strip():
            self.add(f"{path}.name", f"{what} needs a non-empty name")
            return None
        if value != value.strip():
            self.add(f"{path}.name", f"{what} name {value!r} has leading or trailing spaces")
        return value

    def text(self, item: Mapping[str, object], key: str, path: str) -> str:
        value = item.get(key, "")
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(f"{path}.{key}", f"{key} must be a string")
            return ""
        return value

    def hotkey(self, item: Mapping[str, object], path: str) -> str | None:
        value = item.get("hotkey")
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) != 1 or value.isspace():
            self.add(f"{path}.hotkey", f"hotkey must be a single character, not {value!r}")
            return None
        return value

    def strings(self, item: Mapping[str, object], key: str, path: str) -> tuple[str, ...]:
        value = item.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(f"{path}.{key}", f"{key} must be a list of strings")
            return ()
        result: list[str] = []
        seen: set[str] = set()
        for index, entry in enumerate(value):
            if not isinstance(entry, str) or not entry.strip():
                self.add(f"{path}.{key}[{index}]", f"{key} entries must be non-empty strings")
                continue
            if entry in seen:
                self.add(f"{path}.{key}[{index}]", f"{entry!r} is listed twice", "duplicate")
                continue
            seen.add(entry)
            result.append(entry)
        return tuple(result)

    def items(self, data: Mapping[str, object], key: str) -> list[tuple[str, Mapping[str, object]]]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(key, f"{key} must be a list")
            return []
        result: list[tuple[str, Mapping[str, object]]] = []
        for index, entry in enumerate(value):
            path = f"{key}[{index}]"
            if not isinstance(entry, Mapping):
                self.add(path, f"each entry of {key} must be an object")
                continue
            result.append((path, entry))
        return result


def _check_unique(
    collector: _Collector, names: Sequence[tuple[str, str]], what: str, code: str = "duplicate"
) -> None:
    """Report every repeat of a name, pointing at the repeat and naming the first occurrence."""
    first: dict[str, str] = {}
    for path, name in names:
        if name in first:
            collector.add(path, f"{what} {name!r} is already used by {first[name]}", code)
        else:
            first[name] = path


def parse_scheme(data: object) -> SchemeSpec:
    """Validate a scheme given as plain JSON data and build a :class:`SchemeSpec`.

    Raises :class:`ImportFailed` with every problem, each with its field path (for example
    ``span_labels[1].color``). Unknown keys are ignored so that newer scheme files (with keys this
    version does not know) still load.
    """
    collector = _Collector()
    if not isinstance(data, Mapping):
        raise ImportFailed([Problem("a scheme must be a JSON object", code="invalid")])

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        collector.add("name", "the scheme needs a non-empty name")
        name = ""

    labels: list[SpanLabel] = []
    label_paths: list[tuple[str, str]] = []
    hotkeys: list[tuple[str, str]] = []
    for index, (path, item) in enumerate(collector.items(data, "span_labels")):
        label_name = collector.name(item, path, "a span label")
        colour = item.get("color")
        if colour is None or colour == "":
            colour = DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]
        elif not isinstance(colour, str) or not _COLOUR.fullmatch(colour):
            collector.add(f"{path}.color", f"colour must look like #1f77b4, not {colour!r}")
            colour = DEFAULT_COLOURS[index % len(DEFAULT_COLOURS)]
        hotkey = collector.hotkey(item, path)
        retired = item.get("retired", False)
        if not isinstance(retired, bool):
            collector.add(f"{path}.retired", "retired must be true or false")
            retired = False
        description = collector.text(item, "description", path)
        if label_name is None:
            continue
        label_paths.append((f"{path}.name", label_name))
        if hotkey is not None:
            hotkeys.append((f"{path}.hotkey", hotkey))
        labels.append(SpanLabel(label_name, colour.lower(), hotkey, description, retired))
    # An empty label list is allowed: a new project starts with no labels and gets them in the
    # scheme editor before anyone annotates (spans validate against the label list anyway).
    _check_unique(collector, label_paths, "span label name")
    known_labels = {label.name for label in labels}

    relations: list[RelationType] = []
    relation_paths: list[tuple[str, str]] = []
    for path, item in collector.items(data, "relation_types"):
        relation_name = collector.name(item, path, "a relation type")
        directed = item.get("directed", True)
        if not isinstance(directed, bool):
            collector.add(f"{path}.directed", "directed must be true or false")
            directed = True
        hotkey = collector.hotkey(item, path)
        ends: dict[str, tuple[str, ...]] = {}
        for key in ("from_labels", "to_labels"):
            ends[key] = collector.strings(item, key, path)
            for position, label_name in enumerate(ends[key]):
                if label_name not in known_labels:
                    collector.add(
                        f"{path}.{key}[{position}]",
                        f"{label_name!r} is not one of the span labels",
                        "unknown_label",
                    )
        description = collector.text(item, "description", path)
        if relation_name is None:
            continue
        relation_paths.append((f"{path}.name", relation_name))
        if hotkey is not None:
            hotkeys.append((f"{path}.hotkey", hotkey))
        relations.append(
            RelationType(
                relation_name,
                directed,
                hotkey,
                ends["from_labels"],
                ends["to_labels"],
                description,
            )
        )
    _check_unique(collector, relation_paths, "relation type name")
    # One keystroke must mean one thing in the workspace, whether it starts a span or a relation.
    _check_unique(collector, hotkeys, "hotkey")

    attributes: list[SpanAttribute] = []
    attribute_paths: list[tuple[str, str]] = []
    for path, item in collector.items(data, "span_attributes"):
        attribute_name = collector.name(item, path, "a span attribute")
        kind = item.get("kind")
        if kind not in ATTRIBUTE_KINDS:
            collector.add(
                f"{path}.kind",
                f"kind must be one of {', '.join(ATTRIBUTE_KINDS)}, not {kind!r}",
            )
        description = collector.text(item, "description", path)
        suggestions = collector.strings(item, "suggestions", path)
        values = collector.strings(item, "values", path)
        if kind == "choice" and item.get("values") in (None, []):
            collector.add(f"{path}.values", "a choice attribute needs at least one value")
        if kind == "choice" and suggestions:
            collector.add(f"{path}.suggestions", "only entity attributes have suggestions")
        if kind == "entity" and values:
            collector.add(f"{path}.values", "only choice attributes have fixed values")
        if attribute_name is None or kind not in ATTRIBUTE_KINDS:
            continue
        attribute_paths.append((f"{path}.name", attribute_name))
        attributes.append(
            SpanAttribute(
                attribute_name,
                str(kind),
                description,
                suggestions if kind == "entity" else (),
                values if kind == "choice" else (),
            )
        )
    _check_unique(collector, attribute_paths, "span attribute name")

    stance_targets = collector.strings(data, "stance_targets", "scheme")
    stance_values = collector.strings(data, "stance_values", "scheme")
    if stance_targets and not stance_values:
        collector.add("stance_values", "stance targets need at least one stance value")

    problems = [
        # Top-level lists were parsed with a "scheme." prefix so the helpers stay generic.
        Problem(p.message, field=p.field.removeprefix("scheme."), code=p.code)
        if p.field is not None
        else p
        for p in collector.problems
    ]
    if problems:
        raise ImportFailed(problems)
    return SchemeSpec(
        name=str(name),
        span_labels=tuple(labels),
        relation_types=tuple(relations),
        span_attributes=tuple(attributes),
        stance_targets=stance_targets,
        stance_values=stance_values,
    )
