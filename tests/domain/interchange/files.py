"""The interchange fixture files and how the tools pack them, shared by the domain, API, page
and command tests (plain module, so the web-layer tests can import it too)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"
AAEC_DIR = DATA / "aaec"
DOCCANO_DIR = DATA / "doccano"
LABELSTUDIO_DIR = DATA / "labelstudio"
LS_JSON = LABELSTUDIO_DIR / "project-3-at-2024-05-02-10-15-export.json"
LS_MIN = LABELSTUDIO_DIR / "project-3-at-2024-05-02-10-15-export-min.json"

#: The scheme of the AAEC study, as its annotation.conf declares it (Stance For/Against).
AAEC_SCHEME: dict[str, object] = {
    "name": "Argument Annotated Essays",
    "span_labels": [{"name": "MajorClaim"}, {"name": "Claim"}, {"name": "Premise"}],
    "relation_types": [
        {"name": "supports", "from_labels": ["Premise", "Claim"]},
        {"name": "attacks", "from_labels": ["Premise", "Claim"]},
    ],
    "span_attributes": [
        {"name": "stance", "kind": "choice", "values": ["for", "against"]},
        {"name": "source", "kind": "entity"},
    ],
}


def zipped(entries: Mapping[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def folder_zip(root: Path, pattern: str = "**/*") -> bytes:
    """Zip a folder the way ``shutil.make_archive(dir, "zip", dir)`` does: paths relative to
    it (how brat projects and doccano's export are packed)."""
    return zipped(
        {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.glob(pattern))
            if path.is_file() and path.name != "README.md"
        }
    )
