"""``python -m facekit.server``: the local face server without the full CLI.

Takes the options of ``facekit serve`` (host, port, db, api key, secret key)
and ``--inject CODE=RATE`` for fault injection.
"""

from __future__ import annotations

import argparse

from facekit.server._runner import serve


def _fault(text: str) -> tuple[int, float]:
    code, separator, rate = text.partition("=")
    if not separator:
        raise argparse.ArgumentTypeError("expected CODE=RATE, for example 18=0.2")
    try:
        return int(code), float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not CODE=RATE: {text!r}") from None


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

    serve(
        args.host,
        args.port,
        args.db,
        args.api_key,
        args.secret_key,
        dict(args.inject) or None,
        inject_seed=args.inject_seed,
        workers=args.workers,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
