"""``manage.py import_documents --project SLUG FILE [FILE ...]``: the same import as the UI and
the API (one transaction per file; every problem reported with file, line and field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from projects.models import Project
from projects.services.documents import documents_import
from projects.services.errors import ServiceError


class Command(BaseCommand):
    help = "Import documents (.jsonl, .csv, .txt, .zip of .txt) into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--project", required=True, help="Project slug.")
        parser.add_argument(
            "--on-duplicate",
            choices=["fail", "skip"],
            default="fail",
            help="What to do with a document id that exists already.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with the slug '{options['project']}'.")
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
        if failed:
            raise CommandError("Some files were not imported (see above).")
