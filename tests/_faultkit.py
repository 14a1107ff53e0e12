"""Pieces the fault and security suites share.

* :class:`StubEngine` - a face engine without models: every image holds one
  face whose embedding is derived from the image's bytes, so the library
  operations run in microseconds and the tests measure the server, not SFace.
* :func:`tiny_png` - a small, valid PNG that differs for every seed.
* :class:`Recorder` with :class:`CountingTransport` and
  :class:`AsyncCountingTransport` - wrap a client's transport and note every
  exchange: the path, the ``error_code`` answered, the tokens issued, the
  ``Authorization`` headers sent.
* :class:`FaultGate` - wraps the server's ASGI application and answers one
  error code to face operations while it is armed, optionally holding the
  first answers until a number of requests have arrived (a storm that every
  caller sees at once).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from starlette.types import ASGIApp, Receive, Scope, Send

from facekit import _spec
from facekit.server.app import create_app
from facekit.server.engine import Face, FaceEngine
from facekit.server.store import FaceStore
from facekit.server.testing import IN_PROCESS_URL, make_key_pair, start_server_in_thread

TOKEN_PATH = "/oauth/2.0/token"
FACE_PREFIX = "/rest/2.0/face/v2/"
HOLD_DEADLINE = 10.0


class StubEngine(FaceEngine):
    """One face per image; its embedding a function of the image's bytes.

    ``decoded`` counts the images it was asked to decode, so a test can
    prove that a refused image never reached the engine.
    """

    def __init__(self) -> None:  # no models to load, on purpose
        self.decoded = 0
        self._lock = threading.Lock()

    def decode(self, data: bytes) -> npt.NDArray[np.uint8]:
        with self._lock:
            self.decoded += 1
        digest = hashlib.sha256(data).digest()
        return np.frombuffer(digest * 3, dtype=np.uint8).reshape(1, 32, 3).copy()

    def detect(self, image: Any, max_faces: int = 1) -> list[Face]:
        points = ((0.0, 0.0),) * 5
        return [Face(0, 0, 1, 1, 0.99, points, 0, None, None, 0.0, (0.0,) * 15)]

    def embed(self, image: Any, face: Face) -> npt.NDArray[np.float32]:
        seed = int.from_bytes(np.asarray(image).tobytes()[:8], "big")
        vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
        normalised: npt.NDArray[np.float32] = vector / np.linalg.norm(vector)
        return normalised


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def tiny_png(seed: int, side: int = 4) -> bytes:
    """A valid ``side`` x ``side`` RGB PNG whose pixels spell ``seed``."""
    noise = hashlib.shake_256(str(seed).encode()).digest(side * side * 3)
    width = side * 3
    rows = b"".join(
        b"\x00" + noise[row * width : (row + 1) * width] for row in range(side)
    )
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and whose data is tiny."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


@dataclass(frozen=True)
class GatedServer:
    """The real face server behind a :class:`FaultGate`."""

    base_url: str
    api_key: str
    secret_key: str
    store: FaceStore
    gate: FaultGate
    transport: httpx.ASGITransport  # in-process, through the gate too


@contextmanager
def gated_server(
    db: str | Path,
    *,
    http: bool = True,
    uvicorn: Mapping[str, Any] | None = None,
    **app_options: Any,
) -> Iterator[GatedServer]:
    """A face server on ``db`` with a :class:`StubEngine`, behind a gate.

    ``app_options`` go to ``create_app``; with ``http`` it is also served
    by uvicorn on a loopback port (``uvicorn`` is more of its settings),
    and ``base_url`` is that port's URL.
    """
    app_options.setdefault("engine", StubEngine())
    api_key, secret_key = make_key_pair()
    with FaceStore(db) as store:
        app = create_app(store=store, key_pairs={api_key: secret_key}, **app_options)
        gate = FaultGate(app)
        transport = httpx.ASGITransport(app=gate)
        if not http:
            yield GatedServer(
                IN_PROCESS_URL, api_key, secret_key, store, gate, transport
            )
            return
        with start_server_in_thread(gate, **(uvicorn or {})) as base_url:
            yield GatedServer(base_url, api_key, secret_key, store, gate, transport)


def error_payload(code: int) -> bytes:
    """The spec's error body for ``code``, as the server would send it."""
    message = _spec.error_codes()[code].message
    return json.dumps({"error_code": code, "error_msg": message, "log_id": 1}).encode()


# -- watching a client's exchanges -------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One request a client sent and what became of it."""

    path: str
    access_token: str | None
    error_code: int | None = None
    failure: str | None = None  # the httpx exception's class, if it raised
    status: int | None = None
    body: bytes = b""


class Recorder:
    """Every exchange of the transports it is given, from any thread."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self.tokens: list[str] = []
        self.authorizations: list[str] = []
        self._lock = threading.Lock()

    @property
    def token_fetches(self) -> int:
        with self._lock:
            return sum(1 for e in self.exchanges if e.path == TOKEN_PATH)

    @property
    def face_requests(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.path.startswith(FACE_PREFIX)]

    def codes(self) -> list[int | None]:
        """The error codes of the face requests, ``None`` for a success."""
        return [e.error_code for e in self.face_requests]

    def note(self, request: httpx.Request, response: httpx.Response) -> None:
        code: int | None = None
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if isinstance(body, dict):
            if request.url.path == TOKEN_PATH and "access_token" in body:
                with self._lock:
                    self.tokens.append(str(body["access_token"]))
            raw = body.get("error_code")
            code = raw if isinstance(raw, int) else None
        exchange = Exchange(
            request.url.path,
            _token_of(request),
            code,
            status=response.status_code,
            body=response.content,
        )
        self._add(request, exchange)

    def failed(self, request: httpx.Request, exc: Exception) -> None:
        exchange = Exchange(
            request.url.path, _token_of(request), None, type(exc).__name__
        )
        self._add(request, exchange)

    def _add(self, request: httpx.Request, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)
            if "authorization" in request.headers:
                self.authorizations.append(request.headers["authorization"])


def _token_of(request: httpx.Request) -> str | None:
    token = request.url.params.get("access_token")
    return None if token is None else str(token)


class CountingTransport(httpx.BaseTransport):
    def __init__(self, recorder: Recorder, inner: httpx.BaseTransport | None = None):
        self.recorder = recorder
        self.inner = inner if inner is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.inner.handle_request(request)
            response.read()
        except Exception as exc:
            self.recorder.failed(request, exc)
            raise
        self.recorder.note(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncCountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, recorder: Recorder, inner: httpx.AsyncBaseTransport) -> None:
        self.recorder = recorder
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except Exception as exc:
            self.recorder.failed(request, exc)
            raise
        self.recorder.note(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# -- faults in front of the real server ----------------------------------------------


class FaultGate:
    """Answers an error code to face operations while armed; passes the rest on.

    ``arm(code, remaining)`` fakes that many answers (``None``: every one
    until :meth:`disarm`). With ``hold`` set, the first ``hold`` faked
    answers wait until that many requests have arrived, so that every caller
    of a storm is refused before any of them hears back. The body is read
    first, as the server would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.code = 0
        self.armed = False
        self.remaining: int | None = None
        self.hold = 0
        self.answered = 0
        self._arrived = 0
        self._everyone: asyncio.Event | None = None
        self._lock = threading.Lock()

    def arm(self, code: int, remaining: int | None = None, *, hold: int = 0) -> None:
        with self._lock:
            self.code, self.armed = code, True
            self.remaining, self.hold = remaining, hold
            self._arrived, self._everyone = 0, None

    def disarm(self) -> None:
        with self._lock:
            self.armed = False

    def _take(self) -> bool:
        with self._lock:
            if not self.armed or self.remaining == 0:
                return False
            if self.remaining is not None:
                self.remaining -= 1
            self.answered += 1
            return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(FACE_PREFIX)
            or not self._take()
        ):
            await self.app(scope, receive, send)
            return

        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await self._wait_for_everyone()

        payload = error_payload(self.code)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _wait_for_everyone(self) -> None:
        # One event loop serves the gate, so no lock is needed around these.
        if self._arrived >= self.hold:
            return
        if self._everyone is None:
            self._everyone = asyncio.Event()
        self._arrived += 1
        if self._arrived >= self.hold:
            self._everyone.set()
        await asyncio.wait_for(self._everyone.wait(), HOLD_DEADLINE)
