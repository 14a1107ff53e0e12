"""Servers in child processes, started as users start them.

:func:`serving_child` runs a command that announces its URL in one line
(``facekit: serving on URL``, or ``serving URL``), gathers all it prints,
stdout and stderr together, and waits for that line: the server binds its
socket before printing it, so nothing sleeps. On the way out the child gets
SIGTERM if it is still running, then SIGKILL if it lingers.
:func:`server_command` is ``python -m facekit.server`` on a free port.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 120.0
# What ``facekit serve`` and ``python -m facekit.server`` print once they listen.
SERVING = "facekit: serving on "


@dataclass(frozen=True)
class Child:
    process: subprocess.Popen[str]
    url: str
    # Every line printed so far; whole once the child has exited.
    output: list[str]

    def text(self) -> str:
        return "".join(self.output)


def server_command(db: Path, *options: str) -> list[str]:
    """``python -m facekit.server`` on library ``db`` and any free port."""
    return [
        sys.executable,
        "-m",
        "facekit.server",
        "--port",
        "0",
        "--db",
        str(db),
        *options,
    ]


@contextmanager
def serving_child(command: Sequence[str], *, ready: str) -> Iterator[Child]:
    """Run ``command`` until the line starting with ``ready``; yield the child
    with the URL that line ends with."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    lines: queue.Queue[str | None] = queue.Queue()

    def pump(stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            output.append(line)
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, args=(process.stdout,), daemon=True)
    reader.start()
    try:
        yield Child(process, _wait_for_url(lines, ready, output), output)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(DEADLINE)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(DEADLINE)
            reader.join(DEADLINE)
            assert process.stdout is not None
            process.stdout.close()


def _wait_for_url(lines: queue.Queue[str | None], ready: str, output: list[str]) -> str:
    while True:
        try:
            line = lines.get(timeout=DEADLINE)
        except queue.Empty:
            pytest.fail("the server did not start in time:\n" + "".join(output))
        if line is None:
            pytest.fail("the server exited before serving:\n" + "".join(output))
        if line.startswith(ready):
            return line.split()[-1]
