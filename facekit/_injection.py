"""Fault injection rates, as ``--inject CODE:RATE`` gives them to the server.

One set of rules for every way in (``facekit serve``, ``python -m
facekit.server`` and ``create_app(inject=...)``): codes are numeric error codes
of the spec, each rate lies between 0 and 1, and the rates add up to at most 1,
since one draw per call decides which error, if any, answers it. Kept apart
from the server so that the command line can check its options without
loading the face models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from facekit import _spec


def parse_rate(text: str) -> tuple[int, float]:
    """``"18:0.2"`` (or ``"18=0.2"``) as ``(18, 0.2)``; ``ValueError`` if bad."""
    separator = ":" if ":" in text else "="
    code_text, found, rate_text = text.partition(separator)
    try:
        if not found:
            raise ValueError
        code, rate = int(code_text), float(rate_text)
    except ValueError:
        raise ValueError(f"{text!r} is not CODE:RATE (for example 18:0.2)") from None
    return check_rates({code: rate}).popitem()


def check_rates(rates: Mapping[int, float]) -> dict[int, float]:
    """A copy of ``rates`` once every rule holds; ``ValueError`` naming the first
    that does not."""
    known = _spec.error_codes()
    for code, rate in rates.items():
        if isinstance(code, bool) or code not in known:
            raise ValueError(f"{code!r} is not an error code of the spec")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the rate of {code} must be between 0 and 1")
    if sum(rates.values()) > 1.0:
        raise ValueError("the injection rates add up to more than 1")
    return dict(rates)


def parse_injections(values: Iterable[str]) -> dict[int, float]:
    """``["18:0.2", "216300=0.01"]`` as ``{18: 0.2, 216300: 0.01}``."""
    return check_rates(dict(parse_rate(text) for text in values))
