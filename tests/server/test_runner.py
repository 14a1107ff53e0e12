"""``serve`` as ``facekit serve`` and ``python -m facekit.server`` run it."""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
from pathlib import Path

import httpx
import pytest
from _children import SERVING, server_command, serving_child

from facekit.server.__main__ import _fault
from facekit.server.__main__ import main as server_main
from facekit.server._forms import operations
from facekit.server._runner import bind_socket, make_key_pair, url_of

START_DEADLINE = 120.0


def _printed(text: str, label: str) -> str:
    found = re.search(rf"^ *{label}: *(\S+)$", text, re.MULTILINE)
    assert found is not None, f"no {label} in:\n{text}"
    return found.group(1)


def test_without_keys_a_development_pair_is_printed_and_works(tmp_path: Path) -> None:
    command = server_command(
        tmp_path / "dev.db", "--inject", "18=1.0", "--log-level", "warning"
    )
    with serving_child(command, ready=SERVING) as server:
        printed = server.text()
        assert "development pair" in printed
        api_key = _printed(printed, "API key")
        secret_key = _printed(printed, "Secret key")

        token = httpx.get(
            server.url + operations()["getAccessToken"].path,
            params={
                "grant_type": "client_credentials",
                "client_id": api_key,
                "client_secret": secret_key,
            },
        ).json()
        injected = httpx.post(
            server.url + operations()["getGroupList"].path,
            params={"access_token": token["access_token"]},
        ).json()

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
