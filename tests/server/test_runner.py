"""``serve`` as ``facekit serve`` and ``python -m facekit.server`` run it."""

from __future__ import annotations

import argparse
import asyncio
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest

from facekit.server.__main__ import _fault
from facekit.server.__main__ import main as server_main
from facekit.server._forms import operations
from facekit.server._runner import bind_socket, make_key_pair, url_of

START_DEADLINE = 120.0


def _lines(stream: IO[str] | None, sink: queue.Queue[str | None]) -> None:
    assert stream is not None
    for line in stream:
        sink.put(line)
    sink.put(None)


def _next_line(lines: queue.Queue[str | None]) -> str:
    line = lines.get(timeout=START_DEADLINE)
    assert line is not None, "the server exited"
    return line.strip()


def test_without_keys_a_development_pair_is_printed_and_works(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "facekit.server",
        "--port",
        "0",
        "--db",
        str(tmp_path / "dev.db"),
        "--inject",
        "18=1.0",
        "--log-level",
        "warning",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_lines, args=(process.stdout, lines))
        reader.start()
        try:
            assert "development pair" in _next_line(lines)
            api_key = _next_line(lines).split(":", 1)[1].strip()
            secret_key = _next_line(lines).split(":", 1)[1].strip()
            base_url = _next_line(lines).removeprefix("facekit: serving on ")

            token = httpx.get(
                base_url + operations()["getAccessToken"].path,
                params={
                    "grant_type": "client_credentials",
                    "client_id": api_key,
                    "client_secret": secret_key,
                },
            ).json()
            injected = httpx.post(
                base_url + operations()["getGroupList"].path,
                params={"access_token": token["access_token"]},
            ).json()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            reader.join(60)

    assert injected["error_code"] == 18


def test_fault_options_parse() -> None:
    assert _fault("18=0.25") == (18, 0.25)
    assert _fault("18:0.25") == (18, 0.25)
    for text in ("18", "x=1", "18=y", "999999:0.1", "18:1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            _fault(text)


def test_fault_rates_adding_up_past_one_stop_the_module(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        server_main(["--inject", "18:0.6", "--inject", "4:0.6"])

    assert stopped.value.code == 2
    assert "more than 1" in capsys.readouterr().err


def test_key_pairs_are_random() -> None:
    first, second = make_key_pair(), make_key_pair()
    assert first != second
    assert all(first)


def test_a_bound_socket_names_its_url() -> None:
    with bind_socket("127.0.0.1", 0) as sock:
        url = url_of(sock)
    assert url.startswith("http://127.0.0.1:")
    assert int(url.rsplit(":", 1)[1]) > 0


async def test_connections_to_a_bound_socket_turn_nagle_off() -> None:
    # uvicorn serves the socket through loop.create_server, and asyncio sets
    # TCP_NODELAY only on accepted sockets whose protocol says TCP. With
    # Nagle on, a response written as head then body waited for the
    # client's delayed ACK: some 40 ms per request on loopback.
    loop = asyncio.get_running_loop()
    nodelay: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            option = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
            nodelay.set_result(option)
            transport.close()

    sock = bind_socket("127.0.0.1", 0)
    assert sock.proto == socket.IPPROTO_TCP
    server = await loop.create_server(Probe, sock=sock)
    try:
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        assert await asyncio.wait_for(nodelay, START_DEADLINE) == 1
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
