"""One entry point for every export format: stream shaped documents into a file and a manifest.

The caller (the export task, the CLI) streams :class:`ExportDocument` records, already shaped by
:func:`projects.domain.exports.select.shape_document`, in ``external_id`` order; this module
counts them as they pass, hands them to the format's writer, then hashes the result and builds
``manifest.json``. Nothing here holds the documents: memory stays flat however large the project
(``spacy.py`` streams the ``DocBin`` bytes itself rather than building one in memory).

Format modules are imported only when used, so a web process that merely validates options never
loads spaCy or pyarrow.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import BinaryIO

from projects.domain.exports.base import (
    MANIFEST_NAME,
    ExportContext,
    Tally,
    ZipSink,
    dump_manifest,
    file_entry,
    main_file_name,
    manifest_body,
)
from projects.domain.exports.records import (
    FORMATS,
    ExportDocument,
    ExportOptions,
    ExportScheme,
)

__all__ = ["ZIP_FORMATS", "ExportSummary", "main_file_name", "write_export"]

#: Formats whose main file is a zip archive with manifest.json inside it as well.
ZIP_FORMATS: frozenset[str] = frozenset({"brat", "hf"})

#: format -> (module, function). Every function takes (documents, target, context, tally) where
#: target is the binary file, or a ZipSink for zip formats.
_WRITERS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "jsonl": ("projects.domain.exports.jsonl", "write_jsonl"),
        "csv": ("projects.domain.exports.csv", "write_csv"),
        "conll": ("projects.domain.exports.conll", "write_conll"),
        "brat": ("projects.domain.exports.brat", "write_brat"),
        "spacy": ("projects.domain.exports.spacy", "write_spacy"),
        "hf": ("projects.domain.exports.hf", "write_hf"),
    }
)

_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExportSummary:
    """What the caller records on the Export row: counts, the main file's checksum and size,
    and the manifest (also stored, and inside the archive for zip formats).

    ``counts`` has ``documents``, ``annotations``, ``spans``, ``relations``, ``stances`` and
    ``splits`` (split name -> the same five counts, for every split the options declare).
    ``file_name`` is the main file's name as the manifest lists it (``<project>-<format><ext>``),
    which is also a good name to offer for the download.
    """

    counts: Mapping[str, object]
    sha256: str
    size: int
    manifest: bytes
    file_name: str = field(default="")


def write_export(
    documents: Iterable[ExportDocument],
    out: BinaryIO,
    *,
    options: ExportOptions,
    scheme: ExportScheme,
    project: str,
    tool_version: str,
    progress: Callable[[int], None] | None = None,
    agreement: Mapping[str, object] | None = None,
) -> ExportSummary:
    """Write the export's main file to ``out`` (binary, seekable) and describe it.

    ``documents`` is consumed once, as a stream. ``progress(n)`` is called with the number of
    documents written so far, every :data:`~projects.domain.exports.base.PROGRESS_EVERY`
    documents and once at the end. ``agreement`` (the project's overall figures, JSON-ready) is
    quoted in the ``hf`` dataset card and ignored by the other formats. The same documents and
    arguments give byte-identical files and manifest.
    """
    if options.format not in FORMATS:
        raise ValueError(
            f"unknown export format {options.format!r}; expected one of {', '.join(FORMATS)}"
        )
    module_name, function_name = _WRITERS[options.format]
    writer = getattr(importlib.import_module(module_name), function_name)
    context = ExportContext(
        options=options,
        scheme=scheme,
        project=project,
        tool_version=tool_version,
        agreement=agreement,
    )
    tally = Tally(splits=tuple(name for name, _ in options.splits), progress=progress)
    stream = tally.track(documents)
    start = out.tell()
    members: dict[str, dict[str, object]] | None = None
    if options.format in ZIP_FORMATS:
        sink = ZipSink(out)
        try:
            writer(stream, sink, context, tally)
        except BaseException:
            sink.abandon()
            raise
        members = dict(sink.members)
        sink.add_bytes(
            MANIFEST_NAME, dump_manifest(manifest_body(context, tally.as_dict(), members))
        )
        sink.close()
    else:
        writer(stream, out, context, tally)
    out.flush()
    sha256, size = _hash_from(out, start)
    name = main_file_name(project, options.format)
    body = manifest_body(context, tally.as_dict(), {name: file_entry(sha256, size)})
    if members is not None:
        body["members"] = members
    return ExportSummary(
        counts=tally.as_dict(),
        sha256=sha256,
        size=size,
        manifest=dump_manifest(body),
        file_name=name,
    )


def _hash_from(out: BinaryIO, start: int) -> tuple[str, int]:
    """Hash what was written by reading it back: zip writers seek backwards to patch headers,
    so hashing on the way out would hash the wrong bytes. The file is in the page cache."""
    end = out.tell()
    out.seek(start)
    digest = hashlib.sha256()
    remaining = end - start
    while remaining > 0:
        chunk = out.read(min(_HASH_CHUNK, remaining))
        if not chunk:
            break
        digest.update(chunk)
        remaining -= len(chunk)
    out.seek(end)
    return digest.hexdigest(), end - start
