"""Shared pieces for the interchange import tests: the fixture files, zips made the way each
tool packs them, and the schemes they are imported into. No database, no Django."""

from __future__ import annotations

import json
from typing import Any

import pytest

from projects.domain.importers import (
    DEFAULT_LIMITS,
    DocumentIn,
    ImportLimits,
    ImportOptions,
    parse_upload,
)
from projects.domain.problems import ImportFailed, Problem
from projects.domain.scheme import SchemeSpec, parse_scheme

from .files import (
    AAEC_DIR,
    AAEC_SCHEME,
    DOCCANO_DIR,
    LABELSTUDIO_DIR,
    LS_JSON,
    LS_MIN,
    folder_zip,
    zipped,
)

__all__ = [
    "AAEC_DIR",
    "DOCCANO_DIR",
    "LABELSTUDIO_DIR",
    "LS_JSON",
    "LS_MIN",
    "as_json",
    "failure",
    "folder_zip",
    "ls_tasks",
    "parse",
    "zipped",
]


def parse(
    filename: str,
    data: bytes,
    *,
    scheme: SchemeSpec | None = None,
    notes: list[Problem] | None = None,
    limits: ImportLimits = DEFAULT_LIMITS,
    **options: Any,
) -> list[DocumentIn]:
    return parse_upload(
        filename, data, scheme=scheme, limits=limits, options=ImportOptions(**options), notes=notes
    )


def failure(filename: str, data: bytes, **kwargs: Any) -> list[Problem]:
    with pytest.raises(ImportFailed) as info:
        parse(filename, data, **kwargs)
    return list(info.value.problems)


@pytest.fixture
def aaec_scheme() -> SchemeSpec:
    return parse_scheme(AAEC_SCHEME)


@pytest.fixture
def scheme(demo_scheme_data: dict[str, object]) -> SchemeSpec:
    """The demo scheme (Claim / Justification / Critique; source, stance), which the doccano and
    Label Studio fixtures were labelled with."""
    return parse_scheme(demo_scheme_data)


def ls_tasks() -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = json.loads(LS_JSON.read_text(encoding="utf-8"))
    return tasks


def as_json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
