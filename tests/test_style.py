"""The code keeps one style: ruff's formatter and its checks at the line length set in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FOLDERS = ("src", "tests", "benchmarks")


def ruff(repo_root, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe is None:
        pytest.fail("ruff not installed: pip install -e '.[test]'")
    return subprocess.run([exe, *args, *FOLDERS], cwd=repo_root, capture_output=True, text=True)


def test_code_is_formatted(repo_root):
    done = ruff(repo_root, "format", "--check")
    assert done.returncode == 0, f"run `ruff format {' '.join(FOLDERS)}`:\n{done.stdout}{done.stderr}"


def test_code_passes_the_checks(repo_root):
    done = ruff(repo_root, "check")
    assert done.returncode == 0, done.stdout + done.stderr
