"""Label Studio's JSON and JSON-MIN exports of text span labelling.

Shapes (checked against Label Studio's source: ``data_export/serializers.py`` for tasks and
``completed_by``; the editor's ``RelationStore.serialize`` for relations; ``RichText/
domManager.ts`` for offsets; and ``label_studio_converter``'s ``convert_to_json_min`` and
``_get_annotator`` for JSON-MIN):

- JSON is a list of tasks ``{"id": 1, "data": {"text": "…"}, "annotations": [{"id": 9,
  "completed_by": 1, "was_cancelled": false, "result": [...]}], "predictions": [...]}``.
  ``completed_by`` is the user's id, or ``{"id", "email", "first_name", "last_name"}`` when the
  export expands it. Exports before Label Studio 1.0 say ``completions`` for ``annotations``.
- A result is a region ``{"id": "abc", "type": "labels", "from_name": "label",
  "to_name": "text", "value": {"start": 0, "end": 5, "text": "…", "labels": ["Claim"]}}``,
  a relation ``{"type": "relation", "from_id": "abc", "to_id": "def", "direction":
  "right" | "left" | "bi", "labels": ["supports"]}`` (``labels`` only if the config has a
  ``<Relations>`` tag), or a control's answer (``choices``, ``textarea``, …) which carries the
  region's ``id`` when the control is per region.
- JSON-MIN has one row per annotation: the task's ``data`` fields, the task ``id``, one key per
  control (``from_name``) with its prettified values, ``annotator`` (email or user id),
  ``annotation_id`` and timestamps; relations are not in it, cancelled annotations neither.

Offsets: the editor counts ``[...text]``, i.e. code points (``domManager.ts``), since the fix
for emoji (Label Studio issues #1008, #1347); older versions counted UTF-16 units. Each region
quotes its text, so a region whose quote does not match at code-point offsets but does at UTF-16
offsets is converted (and noted). The quote is compared ignoring whitespace differences: the
editor quotes what the browser displays, which can fold a line break into a space.

Reading rules: the document text is ``data.text`` (or ``data``'s only string); the document id
is ``data.id`` if the tasks were imported with one (so a project moved through Label Studio keeps
its ids), else the task id. A region with several labels is refused (a span here has one).
Per-region ``choices``/``textarea`` whose name is a span attribute of the scheme become that
attribute; whole-document ``choices`` whose name is a stance target (or ``stance`` when the
scheme has one target) become the annotation's stance. Cancelled annotations, predictions,
drafts and other controls are left out with a note; regions of other span tags
(``hypertextlabels``, ``paragraphlabels``) are refused, since their offsets are not text
offsets. A submitted annotation with no regions is kept: it is an annotator's judgement that
there is nothing to mark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from projects.domain.importers import DocumentIn, _Context
from projects.domain.interchange.drafts import (
    AnnotationDraft,
    DocumentDraft,
    DraftSet,
    Origin,
    RelationDraft,
    SpanDraft,
    StanceDraft,
    build_documents,
    scheme_attribute,
    scheme_attribute_value,
    scheme_stance_target,
    scheme_stance_value,
)
from projects.domain.text import utf16_to_codepoint

__all__ = ["build"]

_REGION_SUBFIELDS = {
    "start": ".value.start",
    "end": ".value.end",
    "label": ".value.labels",
    "text": ".value.text",
    "id": ".id",
}
#: JSON-MIN keys that describe the row, not the task or its annotation.
_MIN_BOOKKEEPING = frozenset(
    {"id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement"}
)
_UNATTRIBUTED = "a Label Studio annotation without completed_by"


class _Reader:
    """State for one upload: the drafts, and what was left out (noted once per kind)."""

    def __init__(self, context: _Context) -> None:
        self.context = context
        self.drafts = DraftSet(context)
        self.left_out: Counter[str] = Counter()

    def problem(self, message: str, field: str, code: str = "invalid") -> None:
        self.context.add(message, code=code, field=field)


def build(context: _Context, records: Sequence[Mapping[str, object]]) -> list[DocumentIn]:
    reader = _Reader(context)
    for index, record in enumerate(records):
        if isinstance(record.get("data"), dict):
            _task(reader, record, index)
        elif "annotation_id" in record:
            _min_row(reader, record, index)
        else:
            reader.problem(
                "not a Label Studio task (no 'data' object) nor a JSON-MIN row (no "
                "'annotation_id'); export the project as JSON or JSON-MIN",
                f"[{index}]",
            )
    _notes(reader)
    drafts = list(reader.drafts.documents.values())
    return build_documents(context, drafts, unattributed=_UNATTRIBUTED)


# --- JSON ------------------------------------------------------------------------------------


def _task(reader: _Reader, task: Mapping[str, object], index: int) -> None:
    context = reader.context
    where = f"[{index}]"
    data = task["data"]
    assert isinstance(data, dict)
    text_key = _text_key(data)
    if text_key is None:
        found = ", ".join(repr(k) for k in data) or "nothing"
        reader.problem(
            "cannot tell which field of data holds the text: expected 'text', or a single "
            f"string field (found: {found})",
            f"{where}.data",
        )
        return
    own_id = data.get("id")
    raw_id = own_id if _usable_id(own_id) else task.get("id")
    if not _usable_id(raw_id):
        reader.problem("a task needs an id", f"{where}.id")
        return
    id_field = ".data.id" if _usable_id(own_id) else ".id"
    title = data.get("title") if text_key != "title" else None
    draft = DocumentDraft(
        external_id=str(raw_id),
        text=str(data[text_key]),
        origin=Origin(
            context.filename,
            None,
            where,
            {"text": f".data.{text_key}", "id": id_field, "title": ".data.title", "meta": ".data"},
        ),
        title=title if isinstance(title, str) else None,
        meta={k: v for k, v in data.items() if k not in (text_key, "id", "title")},
    )
    key = "annotations" if "annotations" in task else "completions"
    annotations = task.get(key) or []
    for other in ("predictions", "drafts"):
        value = task.get(other)
        if isinstance(value, list) and value:
            reader.left_out[other] += len(value)
    if not isinstance(annotations, list):
        reader.problem(f"{key} must be a list", f"{where}.{key}")
        return
    for number, annotation in enumerate(annotations):
        path = f"{where}.{key}[{number}]"
        if not isinstance(annotation, dict):
            reader.problem("an annotation must be an object", path)
            continue
        if annotation.get("was_cancelled") or annotation.get("skipped"):
            reader.left_out["cancelled"] += 1
            continue
        drafted = AnnotationDraft(
            _annotator(annotation.get("completed_by")),
            Origin(context.filename, None, path, {"annotator": ".completed_by"}),
            keep_if_empty=True,
        )
        _results(reader, annotation.get("result"), draft.text, drafted, path)
        draft.annotations.append(drafted)
    reader.drafts.add(draft)


def _results(
    reader: _Reader, results: object, text: str, annotation: AnnotationDraft, path: str
) -> None:
    """Regions first (relations and per-region answers refer to them by id), then the rest."""
    if results is None:
        return
    if not isinstance(results, list):
        reader.problem("result must be a list", f"{path}.result")
        return
    regions: dict[str, SpanDraft] = {}
    refused: set[object] = set()
    for number, result in enumerate(results):
        where = f"{path}.result[{number}]"
        if not isinstance(result, dict):
            reader.problem("a result must be an object", where)
        elif result.get("type") == "labels" and not _region(
            reader, result, text, annotation, regions, where
        ):
            refused.add(result.get("id"))
    for number, result in enumerate(results):
        where = f"{path}.result[{number}]"
        if not isinstance(result, dict):
            continue
        kind = result.get("type")
        if kind == "labels":
            continue
        if kind == "relation":
            # A relation of a refused region would only repeat that region's problem.
            if not {result.get("from_id"), result.get("to_id")} & refused:
                _relation(reader, result, annotation, where)
        elif kind in ("choices", "textarea"):
            _answer(reader, result, annotation, regions, where)
        elif isinstance(kind, str) and kind.endswith("labels"):
            # Span work that cannot come over must stop the import, not become a note.
            reader.problem(
                f"'{kind}' regions cannot be imported: their offsets count an HTML page or "
                "paragraphs, not the plain text; label with a <Text> tag and <Labels>",
                f"{where}.type",
                "unsupported",
            )
        else:
            reader.left_out[f"'{kind}' results"] += 1


def _region(
    reader: _Reader,
    result: Mapping[str, object],
    text: str,
    annotation: AnnotationDraft,
    regions: dict[str, SpanDraft],
    where: str,
) -> bool:
    """Add the region as a span; False if it was refused (the problem is reported)."""
    value = result.get("value")
    if not isinstance(value, dict):
        reader.problem("a region needs a value object", f"{where}.value")
        return False
    span = _span(reader, value, text, where)
    if span is None:
        return False
    region_id = result.get("id")
    if isinstance(region_id, str) and region_id:
        if region_id in regions:
            reader.problem(
                f"region id {region_id!r} is used by two labels results",
                f"{where}.id",
                "duplicate",
            )
            return False
        span.id = region_id
        regions[region_id] = span
    annotation.spans.append(span)
    return True


def _span(reader: _Reader, value: Mapping[str, object], text: str, where: str) -> SpanDraft | None:
    """A region's value as a span, with offsets checked against its quoted text."""
    labels = value.get("labels")
    if not isinstance(labels, list) or not labels:
        reader.problem("the region has no label", f"{where}.value.labels")
        return None
    if len(labels) > 1:
        reader.problem(
            f"the region has {len(labels)} labels ({', '.join(map(str, labels))}); a span here "
            "has exactly one label: give each its own region",
            f"{where}.value.labels",
        )
        return None
    start, end = value.get("start"), value.get("end")
    quoted = value.get("text")
    origin = Origin(reader.context.filename, None, where, _REGION_SUBFIELDS)
    if isinstance(start, int) and isinstance(end, int) and isinstance(quoted, str):
        located = _locate(text, start, end, quoted)
        if located is None:
            shown = text[start:end] if 0 <= start <= end <= len(text) else "(outside the text)"
            reader.problem(
                f"the region quotes {quoted[:40]!r} but the text at {start}-{end} is "
                f"{shown[:40]!r} (compared ignoring whitespace; offsets count code points)",
                f"{where}.value.text",
                "mismatch",
            )
            return None
        if located != (start, end):
            reader.left_out["utf16"] += 1
        start, end = located
    return SpanDraft(start, end, labels[0], origin)  # type: ignore[arg-type]


def _locate(text: str, start: int, end: int, quoted: str) -> tuple[int, int] | None:
    """The code-point offsets of a region, or None if its quote matches neither reading."""
    if 0 <= start <= end <= len(text) and _same(text[start:end], quoted):
        return start, end
    try:
        converted = utf16_to_codepoint(text, start), utf16_to_codepoint(text, end)
    except ValueError:
        return None
    if _same(text[converted[0] : converted[1]], quoted):
        return converted
    return None


def _same(found: str, quoted: str) -> bool:
    return found == quoted or found.split() == quoted.split()


def _relation(
    reader: _Reader, result: Mapping[str, object], annotation: AnnotationDraft, where: str
) -> None:
    """``right`` points from ``from_id`` to ``to_id``, ``left`` back; ``bi`` both ways, which is
    one relation if the scheme's type is undirected and two if it is directed."""
    labels = result.get("labels")
    if not isinstance(labels, list) or not labels:
        reader.problem(
            "the relation has no label, so it cannot become a relation type: give relations "
            "labels in Label Studio (a <Relations> tag) before exporting",
            f"{where}.labels",
        )
        return
    direction = result.get("direction", "right")
    if direction not in ("right", "left", "bi"):
        reader.problem(
            f"direction must be right, left or bi, not {direction!r}", f"{where}.direction"
        )
        return
    forward = {"from": ".from_id", "to": ".to_id", "type": ".labels"}
    backward = {"from": ".to_id", "to": ".from_id", "type": ".labels"}
    source, target = result.get("from_id"), result.get("to_id")
    scheme = reader.context.scheme
    for label in labels:
        relation_type = scheme.relation_type(label) if scheme is not None else None
        both = direction == "bi" and (relation_type is None or relation_type.directed)
        ways = [(source, target, forward)] if direction != "left" else []
        if direction == "left" or both:
            ways.append((target, source, backward))
        for a, b, subfields in ways:
            origin = Origin(reader.context.filename, None, where, subfields)
            annotation.relations.append(RelationDraft(a, b, label, origin))  # type: ignore[arg-type]


def _answer(
    reader: _Reader,
    result: Mapping[str, object],
    annotation: AnnotationDraft,
    regions: Mapping[str, SpanDraft],
    where: str,
) -> None:
    """A control's answer: a span attribute if it is per region, a stance if it is about the
    whole text; otherwise left out."""
    kind = result.get("type")
    name = result.get("from_name")
    value = result.get("value")
    if not isinstance(name, str) or not isinstance(value, dict):
        reader.left_out[f"'{kind}' results"] += 1
        return
    answers = value.get("choices" if kind == "choices" else "text")
    region = regions.get(result.get("id"))  # type: ignore[arg-type]
    if region is not None:
        _attribute(reader, region, name, answers, f"{where}.value", kind == "choices")
        return
    if kind == "choices" and "start" not in value:
        _stance(reader, annotation, name, answers, where)
        return
    reader.left_out[f"'{kind}' results"] += 1


def _single(reader: _Reader, answers: object, where: str, what: str) -> str | None:
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        reader.problem(f"expected a list of {what}", where)
        return None
    if len(answers) != 1:
        reader.problem(
            f"expected exactly one of the {what}, found {len(answers)}: a span attribute or a "
            "stance has one value",
            where,
        )
        return None
    return str(answers[0])


def _attribute(
    reader: _Reader, span: SpanDraft, name: str, answers: object, where: str, choice: bool
) -> None:
    scheme = reader.context.scheme
    attribute = scheme_attribute(scheme, name)
    if scheme is not None and scheme.attribute(attribute) is None:
        reader.left_out[f"per-region answers to '{name}' (not a span attribute)"] += 1
        return
    value = _single(
        reader,
        answers,
        f"{where}.{'choices' if choice else 'text'}",
        "choices" if choice else "texts",
    )
    if value is None:
        return
    span.attributes[attribute] = scheme_attribute_value(scheme, attribute, value)


def _stance(
    reader: _Reader, annotation: AnnotationDraft, name: str, answers: object, where: str
) -> None:
    scheme = reader.context.scheme
    target = scheme_stance_target(scheme, name)
    if target is None:
        reader.left_out[f"choices '{name}' (not a stance target)"] += 1
        return
    value = _single(reader, answers, f"{where}.value.choices", "choices")
    if value is None:
        return
    origin = Origin(
        reader.context.filename, None, where, {"target": ".from_name", "value": ".value.choices"}
    )
    annotation.stances.append(StanceDraft(target, scheme_stance_value(scheme, value), origin))


# --- JSON-MIN --------------------------------------------------------------------------------


def _min_row(reader: _Reader, row: Mapping[str, object], index: int) -> None:
    """A JSON-MIN row: the task's data fields, the task id and one key per control."""
    context = reader.context
    where = f"[{index}]"
    text = row.get("text")
    if not isinstance(text, str):
        reader.problem(
            "a JSON-MIN row needs the task's text in 'text' (the data field the Text tag shows)",
            f"{where}.text",
        )
        return
    raw_id = row.get("id")
    if not _usable_id(raw_id):
        reader.problem("a JSON-MIN row needs its task id", f"{where}.id")
        return
    annotation = AnnotationDraft(
        _annotator(row.get("annotator")),
        Origin(context.filename, None, where, {"annotator": ".annotator"}),
        keep_if_empty=row.get("annotation_id") is not None,
    )
    title = row.get("title")
    draft = DocumentDraft(
        external_id=str(raw_id),
        text=text,
        origin=Origin(context.filename, None, where),
        title=title if isinstance(title, str) else None,
    )
    scheme = context.scheme
    answers: list[tuple[str, list[Mapping[str, object]]]] = []
    for key, value in row.items():
        if key in _MIN_BOOKKEEPING or key in ("text", "title"):
            continue
        path = f"{where}.{key}"
        items = value if isinstance(value, list) else None
        if items and all(isinstance(v, dict) for v in items):
            if all("labels" in v for v in items):
                for number, item in enumerate(items):
                    span = _span(reader, item, text, f"{path}[{number}]")
                    if span is not None:
                        annotation.spans.append(span)
                continue
            if all("start" in v and ("choices" in v or "text" in v) for v in items):
                answers.append((key, items))
                continue
            # Another control's output (a rating, …): not a data field, and nothing to map.
            reader.left_out[f"'{key}' answers"] += 1
            continue
        target = scheme_stance_target(scheme, key) if scheme is not None else None
        if target is not None and isinstance(value, list):
            # JSON-MIN flattens per-region and whole-text choices of one control into one list
            # of strings, so which answer is the stance cannot be told.
            reader.left_out[f"'{key}' answer lists (export JSON to import them)"] += 1
            continue
        choices = _min_choices(value)
        if target is not None and choices is not None:
            origin = Origin(context.filename, None, path, {"target": "", "value": ""})
            value_ = _single(reader, choices, path, "choices")
            if value_ is not None:
                annotation.stances.append(
                    StanceDraft(target, scheme_stance_value(scheme, value_), origin)
                )
            continue
        draft.meta[key] = value
    for key, items in answers:
        for number, item in enumerate(items):
            span = next(
                (
                    s
                    for s in annotation.spans
                    if (s.start, s.end) == (item.get("start"), item.get("end"))
                ),
                None,
            )
            if span is None:
                reader.left_out[f"per-region answers to '{key}' without a region"] += 1
                continue
            choice = "choices" in item
            found = item.get("choices" if choice else "text")
            _attribute(reader, span, key, found, f"{where}.{key}[{number}]", choice)
    draft.annotations.append(annotation)
    reader.drafts.add(draft)


def _min_choices(value: object) -> list[object] | None:
    """JSON-MIN prettifies a single choice to a string and several to ``{"choices": [...]}``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("choices"), list):
        return list(value["choices"])
    return None


# --- shared ----------------------------------------------------------------------------------


def _text_key(data: Mapping[str, object]) -> str | None:
    if isinstance(data.get("text"), str):
        return "text"
    strings = [key for key, value in data.items() if isinstance(value, str) and key != "id"]
    return strings[0] if len(strings) == 1 else None


def _usable_id(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(value.strip()))


def _annotator(value: object) -> str | None:
    """A user as Label Studio names them: its email when the export has it, else its id."""
    if isinstance(value, dict):
        email = value.get("email")
        if isinstance(email, str) and email.strip():
            return email.strip()
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _notes(reader: _Reader) -> None:
    context = reader.context
    left_out = reader.left_out
    if left_out["cancelled"]:
        context.note(
            f"{left_out['cancelled']} annotation(s) the annotator cancelled (skipped) were not "
            "imported"
        )
    if left_out["predictions"]:
        context.note(f"{left_out['predictions']} prediction(s) (model output) were not imported")
    if left_out["drafts"]:
        context.note(f"{left_out['drafts']} unsubmitted draft(s) were not imported")
    if left_out["utf16"]:
        context.note(
            f"{left_out['utf16']} region(s) had offsets in UTF-16 units (an older Label Studio); "
            "they were converted to code points, checked against each region's quoted text",
            code="converted",
        )
    for what, count in sorted(left_out.items()):
        if what.startswith(("'", "choices", "per-region")):
            context.note(f"{count} {what} were not imported")
