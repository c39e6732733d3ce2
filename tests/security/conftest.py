"""The hostile project as a fixture, for the page, admin and export tests."""

from __future__ import annotations

from typing import Any

import pytest

from .hostile import Hostile, make_hostile_project


@pytest.fixture
def hostile(db: Any, settings: Any, tmp_path: Any) -> Hostile:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return make_hostile_project()
