"""The local server's security, over real sockets where it matters.

* Logs: uvicorn's access log prints every request line with its query, which
  carries ``access_token`` (and ``client_id``, ``client_secret`` on the
  token endpoint). ``facekit serve`` printed them all at its default level;
  ``redact_server_logs`` now masks them, which the served process shows.
* Every secret the server checks over HTTP (the client secret at the token
  endpoint, the access token, a bce-auth-v1 signature) is compared with
  ``hmac.compare_digest``, and no error body echoes a credential.
* Oversize bodies: one that declares its length is answered before the
  client has sent more than a few kilobytes; a chunked one is cut off when
  it passes the limit, having cost the server at most one read past it.
* A decompression bomb sent over HTTP is refused from its header, quickly,
  without being decoded.
"""

from __future__ import annotations

import hmac
import json
import logging
import select
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from _children import SERVING, server_command, serving_child
from _faultkit import StubEngine, gated_server, png_bomb
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.logging import AccessFormatter

import facekit
from facekit import _spec
from facekit.server import create_app
from facekit.server._forms import operations
from facekit.server._runner import redact_server_logs
from facekit.server.store import FaceStore
from facekit.server.testing import (
    FaceServer,
    make_key_pair,
    start_server_in_thread,
    token_params,
)

PATHS = {operation_id: op.path for operation_id, op in operations().items()}
TOKEN_PATH = PATHS["getAccessToken"]
MAX_BODY = _spec.max_body_bytes()
FORM = "application/x-www-form-urlencoded"
DEADLINE = 60.0
PROMPTLY = 5.0


# -- logs ------------------------------------------------------------------------------


def test_the_served_access_log_names_requests_but_no_credentials(
    tmp_path: Path,
) -> None:
    api_key, secret_key = make_key_pair()
    wrong_secret = "wrong_" + secret_key
    options = ("--api-key", api_key, "--secret-key", secret_key, "--log-level", "debug")
    command = server_command(tmp_path / "f.db", *options)
    with serving_child(command, ready=SERVING) as server:
        with httpx.Client(base_url=server.url) as http:
            params = {"grant_type": "client_credentials", "client_id": api_key}
            token = http.get(TOKEN_PATH, params={**params, "client_secret": secret_key})
            access_token = token.json()["access_token"]
            refused = http.get(
                TOKEN_PATH, params={**params, "client_secret": wrong_secret}
            )
            listed = http.post(
                PATHS["getGroupList"], params={"access_token": access_token}
            )
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(DEADLINE)

    log = server.text()
    assert refused.status_code == 401
    assert listed.json()["result"] == []
    assert (
        f"GET {TOKEN_PATH}?grant_type=client_credentials&client_id=***"
        '&client_secret=*** HTTP/1.1" 200' in log
    )
    assert f'POST {PATHS["getGroupList"]}?access_token=*** HTTP/1.1" 200' in log
    for secret in (api_key, secret_key, wrong_secret, access_token):
        assert secret not in log


def test_the_access_log_filter_keeps_uvicorns_formatter_working() -> None:
    redact_server_logs()
    logger = logging.getLogger("uvicorn.access")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(
        AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s')
    )
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            f"{TOKEN_PATH}?client_id=k&client_secret=s&x=1",
            "1.1",
            200,
        ),
        None,
    )
    assert logger.filter(record)
    handler.handle(record)

    masked = f"{TOKEN_PATH}?client_id=***&client_secret=***&x=1"
    assert lines == [f'127.0.0.1:5000 "GET {masked} HTTP/1.1" 200 OK']


# -- constant-time comparisons and error bodies ----------------------------------------


async def test_every_secret_checked_over_http_is_compared_in_constant_time(
    face_server: FaceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers: list[str] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        callers.append(sys._getframe(1).f_globals["__name__"])
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    server = face_server
    path = PATHS["getGroupList"]
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as http:
        issued = await http.get(TOKEN_PATH, params=token_params(server))
        issuing = callers[:]
        callers.clear()
        wrong = {**token_params(server), "client_secret": server.secret_key[::-1]}
        denied = await http.get(TOKEN_PATH, params=wrong)
        denying = callers[:]
        callers.clear()
        token = issued.json()["access_token"]
        checked = await http.post(path, params={"access_token": token})
        checking = callers[:]
        callers.clear()

    async with facekit.AsyncFaceClient(
        server.api_key,
        server.secret_key,
        base_url=server.base_url,
        transport=server.transport,
        signing="always",
        plugins=[],
    ) as signer:
        await signer.get_group_list()
    signed = callers[:]
    callers.clear()
    async with facekit.AsyncFaceClient(
        server.api_key,
        "not the secret",
        base_url=server.base_url,
        transport=server.transport,
        signing="always",
        plugins=[],
    ) as forger:
        with pytest.raises(facekit.AuthenticationError) as forged:
            await forger.get_group_list()
    forging = callers[:]

    assert issued.status_code == 200
    assert denied.status_code == 401
    assert checked.json()["result"] == []
    assert forged.value.error_code == 14
    assert issuing == denying == checking == ["facekit.server.tokens"]
    assert signed and set(signed) == {"facekit._signing"}
    assert forging and set(forging) == {"facekit._signing"}


async def test_no_error_body_echoes_a_credential(face_server: FaceServer) -> None:
    server = face_server
    wrong_secret = "guess_" + server.secret_key
    forged_token = "24.0123456789abcdef0123456789abcdef.2592000.1.1-1"
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as http:
        bodies = [
            await http.get(
                TOKEN_PATH,
                params={**token_params(server), "client_secret": wrong_secret},
            ),
            await http.get(
                TOKEN_PATH, params={**token_params(server), "client_id": wrong_secret}
            ),
            await http.post(
                PATHS["getGroupList"], params={"access_token": forged_token}
            ),
        ]
    text = "".join(response.text for response in bodies)

    assert [response.status_code for response in bodies] == [401, 401, 200]
    assert bodies[2].json()["error_code"] == 110
    for secret in (server.api_key, server.secret_key, wrong_secret, forged_token):
        assert secret not in text


# -- bodies over the limit, over a real socket -----------------------------------------


class BodyMeter:
    """Counts the body bytes the application takes from the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.received = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


@contextmanager
def metered_server(tmp_path: Path) -> Iterator[tuple[str, str, BodyMeter]]:
    """The face server on a loopback port behind a :class:`BodyMeter`."""
    api_key, secret_key = make_key_pair()
    with FaceStore(tmp_path / "f.db") as store:
        app = create_app(
            store=store, engine=StubEngine(), key_pairs={api_key: secret_key}
        )
        meter = BodyMeter(app)
        with start_server_in_thread(meter) as url:
            params = {
                "grant_type": "client_credentials",
                "client_id": api_key,
                "client_secret": secret_key,
            }
            token = httpx.get(url + TOKEN_PATH, params=params).json()["access_token"]
            yield url, token, meter


def _connect(url: str) -> socket.socket:
    host, port = httpx.URL(url).host, httpx.URL(url).port
    assert port is not None
    return socket.create_connection((host, port), timeout=DEADLINE)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of one response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, json.loads(body[:length])


def _head(token: str, *extra: str) -> bytes:
    lines = [
        f"POST {PATHS['detect']}?access_token={token} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: {FORM}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def test_a_declared_oversize_body_is_answered_before_it_is_sent(
    tmp_path: Path,
) -> None:
    with metered_server(tmp_path) as (url, token, meter), _connect(url) as sock:
        started = time.perf_counter()
        sock.sendall(_head(token, f"Content-Length: {MAX_BODY + 1}"))
        sock.sendall(b"image=" + b"A" * 4096)
        status, body = _read_response(sock)
        elapsed = time.perf_counter() - started

    assert status == 200
    assert body["error_code"] == 216103
    assert elapsed < PROMPTLY
    assert meter.received == 0


def test_a_chunked_oversize_body_is_cut_off_at_the_limit(tmp_path: Path) -> None:
    piece = 1 << 20
    chunk = f"{piece:x}\r\n".encode() + b"A" * piece + b"\r\n"
    sent = 0
    with metered_server(tmp_path) as (url, token, meter), _connect(url) as sock:
        sock.sendall(_head(token, "Transfer-Encoding: chunked") + b"6\r\nimage=\r\n")
        sock.setblocking(False)
        pending = b""
        deadline = time.monotonic() + DEADLINE
        # Send until the answer comes: the server must answer before it has
        # been sent twice its limit, whatever the socket buffers hold.
        while sent < 2 * MAX_BODY and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1.0)
            if readable:
                break
            if writable:
                pending = pending or chunk
                try:
                    count = sock.send(pending)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    break  # the server closed the connection: read its answer
                sent += count
                pending = pending[count:]
        sock.setblocking(True)
        sock.settimeout(DEADLINE)
        status, body = _read_response(sock)
        received = meter.received

    assert status == 200
    assert body["error_code"] == 216103
    assert sent < 2 * MAX_BODY
    # The application took the limit and at most one more read, not the rest.
    assert MAX_BODY < received <= MAX_BODY + piece + 6


# -- decompression bombs ---------------------------------------------------------------


def test_a_decompression_bomb_over_http_is_refused_from_its_header(
    tmp_path: Path,
) -> None:
    bomb = png_bomb(100_000, 100_000)
    engine = StubEngine()
    with (
        gated_server(tmp_path / "f.db", engine=engine) as server,
        facekit.FaceClient(
            server.api_key, server.secret_key, base_url=server.base_url, plugins=[]
        ) as client,
    ):
        started = time.perf_counter()
        with pytest.raises(facekit.BadImageError) as detected:
            client.detect(bomb)
        with pytest.raises(facekit.BadImageError) as enrolled:
            client.add_user("u1", "info", "g1", bomb)
        elapsed = time.perf_counter() - started

    assert len(bomb) < 200
    assert detected.value.error_code == enrolled.value.error_code == 216202
    assert elapsed < PROMPTLY
    assert engine.decoded == 0
