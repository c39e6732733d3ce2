"""brat standoff (https://brat.nlplab.org/standoff.html): a ``.zip`` of ``name.txt`` +
``name.ann`` pairs, one folder per annotator.

Reading rules (README "Importing from brat, doccano and Label Studio" explains them to users):

- The folder directly holding a pair names the annotator (``annotator1/essay01.ann``); a pair at
  the top of the archive names nobody, and its annotations go to the ``annotator`` option's
  member (or the import fails, saying so). The document id is the file name without ``.txt``;
  the same id under several folders is one document annotated by each, and its ``.txt`` must be
  identical in every folder.
- Offsets count the characters of the ``.txt`` as brat read it: code points, with a CRLF line
  break as two (brat opens texts without newline translation). They are carried onto the
  normalised text like any pre-annotation; a span edge inside a CRLF is an error. A UTF-8 BOM,
  which brat counts as a character, is not part of the stored text, so offsets move left by one.
- ``T`` lines become spans; the quoted text must equal the slice (an error naming file, line and
  ``T`` id otherwise). brat splits a selection that crosses a line break into fragments
  (``0 5;6 12``): fragments separated only by whitespace become one span over their extent
  (noted); fragments with text between them are refused, since a span here is contiguous.
- ``R`` lines become relations, from the first argument to the second.
- ``A`` (and the older ``M``) lines become span attributes. The attribute's name is matched to
  the scheme's ignoring case (``Stance`` is ``stance``), and so is a choice attribute's value; a
  binary attribute (no value) gets the value ``true``. Names or values the scheme lacks are
  errors, like in any import.
- ``E`` (events), ``N`` (normalisations), ``*`` (equivalences) and ``#`` (notes) have no place
  here: they are left out with a note (an event's trigger is a ``T`` line, so it is imported).
- An empty (or missing) ``.ann`` is not an annotation: brat creates one for every text.
- This tool's own brat export writes ``metadata.jsonl`` with a line per ``.ann`` (see
  ``projects/domain/exports/brat.py``); with it, the document's real id, title and meta, the
  annotation's annotator, gold flag, status and stances, and the span ids come back, and names
  are decoded (``_`` is a space, ``%XX`` a UTF-8 byte): a re-import is lossless.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import PurePosixPath
from urllib.parse import unquote

from projects.domain.importers import _BOM, DocumentIn, _Context, _decode, _Inflater, _Member
from projects.domain.interchange.drafts import (
    AnnotationDraft,
    DocumentDraft,
    DraftSet,
    Origin,
    RelationDraft,
    SpanDraft,
    StanceDraft,
    build_documents,
    read_archive,
    scheme_attribute,
    scheme_attribute_value,
)

__all__ = ["parse"]

#: brat's configuration files (they describe the scheme, which the project defines already),
#: and the manifest this tool's own exports carry: skipped without a note.
_CONFIG_FILES = frozenset(
    {"annotation.conf", "visual.conf", "tools.conf", "kb_shortcuts.conf", "manifest.json"}
)
#: This tool's own brat export describes every ``.ann`` in this file (see the module doc).
_METADATA = "metadata.jsonl"
_FRAGMENT = re.compile(r"\s*(\d+)\s+(\d+)\s*")
_T_SUBFIELDS = {"start": ".offsets", "end": ".offsets", "label": ".type", "text": ".text"}
_UNATTRIBUTED = "a brat pair at the top of the archive, outside any annotator folder"

_LEFT_OUT = {
    "E": "event (E) lines: this tool has no events (their trigger spans were imported)",
    "N": "normalisation (N) lines: this tool has no links to external databases",
    "*": "equivalence (*) lines: this tool has no equivalence sets",
    "#": "note (#) lines: annotator notes are not imported",
    "event-attribute": "attributes of events: events are not imported",
    "event-relation": "relations to or from events: events are not imported",
}


@dataclass
class _Tally:
    """What was left out or changed, counted over the whole upload and noted once each."""

    counts: Counter[str] = field(default_factory=Counter)
    first: dict[str, Origin] = field(default_factory=dict)

    def add(self, what: str, origin: Origin) -> None:
        self.counts[what] += 1
        self.first.setdefault(what, origin)


def parse(context: _Context, data: bytes) -> list[DocumentIn]:
    opened = read_archive(context, data)
    if opened is None:
        return []
    archive, members = opened
    tally = _Tally()
    drafts = DraftSet(context)
    with archive:
        pairs = _pairs(context, members)
        if len({stem for _, stem in pairs}) > context.limits.max_documents:
            context.too_many_documents()
            return []
        inflater = _Inflater(context, archive)
        metadata = _metadata(context, inflater, members)
        # Sorted, so the result does not depend on the order the archive lists its files in.
        for folder, stem in sorted(pairs, key=lambda key: (key[1], key[0] or "")):
            slot = pairs[(folder, stem)]
            ann = slot.get(".ann")
            sidecar = metadata.get(ann.path) if ann is not None else None
            draft = _read_pair(context, inflater, folder, stem, slot, tally, sidecar)
            if draft is not None:
                drafts.add(draft)
    for what, count in sorted(tally.counts.items()):
        origin = tally.first[what]
        if what in _LEFT_OUT:
            message = f"{count} brat {_LEFT_OUT[what]}"
        elif what == "joined":
            message = (
                f"{count} discontinuous span(s) whose fragments are separated only by "
                "whitespace or line breaks became one span each, over their whole extent"
            )
        else:
            message = (
                f"{count} text(s) had an empty or no .ann file: imported without that "
                "folder's annotation"
            )
        context.note(message, code="ignored", file=origin.file, line=origin.line)
    return build_documents(context, list(drafts.documents.values()), unattributed=_UNATTRIBUTED)


def _pairs(
    context: _Context, members: list[_Member]
) -> dict[tuple[str | None, str], dict[str, _Member]]:
    """Group the archive's ``.txt`` and ``.ann`` files by (annotator folder, name)."""
    pairs: dict[tuple[str | None, str], dict[str, _Member]] = {}
    ignored: list[str] = []
    for member in members:
        path = PurePosixPath(member.path)
        suffix = path.suffix.lower()
        if path.name in _CONFIG_FILES or path.name == _METADATA:
            continue
        if suffix not in (".txt", ".ann"):
            ignored.append(member.path)
            continue
        folder = path.parent.name or None
        slot = pairs.setdefault((folder, path.stem), {})
        if suffix in slot:
            context.add(
                f"{member.path!r} and {slot[suffix].path!r} are both {path.name!r} in an "
                f"annotator folder named {folder!r}; one annotator has one copy of a document",
                code="duplicate",
                file=member.file,
            )
            continue
        slot[suffix] = member
    if ignored:
        shown = ", ".join(repr(p) for p in ignored[:5])
        more = f" and {len(ignored) - 5} more" if len(ignored) > 5 else ""
        context.note(
            f"files that are neither .txt, .ann nor brat configuration were skipped: {shown}{more}"
        )
    return pairs


def _read_pair(
    context: _Context,
    inflater: _Inflater,
    folder: str | None,
    stem: str,
    slot: dict[str, _Member],
    tally: _Tally,
    sidecar: _Sidecar | None,
) -> DocumentDraft | None:
    txt, ann = slot.get(".txt"), slot.get(".ann")
    if txt is None:
        assert ann is not None  # a slot exists because one of its files does
        context.add(
            f"{ann.path!r} has no {stem + '.txt'!r} beside it; brat reads a document's text "
            "from the .txt in the same folder",
            code="missing",
            file=ann.file,
        )
        return None
    raw = inflater.read(txt)
    if raw is None:
        return None
    text = _decode(context, raw, txt.file)
    if text is None:
        return None
    draft = DocumentDraft(external_id=stem, text=text, origin=Origin(txt.file))
    annotation = AnnotationDraft(annotator=folder, origin=Origin((ann or txt).file))
    if sidecar is not None:
        _apply_sidecar(sidecar, draft, annotation)
    if ann is not None:
        ann_raw = inflater.read(ann)
        if ann_raw is None:
            return None
        ann_text = _decode(context, ann_raw, ann.file)
        if ann_text is None:
            return None
        shift = 1 if raw.startswith(_BOM) else 0
        encoded = sidecar is not None
        _read_ann(context, ann_text, text, shift, ann.file, annotation, tally, encoded=encoded)
        if sidecar is not None:
            _rename_spans(annotation, sidecar.record.get("spans"))
            _restore_left_out(annotation, sidecar)
    if annotation.empty and not annotation.keep_if_empty:
        tally.add("empty", annotation.origin)
    draft.annotations.append(annotation)
    return draft


# --- this tool's own brat export ---------------------------------------------------------------
#
# Our brat export (projects/domain/exports/brat.py) writes ``metadata.jsonl`` at its root, a line
# per ``.ann``: its path (``ann``), the document's real id, title and meta, the annotation's
# annotator, gold flag, status and stances, and the span id behind each T id; and it encodes
# names for brat (a space as ``_``, other characters as %XX). With it, a re-import gets all of
# that back.


@dataclass(frozen=True)
class _Sidecar:
    record: dict[str, object]
    origin: Origin


def _metadata(
    context: _Context, inflater: _Inflater, members: list[_Member]
) -> dict[str, _Sidecar]:
    """Our export's metadata lines by the archive path of the ``.ann`` each describes."""
    found: dict[str, _Sidecar] = {}
    for member in members:
        path = PurePosixPath(member.path)
        if path.name != _METADATA:
            continue
        content = inflater.read(member)
        text = _decode(context, content, member.file) if content is not None else None
        if text is None:
            continue
        root = "" if path.parent.name == "" else f"{path.parent.as_posix()}/"
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("ann"), str):
                context.add(
                    "not a line of this tool's brat export metadata (a JSON object with 'ann')",
                    code="parse",
                    file=member.file,
                    line=number,
                )
                continue
            found[root + record["ann"]] = _Sidecar(record, Origin(member.file, number))
    return found


def _apply_sidecar(sidecar: _Sidecar, draft: DocumentDraft, annotation: AnnotationDraft) -> None:
    record = sidecar.record
    raw_id = record.get("id")
    if isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
        draft.external_id = str(raw_id)
    title = record.get("title")
    draft.title = title if isinstance(title, str) else None
    meta = record.get("meta")
    if isinstance(meta, dict):
        draft.meta = meta
    annotator = record.get("annotator")
    annotation.annotator = annotator if isinstance(annotator, str) else None
    annotation.gold = record.get("gold") is True
    status = record.get("status")
    if isinstance(status, str):
        annotation.status = status
    # The export wrote this annotation, so it is work even with nothing in it.
    annotation.keep_if_empty = True
    stances = record.get("stances")
    where = sidecar.origin
    if isinstance(stances, list):
        for index, stance in enumerate(stances):
            if isinstance(stance, dict):
                origin = Origin(where.file, where.line, f"stances[{index}]")
                annotation.stances.append(
                    StanceDraft(stance.get("target"), stance.get("value"), origin)  # type: ignore[arg-type]
                )


def _restore_left_out(annotation: AnnotationDraft, sidecar: _Sidecar) -> None:
    """Spans our export could not write as ``T`` lines (line breaks only) come back from the
    metadata, so the round trip stays lossless."""
    left_out = sidecar.record.get("left_out")
    if not isinstance(left_out, list):
        return
    for index, item in enumerate(left_out):
        if not isinstance(item, dict):
            continue
        start, end, label = item.get("start"), item.get("end"), item.get("label")
        if isinstance(start, int) and isinstance(end, int) and isinstance(label, str):
            origin = Origin(sidecar.origin.file, sidecar.origin.line, f"left_out[{index}]")
            span_id = item.get("id")
            annotation.spans.append(
                SpanDraft(
                    start, end, label, origin, id=span_id if isinstance(span_id, str) else None
                )
            )


def _rename_spans(annotation: AnnotationDraft, spans: object) -> None:
    """Give spans back the ids they had in the tool (relations follow)."""
    if not isinstance(spans, dict):
        return
    names = {t_id: str(span_id) for t_id, span_id in spans.items() if isinstance(span_id, str)}
    for span in annotation.spans:
        span.id = names.get(span.id or "", span.id)
    for relation in annotation.relations:
        relation.source = names.get(relation.source, relation.source)
        relation.target = names.get(relation.target, relation.target)


def _decoded(name: str) -> str:
    """Undo the export's name encoding: ``_`` is a space, then %XX are UTF-8 bytes."""
    return unquote(name.replace("_", " "), errors="strict")


def _read_ann(
    context: _Context,
    ann_text: str,
    text: str,
    shift: int,
    file: str,
    annotation: AnnotationDraft,
    tally: _Tally,
    *,
    encoded: bool = False,
) -> None:
    """Read one ``.ann`` into ``annotation``; ``encoded`` names come from this tool's export.

    Attributes and relations are resolved after every line is read: brat does not require a
    ``T`` line to come before the lines that refer to it.
    """
    spans: dict[str, SpanDraft] = {}
    events: set[str] = set()
    refused: set[str] = set()
    defined: dict[str, int] = {}
    deferred: list[tuple[str, str, Origin]] = []
    for number, raw_line in enumerate(ann_text.split("\n"), start=1):
        line = raw_line.rstrip("\r")
        if not line.strip():
            continue
        ident, _, rest = line.partition("\t")
        ident = ident.strip()
        origin = Origin(file, number, ident)
        kind = ident[:1]
        if kind not in "TRAMEN*#" or not ident:
            context.add(
                "not a brat annotation line: it should start with an id like T1, R1, A1, E1, "
                f"N1, * or #1 and a tab, not {line[:40]!r}",
                code="parse",
                file=file,
                line=number,
            )
            continue
        if ident != "*" and kind != "#":
            if ident in defined:
                context.add(
                    f"id {ident} is already used on line {defined[ident]}",
                    code="duplicate",
                    file=file,
                    line=number,
                    field=ident,
                )
                continue
            defined[ident] = number
        if kind == "T":
            span = _textbound(context, ident, rest, text, shift, origin, tally)
            if span is not None and encoded:
                span.label = _decoded(span.label)
            if span is None:
                refused.add(ident)
            else:
                spans[ident] = span
                annotation.spans.append(span)
        elif kind == "E":
            events.add(ident)
            tally.add("E", origin)
        elif kind in "AMR":
            deferred.append((kind, rest, origin))
        else:
            tally.add(kind, origin)
    for kind, rest, origin in deferred:
        if refused & set(rest.replace(":", " ").split()):
            continue  # it would only repeat the problem of the T line it refers to
        if kind == "R":
            _relation(context, rest, origin, spans, events, annotation, tally, encoded)
        else:
            _attribute(context, rest, origin, spans, events, tally, encoded)


def _textbound(
    context: _Context,
    ident: str,
    rest: str,
    text: str,
    shift: int,
    origin: Origin,
    tally: _Tally,
) -> SpanDraft | None:
    """``T1<TAB>Label START END[;START END]*<TAB>text``."""
    middle, has_text, quoted = rest.partition("\t")
    label, _, offsets = middle.strip().partition(" ")
    fragments: list[tuple[int, int]] = []
    for piece in offsets.split(";"):
        match = _FRAGMENT.fullmatch(piece)
        if match is None:
            fragments = []
            break
        fragments.append((int(match[1]) - shift, int(match[2]) - shift))
    if not label or not fragments:
        context.add(
            f"a text-bound line reads '{ident}<TAB>Type START END<TAB>text', not {rest[:60]!r}",
            code="parse",
            file=origin.file,
            line=origin.line,
            field=ident,
        )
        return None
    where = Origin(origin.file, origin.line, ident, _T_SUBFIELDS)
    if len(fragments) == 1:
        start, end = fragments[0]
        return SpanDraft(start, end, label, where, id=ident, text=quoted if has_text else None)
    return _joined(
        context, ident, label, fragments, quoted if has_text else None, text, where, tally
    )


def _joined(
    context: _Context,
    ident: str,
    label: str,
    fragments: list[tuple[int, int]],
    quoted: str | None,
    text: str,
    where: Origin,
    tally: _Tally,
) -> SpanDraft | None:
    """One span over a discontinuous annotation's extent, if only whitespace lies between its
    fragments (brat's own split of a selection across a line break); otherwise a problem."""
    shown = ";".join(f"{start} {end}" for start, end in fragments)
    for start, end in fragments:
        if not 0 <= start < end <= len(text):
            context.add(
                f"fragment {start} {end} of {ident} ({shown}) is not a span of the text "
                f"(length {len(text)})",
                code="out_of_range",
                file=where.file,
                line=where.line,
                field=f"{ident}.offsets",
            )
            return None
    for (_, previous_end), (next_start, _) in pairwise(fragments):
        between = text[previous_end:next_start]
        if next_start < previous_end or between.strip():
            context.add(
                f"{ident} is discontinuous ({shown}) with {between[:30]!r} between its fragments;"
                " a span here is one stretch of text: split it into separate spans in brat (or "
                "join its fragments)",
                code="discontinuous",
                file=where.file,
                line=where.line,
                field=f"{ident}.offsets",
            )
            return None
    if quoted is not None:
        # brat quotes a discontinuous span as its fragments joined by one space.
        expected = " ".join(text[start:end] for start, end in fragments)
        if quoted != expected:
            context.add(
                f"the quoted text {quoted[:40]!r} is not the text at {shown} ({expected[:40]!r})",
                code="mismatch",
                file=where.file,
                line=where.line,
                field=f"{ident}.text",
            )
            return None
    tally.add("joined", where)
    return SpanDraft(fragments[0][0], fragments[-1][1], label, where, id=ident)


def _attribute(
    context: _Context,
    rest: str,
    origin: Origin,
    spans: dict[str, SpanDraft],
    events: set[str],
    tally: _Tally,
    encoded: bool,
) -> None:
    """``A1<TAB>Name T3 [Value]``: a binary attribute (no value) is ``true``."""
    parts = rest.split()
    if len(parts) not in (2, 3):
        context.add(
            f"an attribute line reads '{origin.field}<TAB>Name T1 [Value]', not {rest[:60]!r}",
            code="parse",
            file=origin.file,
            line=origin.line,
            field=origin.field,
        )
        return
    name, target = parts[0], parts[1]
    if target in events:
        tally.add("event-attribute", origin)
        return
    span = spans.get(target)
    if span is None:
        context.add(
            f"{origin.field} gives {name!r} to {target}, which this file does not define as a "
            "text-bound (T) annotation",
            code="unknown_span",
            file=origin.file,
            line=origin.line,
            field=origin.field,
        )
        return
    given = parts[2] if len(parts) == 3 else "true"
    if encoded:
        name, given = _decoded(name), _decoded(given)
    scheme = context.scheme
    attribute = scheme_attribute(scheme, name)
    value = scheme_attribute_value(scheme, attribute, given)
    if attribute in span.attributes:
        first = span.attribute_origins[attribute]
        context.add(
            f"{target} already has {attribute!r} from line {first.line}",
            code="duplicate",
            file=origin.file,
            line=origin.line,
            field=origin.field,
        )
        return
    span.attributes[attribute] = value
    span.attribute_origins[attribute] = origin


def _relation(
    context: _Context,
    rest: str,
    origin: Origin,
    spans: dict[str, SpanDraft],
    events: set[str],
    annotation: AnnotationDraft,
    tally: _Tally,
    encoded: bool,
) -> None:
    """``R1<TAB>type Arg1:T3 Arg2:T1``: from the first argument to the second."""
    parts = rest.split()
    arguments = [part.partition(":") for part in parts[1:]]
    if len(parts) != 3 or any(not sep or not ref for _, sep, ref in arguments):
        context.add(
            f"a relation line reads '{origin.field}<TAB>type Arg1:T1 Arg2:T2', not {rest[:60]!r}",
            code="parse",
            file=origin.file,
            line=origin.line,
            field=origin.field,
        )
        return
    (role1, _, source), (role2, _, target) = arguments
    if source in events or target in events:
        tally.add("event-relation", origin)
        return
    subfields = {"from": f".{role1}", "to": f".{role2}", "type": ".type"}
    where = Origin(origin.file, origin.line, origin.field, subfields)
    kind = _decoded(parts[0]) if encoded else parts[0]
    annotation.relations.append(RelationDraft(source, target, kind, where))
