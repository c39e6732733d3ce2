"""What every writer shares: the run's context, counting as documents stream past, the manifest,
and deterministic zip archives.

Determinism is the rule everything here serves: the same records and options must give the same
bytes, so nothing may depend on the clock, the machine's umask, dictionary insertion order that
came from a database, or the order in which a zip library happens to emit members.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from projects.domain.exports.records import (
    FORMATS,
    ExportDocument,
    ExportOptions,
    ExportScheme,
)

__all__ = [
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "PROGRESS_EVERY",
    "ExportContext",
    "Tally",
    "ZipSink",
    "dump_manifest",
    "file_entry",
    "main_file_name",
    "manifest_body",
    "plain_json",
]

#: Bumped whenever a format's content changes shape (FORMATS.md: a public contract).
MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: How many documents pass between two progress reports: often enough for a smooth bar, rarely
#: enough that a progress callback writing to the database costs nothing measurable.
PROGRESS_EVERY = 100
#: 1980-01-01, the earliest date a zip entry can carry: a fixed date makes archives reproducible.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--, whatever the writer's umask
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExportContext:
    """Everything about one export run that is not a document, handed to every writer."""

    options: ExportOptions
    scheme: ExportScheme
    project: str
    tool_version: str
    agreement: Mapping[str, object] | None = None


_COUNT_KEYS = ("documents", "annotations", "spans", "relations", "stances")


@dataclass
class Tally:
    """Counts what passes through :meth:`track`, overall and per split, and reports progress.

    Counting as the writer pulls documents keeps the stream single-pass: nobody has to look at
    the documents twice, so nothing has to hold them.
    """

    splits: tuple[str, ...]
    progress: Callable[[int], None] | None = None
    totals: dict[str, int] = field(init=False)
    per_split: dict[str, dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.totals = dict.fromkeys(_COUNT_KEYS, 0)
        self.per_split = {name: dict.fromkeys(_COUNT_KEYS, 0) for name in self.splits}

    def track(self, documents: Iterable[ExportDocument]) -> Iterator[ExportDocument]:
        """Yield the documents unchanged, counting each; progress is called with the number
        already handed on (so already written by the time the writer asks for the next one)."""
        done = 0
        for document in documents:
            if done and done % PROGRESS_EVERY == 0 and self.progress is not None:
                self.progress(done)
            self._add(document)
            yield document
            done += 1
        if self.progress is not None:
            self.progress(done)

    def _add(self, document: ExportDocument) -> None:
        bucket = self.per_split.get(document.split)
        if bucket is None:
            raise ValueError(
                f"document {document.external_id!r} is in split {document.split!r}, which the "
                f"options do not declare ({', '.join(self.splits)})"
            )
        for counts in (self.totals, bucket):
            counts["documents"] += 1
            for annotation in document.annotations:
                counts["annotations"] += 1
                counts["spans"] += len(annotation.spans)
                counts["relations"] += len(annotation.relations)
                counts["stances"] += len(annotation.stances)

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = dict(self.totals)
        result["splits"] = {name: dict(counts) for name, counts in self.per_split.items()}
        return result


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def main_file_name(project: str, format: str) -> str:
    """The main file's name as the manifest records it (and a download should offer it):
    ``<project>-<format><extension>``, reduced to characters safe in any file system."""
    extension = FORMATS.get(format)
    if extension is None:
        raise ValueError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    stem = _UNSAFE_NAME.sub("_", project).strip("._") or "export"
    return f"{stem}-{format}{extension}"


def manifest_body(
    context: ExportContext, counts: Mapping[str, object], files: Mapping[str, object]
) -> dict[str, object]:
    """The manifest's content; ``files`` maps each file name to its sha256 and size."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "project": context.project,
        "format": context.options.format,
        "scheme_version": context.scheme.version,
        "options": context.options.as_dict(),
        "counts": dict(counts),
        "tool_version": context.tool_version,
        "files": dict(files),
    }


def dump_manifest(body: Mapping[str, object]) -> bytes:
    """Sorted keys, indent 2, trailing newline, UTF-8: one byte sequence per content.

    The output is exactly ``json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False)``,
    but the file lists (a brat export lists a file per document and annotator) are formatted
    directly: with ``indent`` set, ``json`` falls back to its pure-Python encoder, which took
    longer than writing the archive itself.
    """
    lists = {key: body[key] for key in _FILE_LISTS if isinstance(body.get(key), Mapping)}
    rest = {key: (_placeholder(key) if key in lists else value) for key, value in body.items()}
    text = json.dumps(rest, sort_keys=True, indent=2, ensure_ascii=False)
    for key, entries in lists.items():
        assert isinstance(entries, Mapping)
        text = text.replace(json.dumps(_placeholder(key)), _file_list(entries), 1)
    return (text + "\n").encode("utf-8")


_FILE_LISTS = ("files", "members")


def _placeholder(key: str) -> str:
    return f"\x00{key}\x00"


def _file_list(entries: Mapping[str, object]) -> str:
    """``{name: {"sha256", "size"}}`` at the top level of the manifest, as json.dumps would."""
    if not entries:
        return "{}"
    parts = []
    for name in sorted(entries):
        entry = entries[name]
        if not (isinstance(entry, Mapping) and set(entry) == {"sha256", "size"}):
            raise ValueError(f"manifest entry {name!r} is not a sha256 and size: {entry!r}")
        parts.append(
            f"    {json.dumps(name, ensure_ascii=False)}: {{\n"
            f'      "sha256": {json.dumps(entry["sha256"])},\n'
            f'      "size": {json.dumps(entry["size"])}\n'
            "    }"
        )
    return "{\n" + ",\n".join(parts) + "\n  }"


def file_entry(digest: str, size: int) -> dict[str, object]:
    return {"sha256": digest, "size": size}


class ZipSink:
    """A zip archive whose bytes depend only on what is added and in which order.

    Every member gets the same date (1980-01-01), permissions (0644), creator system (Unix) and
    compression, so two runs over the same records give identical archives. Members are written
    as they are added, never collected, and the sha256 and size of each is kept for the manifest.
    The central directory (one small record per member) is the only thing that grows with the
    number of members: that is the zip format.
    """

    def __init__(self, out: BinaryIO) -> None:
        self._archive = zipfile.ZipFile(out, "w", allowZip64=True)
        self.members: dict[str, dict[str, object]] = {}

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        if name in self.members:
            raise ValueError(f"zip member {name!r} written twice")
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
        info.create_system = 3
        info.external_attr = _ZIP_FILE_MODE
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        info = self._info(name, compress)
        self._archive.writestr(info, data, compresslevel=6 if compress else None)
        self.members[name] = file_entry(hashlib.sha256(data).hexdigest(), len(data))

    def add_file(self, name: str, source: IO[bytes], size: int, *, compress: bool = False) -> None:
        """Copy a (temporary) file into the archive in chunks, never whole in memory."""
        info = self._info(name, compress)
        # Telling zipfile the size up front lets it choose zip64 before writing the header.
        info.file_size = size
        digest = hashlib.sha256()
        source.seek(0)
        with self._archive.open(info, "w") as member:
            while chunk := source.read(_COPY_CHUNK):
                digest.update(chunk)
                member.write(chunk)
        self.members[name] = file_entry(digest.hexdigest(), size)

    def close(self) -> None:
        self._archive.close()

    def abandon(self) -> None:
        """After a failed write: finish the archive as far as it can be finished, so nothing
        is left to write at garbage collection (the file is the caller's to discard)."""
        with contextlib.suppress(Exception):
            self._archive.close()


def plain_json(value: object) -> object:
    """Free-form JSON (``meta``) as plain dicts and lists with keys sorted at every level, so
    ``json.dumps`` accepts it (a read-only mapping is not a dict) and the bytes do not depend on
    the key order a database returned."""
    if isinstance(value, Mapping):
        return {str(key): plain_json(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [plain_json(item) for item in value]
    return value
