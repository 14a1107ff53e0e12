"""Pytest fixtures and helpers for testing code against the local face server.

Import the fixtures into a ``conftest.py``::

    from facekit.server.testing import face_server, face_server_http  # noqa: F401

Both yield a :class:`FaceServer` with a fresh face library in ``tmp_path``
and a random key pair:

``face_server``
    In-process only, no socket. ``transport`` is an
    :class:`httpx.ASGITransport` and ``base_url`` a placeholder host for it:
    ``httpx.AsyncClient(transport=s.transport, base_url=s.base_url)``.
    ASGITransport is async-only; for synchronous clients use
    ``face_server_http``.

``face_server_http``
    The same application also served by uvicorn on a free loopback port in
    a thread; ``base_url`` is its real ``http://127.0.0.1:PORT``, which any
    client works with, synchronous or not, the official SDK included.
    ``transport`` still reaches the same application in-process.

:func:`start_server_in_thread` runs any ASGI application that way. The
socket is bound and listening before the thread starts, so the URL works at
once: connections wait in the backlog until uvicorn accepts them, and nobody
needs to poll or sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from facekit.server._runner import (
    bind_socket,
    make_key_pair,
    redact_server_logs,
    url_of,
)
from facekit.server.app import create_app
from facekit.server.store import FaceStore

__all__ = [
    "FaceServer",
    "face_server",
    "face_server_http",
    "make_key_pair",
    "running_face_server",
    "start_server_in_thread",
    "token_params",
]

IN_PROCESS_URL: Final = "http://facekit.test"
_STOP_TIMEOUT: Final = 30.0


@dataclass(frozen=True)
class FaceServer:
    """A running local face server, as a test sees it."""

    app: Starlette
    store: FaceStore
    api_key: str
    secret_key: str
    base_url: str
    transport: httpx.ASGITransport


@contextmanager
def start_server_in_thread(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, **config: Any
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yield its base URL.

    ``config`` goes to :class:`uvicorn.Config`. On exit the server is asked
    to stop and the thread is joined.
    """
    options: dict[str, Any] = {"log_level": "warning", "ws": "none", "lifespan": "on"}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    redact_server_logs()
    with bind_socket(host, port) as sock:
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name="facekit-test-server",
            daemon=True,
        )
        thread.start()
        try:
            yield url_of(sock)
        finally:
            server.should_exit = True
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                raise RuntimeError("the test server did not stop in time")


@contextmanager
def running_face_server(
    db: str | Path,
    *,
    http: bool = False,
    key_pair: tuple[str, str] | None = None,
    **app_options: Any,
) -> Iterator[FaceServer]:
    """A face server on the library ``db``; ``app_options`` go to create_app."""
    api_key, secret_key = key_pair or make_key_pair()
    with FaceStore(db) as store:
        app = create_app(store=store, key_pairs={api_key: secret_key}, **app_options)
        transport = httpx.ASGITransport(app=app)
        if not http:
            yield FaceServer(app, store, api_key, secret_key, IN_PROCESS_URL, transport)
            return
        with start_server_in_thread(app) as base_url:
            yield FaceServer(app, store, api_key, secret_key, base_url, transport)


@pytest.fixture
def face_server(tmp_path: Path) -> Iterator[FaceServer]:
    """An in-process face server (async clients, through ``transport``)."""
    with running_face_server(tmp_path / "faces.db") as server:
        yield server


@pytest.fixture
def face_server_http(tmp_path: Path) -> Iterator[FaceServer]:
    """A face server on a loopback port (any client, through ``base_url``)."""
    with running_face_server(tmp_path / "faces.db", http=True) as server:
        yield server


def token_params(server: FaceServer) -> Mapping[str, str]:
    """The query of a token request with the server's key pair."""
    return {
        "grant_type": "client_credentials",
        "client_id": server.api_key,
        "client_secret": server.secret_key,
    }
