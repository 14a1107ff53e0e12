"""Public-domain sample photographs for the demo and for trying facekit.

See ``PROVENANCE.md`` beside this file for where each comes from.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NAMES", "path"]

_HERE = Path(__file__).resolve().parent

NAMES = (
    "biden-1",
    "collins-1",
    "einstein-1",
    "obama-1",
    "obama-2",
    "obama-3",
)


def path(name: str) -> Path:
    """The file of the sample photograph ``name`` (for example ``"obama-1"``)."""
    if name not in NAMES:
        raise KeyError(f"no sample photograph {name!r}; choose one of {NAMES}")
    return _HERE / f"{name}.jpg"
