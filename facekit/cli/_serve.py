"""``facekit serve``: the local face server, optionally with injected faults.

The server (and uvicorn behind it) is imported only when it is started.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from facekit import _injection
from facekit._client import ENV_API_KEY, ENV_BASE_URL, ENV_SECRET_KEY
from facekit.cli import _fail


def parse_injections(values: Sequence[str]) -> dict[int, float]:
    """``["18:0.2", "216300=0.01"]`` as ``{18: 0.2, 216300: 0.01}``, or a usage
    error naming the option (the rules are :mod:`facekit._injection`'s)."""
    try:
        return _injection.parse_injections(values)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="'--inject'") from None


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = 8000,
    db: Annotated[
        Path,
        typer.Option("--db", dir_okay=False, help="The face library's SQLite file."),
    ] = Path("facekit.db"),
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="The API key the server accepts.")
    ] = None,
    secret_key: Annotated[
        str | None, typer.Option("--secret-key", help="Its secret key.")
    ] = None,
    inject: Annotated[
        list[str] | None,
        typer.Option(
            "--inject",
            metavar="CODE:RATE",
            help="Answer that share of calls with that error code, e.g. 18:0.2 "
            "(repeatable).",
        ),
    ] = None,
    inject_seed: Annotated[
        int | None, typer.Option("--inject-seed", help="Seed of the injected faults.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Threads for model work (cores, ≤4)."),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn's log level.")
    ] = "info",
) -> None:
    """Run the local face server: the same API, offline, with real models.

    Without --api-key/--secret-key it makes a development key pair and
    prints it, ready to export for the other commands.
    """
    rates = parse_injections(inject or [])
    if (api_key is None) != (secret_key is None):
        raise typer.BadParameter("give both --api-key and --secret-key, or neither")

    from facekit.server import _runner
    from facekit.server.engine import EngineUnavailable
    from facekit.server.errors import ApiError

    if api_key is None or secret_key is None:
        api_key, secret_key = _runner.make_key_pair()
        url = _runner.url_for(host, port) if port else "<the URL printed below>"
        print("no key pair given; this run accepts a development pair:")
        print(f"  export {ENV_BASE_URL}={url}")
        print(f"  export {ENV_API_KEY}={api_key}")
        print(f"  export {ENV_SECRET_KEY}={secret_key}", flush=True)

    try:
        _runner.serve(
            host,
            port,
            db,
            api_key,
            secret_key,
            rates or None,
            inject_seed=inject_seed,
            workers=workers,
            log_level=log_level,
        )
    except OSError as error:
        _fail(f"cannot serve on {host}:{port} with {db}: {error}")
    except EngineUnavailable as error:
        _fail(f"the face models cannot be loaded: {error}")
    except ApiError as error:
        _fail(f"the face library {db} cannot be used: {error}")
