"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The real photographs: ``shared/faces`` beside the repository root.

    CI clones the repository next to ``shared/``, as on the development machine.
    """
    return Path(__file__).resolve().parents[1].parent / "shared" / "faces"
