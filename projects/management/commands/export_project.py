"""``manage.py export_project --project SLUG --format FORMAT --out PATH [options]``: build an
export in this process, through the same service code as the worker (minus the queue).

The export is recorded like any other (it appears in the project's history, requested by
nobody) and stored through the storage API; the command then copies the file to ``PATH`` and
writes its manifest beside it as ``PATH.manifest.json`` (zip formats carry the manifest inside
the archive as well). Progress goes to stderr: a bar on a terminal, a line per tenth otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from projects.domain.exports.records import ANNOTATION_CHOICES, FORMATS
from projects.models import ExportStatus, Project
from projects.services import exports as export_services
from projects.services.errors import ServiceError


def parse_splits(raw: str) -> list[list[Any]]:
    """``train=0.8,validation=0.1,test=0.1`` → ``[["train", 0.8], ...]`` (the names and sums
    are checked by the export domain)."""
    pairs: list[list[Any]] = []
    for part in raw.split(","):
        name, sep, ratio = part.strip().partition("=")
        if not sep or not name.strip():
            raise CommandError(
                f"--split: {part.strip()!r} is not NAME=RATIO "
                "(example: --split train=0.8,validation=0.1,test=0.1)."
            )
        try:
            value = float(ratio)
        except ValueError:
            raise CommandError(
                f"--split: {ratio!r} (for {name.strip()}) is not a number."
            ) from None
        pairs.append([name.strip(), value])
    return pairs


def _plain(text: str) -> str:
    """Progress is not an error: no red on a terminal (stderr's default style)."""
    return text


class Progress:
    """A bar redrawn in place on a terminal; plain lines (every tenth) in a log."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, *, tty: bool) -> None:
        self.stream = stream
        self.tty = tty
        self._last_tenth = -1
        self._drawn = 0.0

    def __call__(self, done: int, total: int) -> None:
        share = done / total if total else 1.0
        if self.tty:
            now = time.monotonic()
            if done != total and now - self._drawn < 0.1:
                return
            self._drawn = now
            filled = int(self.WIDTH * share)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            line = f"\r[{bar}] {share:6.1%}  {done}/{total} documents"
            self.stream.write(line, _plain, ending="")
            self.stream.flush()
        else:
            tenth = int(share * 10)
            if tenth > self._last_tenth:
                self._last_tenth = tenth
                self.stream.write(f"{done}/{total} documents read ({share:.0%})", _plain)
                self.stream.flush()

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("", _plain)
            self.stream.flush()


class Command(BaseCommand):
    help = (
        "Export a project's documents and annotations to a file, in this process (no worker "
        "needed). Writes PATH and PATH.manifest.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--out", required=True, type=Path, help="The file to write.")
        parser.add_argument(
            "--annotations",
            choices=list(ANNOTATION_CHOICES),
            default="all",
            help="gold only, every annotator's (all, the default), or a majority merge.",
        )
        parser.add_argument(
            "--include-unfinished",
            action="store_true",
            help="Also export work not submitted yet (default: submitted only).",
        )
        parser.add_argument(
            "--split",
            default=None,
            help="Split ratios, e.g. train=0.8,validation=0.1,test=0.1 (default: all train).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the split (default 0).")
        parser.add_argument("--no-relations", action="store_true", help="Leave relations out.")
        parser.add_argument("--no-stances", action="store_true", help="Leave stances out.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["project"]
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            known = ", ".join(Project.objects.order_by("slug").values_list("slug", flat=True)[:20])
            raise CommandError(
                f"No project with the slug {slug!r}." + (f" Projects: {known}." if known else "")
            )
        out: Path = options["out"]
        if out.is_dir():
            raise CommandError(f"--out {out} is a folder; give a file name.")
        if not out.parent.is_dir():
            raise CommandError(f"--out {out}: the folder {out.parent} does not exist.")
        wanted: dict[str, Any] = {
            "format": options["format"],
            "annotations": options["annotations"],
            "include_unfinished": options["include_unfinished"],
            "seed": options["seed"],
            "relations": not options["no_relations"],
            "stances": not options["no_stances"],
        }
        if options["split"]:
            wanted["splits"] = parse_splits(options["split"])
        try:
            export = export_services.export_create(
                project=project, actor_id=None, options=wanted, queue=False
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        claim = export_services.export_claim(
            export_id=export.pk, worker=f"cli@{socket.gethostname()}"
        )
        if claim is None:  # only if someone else took this brand-new row: not expected
            raise CommandError(f"Export #{export.pk} was claimed by another process.")
        progress = Progress(self.stderr, tty=self.stderr.isatty())
        started = time.monotonic()
        try:
            result = export_services.build(claim, progress=progress)
        finally:
            progress.close()
        if result is None or result.status != ExportStatus.DONE:
            reason = result.error if result is not None else "its claim was lost"
            raise CommandError(f"Export #{export.pk} failed: {reason}")
        self._copy(result, out)
        manifest = out.with_name(out.name + ".manifest.json")
        manifest.write_text(result.manifest, encoding="utf-8")
        took = time.monotonic() - started
        counts = result.counts
        self.stdout.write(
            f"Wrote {out} ({result.size} bytes, sha256 {result.sha256}) and {manifest.name}: "
            f"{counts.get('documents', 0)} documents, {counts.get('annotations', 0)} annotations, "
            f"{counts.get('spans', 0)} spans in {took:.1f} s (export #{result.pk})."
        )

    def _copy(self, export: Any, out: Path) -> None:
        """Copy from storage to a temporary name beside ``out``, then rename: a reader never
        sees half a file."""
        partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
        try:
            with export.file.open("rb") as source, partial.open("wb") as target:
                shutil.copyfileobj(source, target, 1024 * 1024)
            partial.replace(out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"Could not write {out}: {exc}") from exc
