"""Domain errors of the local face server.

Storage, engine and token checks raise :class:`ApiError` with a code from the
spec's error table (``x-error-codes`` in ``spec/face-v2.yaml``), usually made
by :func:`api_error` so that the message is the table's; the HTTP layer turns
every one of them into the spec's error body in a single handler.
"""

from __future__ import annotations

from facekit import _spec

__all__ = ["ApiError", "api_error"]


class ApiError(Exception):
    """A failure the API reports as ``{"error_code": ..., "error_msg": ...}``."""

    def __init__(self, error_code: int, error_msg: str) -> None:
        super().__init__(f"{error_code}: {error_msg}")
        self.error_code = error_code
        self.error_msg = error_msg


def api_error(code: int, detail: str | None = None) -> ApiError:
    """An ApiError with the spec's message for ``code``, and a detail if any."""
    message = _spec.error_codes()[code].message
    return ApiError(code, message if detail is None else f"{message}: {detail}")
