"""Every failure facekit reports, as one exception tree.

::

    FaceKitError
    ├── ConfigurationError (also ValueError) no key pair or base URL to build a client
    ├── ValidationError (also ValueError)   refused before any I/O: SDK100-107, SDK109
    ├── TransportError                      no usable answer came back
    │   ├── RequestTimeoutError             SDK108: connect or read timed out
    │   └── ResponseFormatError             the body was not the JSON the spec promises
    └── APIError                            the service answered with an error body
        ├── AuthenticationError             13, 14, 100, 110, 111, token endpoint errors
        ├── PermissionDeniedError           6, 15, 216110
        ├── RateLimitError                  4, 18 (retryable)
        │   └── QuotaExceededError          17, 19 (never retried)
        ├── InvalidRequestError             3, 216100-216103, 216111, 216614
        ├── BadImageError                   216200-216203, 216402, 216615
        ├── NotFoundError                   216611-216613, 216618
        ├── ConflictError                   216616, 216617, 216619
        └── ServiceError                    1, 2, 216015, 216300-216500, 216630, 282000

Which class a code belongs to, its message and whether a retry can help are
read from ``x-error-codes`` in the spec; :func:`error_from_body` is the one
place that turns an error body into an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from facekit import _spec

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadImageError",
    "ConfigurationError",
    "ConflictError",
    "FaceKitError",
    "FieldProblem",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseFormatError",
    "ServiceError",
    "TransportError",
    "ValidationError",
    "error_class_for",
    "error_from_body",
]


class FaceKitError(Exception):
    """The root of every error facekit raises."""


class ConfigurationError(FaceKitError, ValueError):
    """The client cannot be built from the arguments and environment given."""


class FieldProblem:
    """One bad field of a call: its name, the SDK code and what is wrong."""

    __slots__ = ("code", "field", "message")

    def __init__(self, field: str, code: str, message: str) -> None:
        self.field = field
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"FieldProblem({self.field!r}, {self.code!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldProblem):
            return NotImplemented
        return (self.field, self.code, self.message) == (
            other.field,
            other.code,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.code, self.message))


class ValidationError(FaceKitError, ValueError):
    """Arguments the spec forbids; nothing was sent.

    ``problems`` lists every bad field of the call, each with the SDK code
    of the reference document (``SDK100`` ... ``SDK109``).
    """

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = list(problems)
        lines = "; ".join(f"{p.field}: {p.code} {p.message}" for p in self.problems)
        super().__init__(f"invalid arguments: {lines}")

    @property
    def codes(self) -> list[str]:
        """The SDK codes of the problems, in order."""
        return [p.code for p in self.problems]

    @property
    def error_code(self) -> str:
        """The first problem's code, as the old SDK's error dict carried it."""
        return self.problems[0].code if self.problems else "SDK100"


class TransportError(FaceKitError):
    """The request could not be sent, or no usable answer came back."""


class RequestTimeoutError(TransportError):
    """Connecting or reading timed out (SDK108)."""

    error_code = "SDK108"


class ResponseFormatError(TransportError):
    """The answer was not the JSON document the spec describes."""

    def __init__(self, message: str, *, status_code: int, body_excerpt: str) -> None:
        super().__init__(f"{message} (HTTP {status_code}): {body_excerpt!r}")
        self.status_code = status_code
        self.body_excerpt = body_excerpt


class APIError(FaceKitError):
    """The service answered with an error body."""

    def __init__(
        self,
        error_code: int | str,
        error_msg: str,
        log_id: int | None = None,
    ) -> None:
        super().__init__(f"{error_code} {error_msg}" + _log_suffix(log_id))
        self.error_code = error_code
        self.error_msg = error_msg
        self.log_id = log_id

    @property
    def retryable(self) -> bool:
        """Whether the spec says an identical later request can succeed."""
        entry = _spec.error_codes().get(self.error_code)
        return entry.retryable if entry else False

    @property
    def meaning(self) -> str | None:
        """The spec's explanation of the code, when it knows the code."""
        entry = _spec.error_codes().get(self.error_code)
        return entry.meaning if entry else None


class AuthenticationError(APIError):
    """The credentials, token or signature were not accepted."""


class PermissionDeniedError(APIError):
    """The application may not use this operation."""


class RateLimitError(APIError):
    """Too many requests; a QPS limit passes with time."""


class QuotaExceededError(RateLimitError):
    """A daily or total quota is used up; retrying will not help."""


class InvalidRequestError(APIError):
    """The request was malformed in a way the service detected."""


class BadImageError(APIError):
    """The image is empty, undecodable, too large or shows no face."""


class NotFoundError(APIError):
    """The user or group does not exist."""


class ConflictError(APIError):
    """The face library already holds this, or the change breaks its rules."""


class ServiceError(APIError):
    """The service failed; some of these pass with time."""


def _log_suffix(log_id: int | None) -> str:
    return f" (log_id {log_id})" if log_id is not None else ""


_CLASS_OF_KIND: Mapping[str, type[APIError]] = {
    "auth": AuthenticationError,
    "permission": PermissionDeniedError,
    "rate_limit": RateLimitError,
    "invalid": InvalidRequestError,
    "bad_image": BadImageError,
    "not_found": NotFoundError,
    "conflict": ConflictError,
    "service": ServiceError,
}


def error_class_for(error_code: int | str) -> type[APIError]:
    """The exception class of an error code, from the spec's table.

    Quotas (rate limits a retry cannot help) get :class:`QuotaExceededError`;
    a code the spec does not know is an :class:`APIError`.
    """
    entry = _spec.error_codes().get(error_code)
    if entry is None:
        return APIError
    cls = _CLASS_OF_KIND.get(entry.kind, APIError)
    if cls is RateLimitError and not entry.retryable:
        return QuotaExceededError
    return cls


def error_from_body(body: Mapping[str, Any]) -> APIError:
    """Turn an error body ``{"error_code", "error_msg", "log_id"}`` into an error.

    Codes may arrive as integers or as numeric strings; both map the same.
    """
    raw = body.get("error_code")
    code: int | str = raw if isinstance(raw, int | str) else str(raw)
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    message = str(body.get("error_msg", "")) or _default_message(code)
    log_id = body.get("log_id")
    return error_class_for(code)(
        code, message, log_id if isinstance(log_id, int) else None
    )


def _default_message(code: int | str) -> str:
    entry = _spec.error_codes().get(code)
    return entry.message if entry else "unknown error"
