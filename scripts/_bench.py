"""What the benchmark scripts share: the machine they ran on, and tables.

Every benchmark prints the same header (the machine, the Python and library
versions, the exact command) so that numbers pasted into an issue or the
README say where they came from.
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    """The processor's name as ``/proc/cpuinfo`` gives it."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("model name", "Processor", "cpu model"):
            return value.strip()
    return platform.processor() or "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def header(title: str, *, libraries: Sequence[str] = ()) -> list[str]:
    """The lines that open every benchmark's output."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    lines = [
        title,
        f"machine : {platform.platform()}",
        f"cpu     : {cpu_model()}; {os.cpu_count()} cores ({usable} usable)",
        f"python  : {platform.python_implementation()} {platform.python_version()}",
        "command : " + shlex.join([Path(sys.executable).name, *sys.argv]),
    ]
    if libraries:
        lines.append(
            "versions: " + ", ".join(f"{name} {_version(name)}" for name in libraries)
        )
    return lines


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """A plain-text table; ``columns`` are (title, "<" or ">") pairs."""
    rows = [list(row) for row in rows]
    widths = [
        max([len(title), *(len(row[i]) for row in rows)])
        for i, (title, _) in enumerate(columns)
    ]
    lines = []
    for cells in ([title for title, _ in columns], *rows):
        lines.append(
            "  ".join(
                f"{cell:{align}{width}}"
                for cell, (_, align), width in zip(cells, columns, widths, strict=True)
            ).rstrip()
        )
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
