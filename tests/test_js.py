"""The workspace's pure ES modules (offsets, tokens, state, sync, keymap), tested with Node's
built-in runner, so ``make test`` runs them with everything else. Node 18 or newer, no npm
packages. Without Node the test skips, unless E2E_REQUIRED is set (CI), then it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = os.environ.get("NODE") or shutil.which("node")


def test_the_workspace_modules_pass_their_node_tests() -> None:
    if NODE is None:
        message = "node not found (install Node.js 18+ to run tests/js)"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(  # a fixed command over files of this repository
        [NODE, "--test", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert any(line.startswith("# pass ") and line != "# pass 0" for line in summary), summary
