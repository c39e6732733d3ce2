"""``manage.py load_demo``: the demo project (slug ``demo``) with the example article, its
scheme and two annotators' work. Idempotent: a second run changes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from projects.models import Membership, Project, Role
from projects.services.documents import documents_import
from projects.services.projects import project_create

DEMO_DIR = Path(__file__).resolve().parent.parent.parent / "demo_data"
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - a published demo login, printed on purpose
USERS = [("lead", Role.LEAD), ("annotator1", Role.ANNOTATOR), ("annotator2", Role.ANNOTATOR)]


class Command(BaseCommand):
    help = "Create the demo project with users lead, annotator1 and annotator2."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD", DEMO_PASSWORD),
            help="Password for the demo users (default: DEMO_PASSWORD or "
            f"'{DEMO_PASSWORD}'). Only set on users it creates.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        users = {}
        for username, _role in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, password=options["password"])
            users[username] = user
        project = Project.all_objects.filter(slug="demo").first()
        if project is not None and project.deleted_at is not None:
            raise CommandError(
                "The demo project was deleted; a staff user can restore it in the admin "
                "(Projects, action 'Restore the selected projects')."
            )
        if project is None:
            project = project_create(
                name="Demo: US declines to sponsor UN resolution on China",
                slug="demo",
                created_by_id=users["lead"].pk,
                scheme=json.loads((DEMO_DIR / "scheme.json").read_text()),
                description="The example article with two annotators' work.",
                guidelines=(DEMO_DIR / "guidelines.md").read_text(),
            )
        for username, role in USERS:
            Membership.objects.get_or_create(
                project=project, user=users[username], defaults={"role": role}
            )
        result = documents_import(
            project=project,
            filename="seed-annotated.jsonl",
            data=(DEMO_DIR / "seed-annotated.jsonl").read_bytes(),
            actor_id=users["lead"].pk,
            on_duplicate="skip",
        )
        made = "created" if result.created else "already there"
        self.stdout.write(f"Demo project 'demo' ({made}): {project.documents.count()} document(s).")
        self.stdout.write(
            f"Logins (password for users created by this command: {options['password']}):"
        )
        for username, role in USERS:
            self.stdout.write(f"  {username:<11} {role.label}")
