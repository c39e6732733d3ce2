"""Helpers for the lifecycle tests: the export tests' project with real submitted work (two
annotators on documents 0 and 1, a submitted gold on document 0), API paths, and a count of
every annotation-bearing row, so a test can prove that nothing was removed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..conftest import World
from ..exports.conftest import annotate, annotated, build_now

__all__ = ["annotate", "annotated", "build_now", "doc_api", "rows_in_database"]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Export files of each test in their own folder."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


def doc_api(world: World, doc: Any, path: str = "") -> str:
    return f"/api/v1/projects/{world.project.pk}/documents/{doc.pk}/{path}"


def rows_in_database() -> dict[str, int]:
    """Every row that holds annotation data, deleted or not (``all_objects``)."""
    from projects.models import Annotation, Document, Project, Relation, Span, Stance

    return {
        "projects": Project.all_objects.count(),
        "documents": Document.all_objects.count(),
        "annotations": Annotation.all_objects.count(),
        "spans": Span.objects.count(),
        "relations": Relation.objects.count(),
        "stances": Stance.objects.count(),
    }
