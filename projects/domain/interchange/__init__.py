"""Importing other annotation tools' exports: brat standoff, doccano and Label Studio.

Each format module reads a tool's files into drafts (:mod:`.drafts`), which are built through
the same checks as a native upload. This module recognises which tool wrote an upload when the
extension alone cannot say (``.jsonl`` is native or doccano, ``.json`` Label Studio or doccano,
``.zip`` brat, doccano or a zip of texts), and lists what each explicitly chosen format accepts.

What a tool records that this tool has no place for (brat events, Label Studio cancelled
annotations, doccano comments) is left out with a *note*, never silently and never as an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import PurePosixPath

from projects.domain.importers import (
    DocumentIn,
    _archive_members,
    _build_jsonl,
    _Context,
    _jsonl_records,
    _open_archive,
    _parse_zip,
)
from projects.domain.interchange import brat, doccano, labelstudio
from projects.domain.interchange.drafts import load_json_records
from projects.domain.problems import Problem

__all__ = [
    "DOCCANO_KEYS",
    "PARSERS",
    "parse_annotator_map",
    "parse_json",
    "parse_jsonl_auto",
    "parse_zip_auto",
]

Parser = Callable[[_Context, bytes], list[DocumentIn]]


# --- options ---------------------------------------------------------------------------------


def parse_annotator_map(text: str) -> tuple[dict[str, str], list[Problem]]:
    """Read the ``annotator_map`` option: a JSON object, or ``name=user`` pairs separated by
    commas or new lines (what fits a form field and a command line)."""
    text = text.strip()
    if not text:
        return {}, []
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as error:
            return {}, [Problem(f"not valid JSON: {error}", field="annotator_map")]
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
            for k, v in data.items()
        ):
            return {}, [
                Problem("must map names to usernames (strings to strings)", field="annotator_map")
            ]
        return {k.strip(): v.strip() for k, v in data.items()}, []
    for part in re.split(r"[,\n]", text):
        if not part.strip():
            continue
        name, sep, user = part.partition("=")
        if not sep or not name.strip() or not user.strip():
            problems.append(
                Problem(
                    f"{part.strip()!r} is not name=username",
                    field="annotator_map",
                )
            )
            continue
        if name.strip() in mapping:
            problems.append(
                Problem(
                    f"{name.strip()!r} is mapped twice", field="annotator_map", code="duplicate"
                )
            )
        mapping[name.strip()] = user.strip()
    return mapping, problems


# --- recognising the format ------------------------------------------------------------------

#: Top-level keys that only doccano's sequence-labelling exports have (native JSONL has
#: ``annotations`` instead).
DOCCANO_KEYS: tuple[str, ...] = ("entities", "label", "labels", "relations")


def parse_jsonl_auto(context: _Context, data: bytes) -> list[DocumentIn]:
    """A ``.jsonl`` file is native or doccano: its records' keys tell which."""
    records = _jsonl_records(context, data)
    native_at = next((n for n, r in records if "annotations" in r), None)
    doccano_at, key = next(
        ((n, k) for n, r in records for k in DOCCANO_KEYS if k in r and "annotations" not in r),
        (None, None),
    )
    if native_at is not None and doccano_at is not None:
        context.add(
            f"the file mixes formats: line {native_at} has 'annotations' (native JSONL) and "
            f"line {doccano_at} has {key!r} (a doccano export); choose the format explicitly",
            code="ambiguous",
            line=doccano_at,
        )
        return []
    if doccano_at is None:
        return _build_jsonl(context, records)
    documents = doccano.build_jsonl(context, records)
    shapes = (*DOCCANO_KEYS, "id", "text")
    if any((p.field or "").startswith(shapes) for p in context.problems):
        context.add(
            f"the file was read as a doccano export because line {doccano_at} has {key!r}; "
            "if it is native JSONL, choose the format native",
            code="detected",
            line=doccano_at,
        )
    return documents


def parse_json(context: _Context, data: bytes) -> list[DocumentIn]:
    """A ``.json`` file: a Label Studio export (JSON or JSON-MIN), or doccano records."""
    records = load_json_records(context, data)
    if records is None:
        return []
    chosen = context.options.format
    kinds = {_json_kind(record) for record in records}
    if chosen == "auto":
        if len(kinds) > 1 or None in kinds:
            index = next(
                (i for i, r in enumerate(records) if _json_kind(r) != _json_kind(records[0])), 0
            )
            context.add(
                "cannot tell which tool wrote this file: expected a list of Label Studio tasks "
                "(with 'data'), Label Studio JSON-MIN rows (with 'annotation_id') or doccano "
                "records (with 'text' and 'label' or 'entities'); record "
                f"[{index}] is not like record [0]",
                code="ambiguous",
                field=f"[{index}]",
            )
            return []
        chosen = "doccano" if kinds == {"doccano"} else "labelstudio"
    if chosen == "doccano":
        return doccano.build_json(context, records)
    return labelstudio.build(context, records)


def _json_kind(record: Mapping[str, object]) -> str | None:
    if isinstance(record.get("data"), dict):
        return "labelstudio"
    if "annotation_id" in record:
        return "labelstudio-min"
    if "text" in record and any(key in record for key in DOCCANO_KEYS):
        return "doccano"
    return None


def parse_zip_auto(context: _Context, data: bytes) -> list[DocumentIn]:
    """A ``.zip`` is brat (it holds ``.ann`` files), doccano (``.jsonl`` files, one per user)
    or native (``.txt`` files only)."""
    kind = _zip_kind(context, data)
    if kind == "brat":
        return brat.parse(context, data)
    if kind == "doccano":
        return doccano.parse_zip(context, data)
    if kind == "native":
        return _parse_zip(context, data)
    return []


def _zip_kind(context: _Context, data: bytes) -> str | None:
    """Look at the archive's file names only. Problems with the archive itself (not a zip,
    unsafe paths) are left to the parser chosen, which reports them in its own terms."""
    quiet = replace(context, problems=[])
    archive = _open_archive(quiet, data)
    if archive is None:
        return "native"
    with archive:
        suffixes = [PurePosixPath(m.path).suffix.lower() for m in _archive_members(quiet, archive)]
    if ".ann" in suffixes:
        return "brat"
    if ".jsonl" in suffixes and ".txt" in suffixes:
        context.add(
            "the archive holds both .jsonl and .txt files: a doccano export holds .jsonl files "
            "only, a zip of texts .txt files only; choose the format explicitly",
            code="ambiguous",
        )
        return None
    return "doccano" if ".jsonl" in suffixes else "native"


#: The extensions each explicitly chosen (non-native) format accepts.
PARSERS: Mapping[str, Mapping[str, Parser]] = {
    "brat": {".zip": brat.parse},
    "doccano": {
        ".jsonl": doccano.parse_jsonl,
        ".ndjson": doccano.parse_jsonl,
        ".json": parse_json,
        ".zip": doccano.parse_zip,
    },
    "labelstudio": {".json": parse_json},
}
