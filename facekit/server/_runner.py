"""Running the local face server with uvicorn (``facekit serve``).

:func:`serve` is what the command line calls. It opens the face library,
loads the models up front (a missing model should stop the start, not fail
the first request), binds the socket itself so that ``port=0`` picks a free
port and the line it prints names the real one, and runs uvicorn until
SIGINT or SIGTERM. The library is closed at the end of the application's
lifespan, after uvicorn has let running requests finish.

uvicorn's access log prints each request line with its query string, and the
query is where ``access_token`` travels, and ``client_id`` and
``client_secret`` on the token endpoint: :func:`redact_server_logs` masks
them in every record of uvicorn's request loggers before any handler sees it.
"""

from __future__ import annotations

import logging
import secrets
import socket
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TextIO

import uvicorn

from facekit._hooks import redact
from facekit.server.app import create_app
from facekit.server.engine import get_engine
from facekit.server.store import FaceStore

__all__ = ["bind_socket", "make_key_pair", "redact_server_logs", "serve", "url_of"]

logger = logging.getLogger(__name__)

# At most 32 face requests are admitted at once (app.py's max_pending);
# uvicorn answers 503 past this many connections, leaving room for token
# requests and idle keep-alive connections.
_LIMIT_CONCURRENCY: Final = 64
_READY_PREFIX: Final = "facekit: serving on "
# The access log (INFO) and the ASGI message log (TRACE, which prints scopes).
_REQUEST_LOGGERS: Final = ("uvicorn.access", "uvicorn.asgi")
_filter_lock = threading.Lock()


class _RedactCredentials(logging.Filter):
    """Mask credentials in the arguments of uvicorn's request log records.

    The arguments stay a tuple of the same length, because uvicorn's access
    formatter unpacks them; numbers are left alone for ``%d``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(arg) for arg in record.args)
        return True


def _redact_argument(argument: object) -> object:
    if argument is None or isinstance(argument, int | float):
        return argument
    text = argument if isinstance(argument, str) else str(argument)
    masked = redact(text)
    return masked if isinstance(argument, str) or masked != text else argument


def redact_server_logs() -> None:
    """Keep tokens and client secrets out of uvicorn's request logs (idempotent)."""
    with _filter_lock:
        for name in _REQUEST_LOGGERS:
            request_logger = logging.getLogger(name)
            filters = request_logger.filters
            if not any(isinstance(f, _RedactCredentials) for f in filters):
                request_logger.addFilter(_RedactCredentials())


def make_key_pair() -> tuple[str, str]:
    """A random API key and secret key, shaped like the cloud's."""
    return secrets.token_hex(12), secrets.token_urlsafe(24)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; connections queue in its backlog at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on
    # accepted sockets whose protocol says TCP. Without it uvicorn's two
    # writes of a response (head, then body) meet Nagle's algorithm and the
    # client's delayed ACK, and every request waited some 40 ms on loopback.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def url_for(host: str, port: int) -> str:
    """The base URL of a server on ``host`` and ``port`` (IPv6 in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return url_for(host, port)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | Path = "facekit.db",
    api_key: str | None = None,
    secret_key: str | None = None,
    inject: Mapping[int, float] | None = None,
    *,
    inject_seed: int | None = None,
    workers: int | None = None,
    log_level: str = "info",
    out: TextIO | None = None,
) -> None:
    """Serve the face API on ``host:port`` with the library in ``db``.

    Without a key pair a development pair is made and printed. ``inject``
    answers that share of face calls with that error code, for trying a
    client's retries (``{18: 0.2}``). Blocks until the server is stopped.
    """
    out = out or sys.stdout
    if (api_key is None) != (secret_key is None):
        raise ValueError("give both the API key and the secret key, or neither")
    if api_key is None or secret_key is None:
        api_key, secret_key = make_key_pair()
        print("no key pair given; this run accepts a development pair:", file=out)
        print(f"  API key:    {api_key}", file=out)
        print(f"  Secret key: {secret_key}", file=out)

    get_engine()
    store = FaceStore(db)
    try:
        app = create_app(
            store=store,
            key_pairs={api_key: secret_key},
            inject=inject,
            inject_seed=inject_seed,
            workers=workers,
            # uvicorn re-raises SIGTERM/SIGINT once it has shut down, which
            # ends the process before a `finally` here could run: the store
            # is closed at the end of the lifespan instead.
            on_shutdown=store.close,
        )
        config = uvicorn.Config(
            app,
            log_level=log_level,
            limit_concurrency=_LIMIT_CONCURRENCY,
            lifespan="on",
            ws="none",
            server_header=False,
        )
        redact_server_logs()
        server = uvicorn.Server(config)
        with bind_socket(host, port) as sock:
            print(f"{_READY_PREFIX}{url_of(sock)}", file=out, flush=True)
            server.run(sockets=[sock])
    finally:
        store.close()
