"""What the benchmark scripts share: the machine they ran on, tables, the
local server in a child process, and the memory of a process.

Every benchmark prints the same header (the machine, the Python and library
versions, the exact command) so that numbers pasted into an issue or the
README say where they came from.

Nothing here imports facekit at import time: the client benchmark measures
its own CPU and must not load the server (numpy, OpenCV) with it.
"""

from __future__ import annotations

import os
import platform
import selectors
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import metadata
from pathlib import Path

# The line the local server prints once it listens, followed by its URL.
READY = "facekit: serving on "


class BenchError(RuntimeError):
    """A call failed: the numbers would be wrong, so the benchmark stops."""


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


# -- the local server ----------------------------------------------------------


@cache
def operation_paths() -> Mapping[str, str]:
    """The spec's path of each operation by its id."""
    from facekit import _spec

    paths = {}
    for path, item in _spec.load()["paths"].items():
        for node in item.values():
            if isinstance(node, dict) and "operationId" in node:
                paths[node["operationId"]] = path
    return paths


def token_params(api_key: str, secret_key: str) -> dict[str, str]:
    """The query of a token request for this key pair."""
    return {
        "grant_type": "client_credentials",
        "client_id": api_key,
        "client_secret": secret_key,
    }


def server_command(host: str, db: Path, api_key: str, secret_key: str) -> list[str]:
    """The local server on a free port of ``host``, as ``facekit serve`` runs it."""
    return [
        sys.executable, "-m", "facekit.server", "--host", host, "--port", "0",
        "--db", str(db), "--api-key", api_key, "--secret-key", secret_key,
        "--log-level", "warning",
    ]  # fmt: skip


class Children:
    """Child processes, each stopped (SIGTERM, then SIGKILL) on the way out."""

    def __init__(self) -> None:
        self._processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: list[str], ready: str, timeout: float = 60
    ) -> tuple[str, int]:
        """Start ``command``; wait for its line that starts with ``ready``.

        Returns the rest of that line and the child's process id.
        """
        process = subprocess.Popen(command, stdout=subprocess.PIPE)
        self._processes.append(process)
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(deadline - time.monotonic()):
                    break
                line = process.stdout.readline().decode()
                if line.startswith(ready):
                    # Keep the pipe drained so the child never blocks on it.
                    threading.Thread(target=process.stdout.read, daemon=True).start()
                    return line[len(ready) :].strip(), process.pid
                if not line and process.poll() is not None:
                    break
        raise BenchError(f"{shlex.join(command)} did not get ready")

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of a process, in KiB, from ``/proc``."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields
