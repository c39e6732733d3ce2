"""``manage.py import_documents --project SLUG FILE [FILE ...]``: the same import as the UI and
the API (one transaction per file; every problem reported with file, line and field), including
brat, doccano and Label Studio exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.domain.importers import IMPORT_FORMATS
from projects.models import Project
from projects.services.documents import annotator_map_from_text, documents_import
from projects.services.errors import ServiceError


class Command(BaseCommand):
    help = (
        "Import documents (.jsonl, .json, .csv, .txt, .zip of .txt) or brat, doccano and Label "
        "Studio exports into a project."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument(
            "--on-duplicate",
            choices=["fail", "skip"],
            default="fail",
            help="What to do with a document id that exists already.",
        )
        parser.add_argument(
            "--format",
            choices=IMPORT_FORMATS,
            default="auto",
            help="Read the files as this format (default: recognise it from each file).",
        )
        parser.add_argument(
            "--annotator",
            help="Username of the member who made annotations a file does not attribute.",
        )
        parser.add_argument(
            "--annotator-map",
            default="",
            help="Rename the files' annotators: name=username pairs separated by commas.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug '{options['project']}'.")
        try:
            annotator_map = annotator_map_from_text(options["annotator_map"])
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        failed = False
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            try:
                result = documents_import(
                    project=project,
                    filename=path.name,
                    data=path.read_bytes(),
                    actor_id=None,
                    on_duplicate=options["on_duplicate"],
                    format=options["format"],
                    annotator=options["annotator"],
                    annotator_map=annotator_map,
                )
            except ServiceError as exc:
                failed = True
                self.stderr.write(f"{path}: nothing imported.")
                for problem in exc.problems:
                    self.stderr.write(f"  {problem}")
                continue
            skipped = f", {len(result.skipped)} skipped (already there)" if result.skipped else ""
            self.stdout.write(
                f"{path}: imported {result.created} documents, "
                f"{result.annotations} annotations, {result.spans} spans{skipped}."
            )
            for note in result.notes:
                self.stdout.write(f"  note: {note}")
        if failed:
            raise CommandError("Some files were not imported (see above).")
