"""The hand-written code passes the project's own linters and type checker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_ruff_lint_is_clean() -> None:
    result = run("ruff", "check", "--no-cache", "facekit", "tests", "scripts")

    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(
        "ruff", "format", "--check", "--no-cache", "facekit", "tests", "scripts"
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_the_facade() -> None:
    result = run("mypy", "--strict", "facekit")

    assert result.returncode == 0, result.stdout + result.stderr
