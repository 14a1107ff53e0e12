"""``python -m facekit.server``: the local face server without the full CLI.

Takes the options of ``facekit serve`` (host, port, db, api key, secret key)
and ``--inject CODE:RATE`` (or ``CODE=RATE``) for fault injection, with the
rules of ``facekit serve``.
"""

from __future__ import annotations

import argparse

from facekit import _injection
from facekit.server._runner import serve


def _fault(text: str) -> tuple[int, float]:
    try:
        return _injection.parse_rate(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m facekit.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="facekit.db")
    parser.add_argument("--api-key")
    parser.add_argument("--secret-key")
    parser.add_argument("--inject", type=_fault, action="append", default=[])
    parser.add_argument("--inject-seed", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if (args.api_key is None) != (args.secret_key is None):
        parser.error("give both --api-key and --secret-key, or neither")
    try:
        rates = _injection.check_rates(dict(args.inject))
    except ValueError as error:
        parser.error(f"argument --inject: {error}")

    serve(
        args.host,
        args.port,
        args.db,
        args.api_key,
        args.secret_key,
        rates or None,
        inject_seed=args.inject_seed,
        workers=args.workers,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
