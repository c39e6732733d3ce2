"""``manage.py export_project``: the same build as a worker's, in this process; the file and
its manifest beside it; progress lines off a terminal; clear errors."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from projects.models import Export

from ..conftest import World, client_for
from .conftest import api, build_now


def export_cli(world: World, out: Path, *extra: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command(
        "export_project",
        "--project",
        world.project.slug,
        "--out",
        str(out),
        *extra,
        stdout=stdout,
        stderr=stderr,
    )
    return stdout.getvalue(), stderr.getvalue()


def test_the_cli_writes_the_file_and_its_manifest(annotated: World, tmp_path: Path) -> None:
    out = tmp_path / "alpha.jsonl"
    stdout, stderr = export_cli(
        annotated,
        out,
        "--format",
        "jsonl",
        "--annotations",
        "merged",
        "--split",
        "train=0.5,test=0.5",
        "--seed",
        "4",
        "--no-stances",
    )
    data = out.read_bytes()
    manifest = json.loads((tmp_path / "alpha.jsonl.manifest.json").read_text())
    digest = hashlib.sha256(data).hexdigest()
    assert [f["sha256"] for f in manifest["files"].values()] == [digest]
    assert manifest["options"]["annotations"] == "merged"
    assert manifest["options"]["splits"] == [["train", 0.5], ["test", 0.5]]
    assert manifest["options"]["stances"] is False
    assert f"sha256 {digest}" in stdout and "2 documents" in stdout
    assert "3/3 documents read (100%)" in stderr  # plain lines: not a terminal
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert {a["annotator"] for d in lines for a in d["annotations"]} == {"merged"}
    assert all("stances" not in a for d in lines for a in d["annotations"])
    # recorded like any export, and the same bytes as the worker's build of the same options
    recorded = Export.objects.get()
    assert recorded.status == "done" and recorded.sha256 == digest
    assert recorded.requested_by is None and recorded.claimed_by.startswith("cli@")
    created = client_for(annotated.lead).post(api(annotated), recorded.options, format="json")
    assert build_now(created.json()["id"]).sha256 == digest


def test_the_cli_writes_zip_formats_too(annotated: World, tmp_path: Path) -> None:
    out = tmp_path / "alpha-brat.zip"
    export_cli(annotated, out, "--format", "brat", "--annotations", "gold")
    import zipfile

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    assert "manifest.json" in names and any(n.startswith("gold/") for n in names)
    assert (tmp_path / "alpha-brat.zip.manifest.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--format", "jsonl", "--split", "train0.8"), "is not NAME=RATIO"),
        (("--format", "jsonl", "--split", "train=x"), "is not a number"),
        (("--format", "jsonl", "--split", "train=0.8,exam=0.2"), "'exam' is not a split name"),
        (("--format", "jsonl", "--split", "train=0.8"), "add up to 1"),
    ],
)
def test_bad_options_are_clear_command_errors(
    world: World, tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        export_cli(world, tmp_path / "x.jsonl", *extra)
    assert not (tmp_path / "x.jsonl").exists()
    assert not Export.objects.exists()


def test_an_unknown_project_or_a_missing_folder_is_named(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No project with the slug 'nope'"):
        call_command(
            "export_project", "--project", "nope", "--format", "csv", "--out", str(tmp_path / "x")
        )
    with pytest.raises(CommandError, match="does not exist"):
        export_cli(world, tmp_path / "missing" / "x.csv", "--format", "csv")
    with pytest.raises(CommandError, match="is a folder"):
        export_cli(world, tmp_path, "--format", "csv")


def test_a_failed_build_is_a_command_error_with_the_reason(
    world: World, tmp_path: Path, monkeypatch: Any
) -> None:
    from projects.services import exports

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValueError("the writer broke")

    monkeypatch.setattr(exports, "write_export", broken)
    with pytest.raises(CommandError, match="failed: The export failed: ValueError: the writer"):
        export_cli(world, tmp_path / "x.csv", "--format", "csv")
    assert not (tmp_path / "x.csv").exists()


def test_on_a_terminal_the_progress_is_a_bar_redrawn_in_place() -> None:
    from django.core.management.base import OutputWrapper

    from projects.management.commands.export_project import Progress

    stream = StringIO()
    bar = Progress(OutputWrapper(stream), tty=True)
    for done in range(1, 5):
        bar(done, 4)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r[") and "100.0%  4/4 documents" in text and text.endswith("\n")
