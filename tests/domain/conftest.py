"""Fixtures for the pure domain tests: no database, no Django, only files in the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from projects.domain.scheme import SchemeSpec, parse_scheme

DEMO_DIR = Path(__file__).resolve().parents[2] / "projects" / "demo_data"


@pytest.fixture
def demo_dir() -> Path:
    return DEMO_DIR


@pytest.fixture
def demo_scheme_data() -> dict[str, object]:
    data: dict[str, object] = json.loads((DEMO_DIR / "scheme.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def demo_scheme(demo_scheme_data: dict[str, object]) -> SchemeSpec:
    return parse_scheme(demo_scheme_data)
