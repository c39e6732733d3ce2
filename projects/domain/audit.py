"""Audit events as sentences: what the history page, its CSV and the API show beside the raw
event ("span Claim [171, 297) created").

An event's ``data`` is whatever its service recorded when it happened, over every version of
the app, so nothing here trusts its shape: a missing or odd value gives a shorter sentence,
never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Names", "describe", "referenced_ids"]


@dataclass(frozen=True)
class Names:
    """Names an event refers to by id: stance targets (by id) and users (by id)."""

    targets: Mapping[str, str] = field(default_factory=dict)
    users: Mapping[str, str] = field(default_factory=dict)


def referenced_ids(action: str, object_id: str, data: Mapping[str, Any]) -> tuple[str, str]:
    """The stance target id and user id (either may be "") that :func:`describe` will look up
    in ``Names`` for this event, so a page can fetch the names of a whole page at once."""
    target = object_id if action.startswith("stance.") else ""
    user = data.get("annotator_id") if action.startswith("assignment.") else None
    return target, str(user) if user is not None else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _extent(start: Any, end: Any) -> str:
    s, e = _number(start), _number(end)
    return f"[{s}, {e})" if s is not None and e is not None else ""


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _plural(n: Any, word: str) -> str:
    count = _number(n)
    if count is None:
        return ""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _candidate(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 3:
        return _join(_text(value[2]), _extent(value[0], value[1]))
    return ""


def _span_create(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    return _join(
        "span", _text(data.get("label")), _extent(data.get("start"), data.get("end")), "created"
    )


def _span_update(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    changes = []
    if "start" in data or "end" in data:
        if "start" in data and "end" in data:
            changes.append(f"moved to {_extent(data['start'], data['end'])}")
        else:
            which = "start" if "start" in data else "end"
            changes.append(f"{which} set to {data[which]}")
    if "label" in data:
        changes.append(f"relabelled {_text(data['label'])}")
    if "attributes" in data:
        attributes = data["attributes"]
        if isinstance(attributes, Mapping) and attributes:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(attributes.items()))
            changes.append(f"attributes set to {shown}")
        else:
            changes.append("attributes cleared")
    return _join(f"span {object_id}", ", ".join(changes) or "changed")


def _span_delete(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    return _join(f"span {object_id}", _extent(data.get("start"), data.get("end")), "deleted")


def _relation_create(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    ends = f"{_text(data.get('from'))} → {_text(data.get('to'))}"
    return _join("relation", _text(data.get("type")), ends, "created")


def _stance_target(object_id: str, names: Names) -> str:
    return names.targets.get(object_id) or f"target {object_id}"


def _stance_set(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    return f"stance on {_stance_target(object_id, names)} set to {_text(data.get('value'))}"


def _stance_delete(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    return f"stance on {_stance_target(object_id, names)} cleared"


def _skip(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    reason = _text(data.get("reason"))
    return f"document skipped: {reason}" if reason else "document skipped"


def _whose(data: Mapping[str, Any]) -> str:
    if data.get("gold"):
        return "the gold annotation"
    name = _text(data.get("annotator"))
    return f"the annotation of {name}" if name else "an annotation"


def _annotation_delete(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    hidden = _plural(data.get("spans"), "span")
    return _join(_whose(data), "deleted", f"({hidden} hidden)" if hidden else "")


def _annotation_restore(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    return f"{_whose(data)} restored"


def _document_delete(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    count = _number(data.get("annotations")) or 0
    if not count:
        return "document deleted"
    who = data.get("annotators")
    listed = ", ".join(str(w) for w in who) if isinstance(who, list) else ""
    return _join(
        f"document deleted with {_plural(count, 'annotation')}", f"({listed})" if listed else ""
    )


def _document_restore(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    count = _number(data.get("annotations")) or 0
    return (
        f"document restored with {_plural(count, 'annotation')}" if count else "document restored"
    )


def _assignment(verb: str) -> Callable[[str, Mapping[str, Any], Names], str]:
    def describe_assignment(object_id: str, data: Mapping[str, Any], names: Names) -> str:
        user = data.get("annotator_id")
        name = names.users.get(str(user)) if user is not None else None
        return _join(verb, name or (f"user {user}" if user is not None else ""))

    return describe_assignment


def _gold_merge(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    policy = _text(data.get("policy"))
    spans = _plural(data.get("spans"), "span")
    detail = ", ".join(p for p in (policy, spans) if p)
    return _join("gold merged from the submitted work", f"({detail})" if detail else "")


def _gold_decision(verb: str) -> Callable[[str, Mapping[str, Any], Names], str]:
    def describe_decision(object_id: str, data: Mapping[str, Any], names: Names) -> str:
        edited = " (edited)" if data.get("edited") else ""
        return _join("gold:", verb, _candidate(data.get("candidate"))) + edited

    return describe_decision


def _gold_undo(object_id: str, data: Mapping[str, Any], names: Names) -> str:
    decision = _text(data.get("decision"))
    undone = {"accept": "acceptance", "reject": "rejection"}.get(decision, "decision")
    return _join("gold: undid the", undone, "of", _candidate(data.get("candidate")))


def _fixed(text: str) -> Callable[[str, Mapping[str, Any], Names], str]:
    return lambda object_id, data, names: text


_DESCRIBE: dict[str, Callable[[str, Mapping[str, Any], Names], str]] = {
    "span.create": _span_create,
    "span.update": _span_update,
    "span.delete": _span_delete,
    "relation.create": _relation_create,
    "relation.delete": lambda object_id, data, names: f"relation {object_id} deleted",
    "stance.set": _stance_set,
    "stance.delete": _stance_delete,
    "annotation.submit": _fixed("annotation submitted"),
    "annotation.skip": _skip,
    "annotation.delete": _annotation_delete,
    "annotation.restore": _annotation_restore,
    "document.delete": _document_delete,
    "document.restore": _document_restore,
    "assignment.create": _assignment("assigned to"),
    "assignment.delete": _assignment("unassigned"),
    "gold.merge": _gold_merge,
    "gold.accept": _gold_decision("accepted"),
    "gold.reject": _gold_decision("rejected"),
    "gold.undo": _gold_undo,
    "gold.submit": _fixed("gold submitted"),
}


def describe(
    action: str, object_type: str, object_id: str, data: Any, names: Names = Names()
) -> str:
    """One event as a short sentence; an action this module does not know is shown as its
    name and object."""
    if not isinstance(data, Mapping):
        data = {}
    known = _DESCRIBE.get(action)
    if known is None:
        return _join(action, object_type, object_id)
    return known(object_id, data, names)
