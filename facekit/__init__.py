"""facekit: a typed SDK for the Baidu face recognition API v2.

Use :class:`FaceClient` (or :class:`AsyncFaceClient`); every failure is a
:class:`FaceKitError` (the tree is drawn in ``facekit._errors``), and
:class:`Hooks` with plugins such as :class:`RetryPlugin` and
:class:`LoggingPlugin` run around each call.
"""

from __future__ import annotations

import logging

from face_v2_client.models import (
    DetectResult,
    GroupListResult,
    GroupUsersResult,
    IdentifyResult,
    LogIdResult,
    MatchResult,
    UserResult,
    VerifyResult,
)

from facekit._client import AsyncFaceClient, FaceClient
from facekit._errors import (
    APIError,
    AuthenticationError,
    BadImageError,
    ConfigurationError,
    ConflictError,
    FaceKitError,
    FieldProblem,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServiceError,
    TransportError,
    ValidationError,
)
from facekit._hooks import (
    CallContext,
    Event,
    Hooks,
    LoggingPlugin,
    Plugin,
    RetryDecision,
    RetryPlugin,
    redact,
)
from facekit._images import ImageInput

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AsyncFaceClient",
    "AuthenticationError",
    "BadImageError",
    "CallContext",
    "ConfigurationError",
    "ConflictError",
    "DetectResult",
    "Event",
    "FaceClient",
    "FaceKitError",
    "FieldProblem",
    "GroupListResult",
    "GroupUsersResult",
    "Hooks",
    "IdentifyResult",
    "ImageInput",
    "InvalidRequestError",
    "LogIdResult",
    "LoggingPlugin",
    "MatchResult",
    "NotFoundError",
    "PermissionDeniedError",
    "Plugin",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseFormatError",
    "RetryDecision",
    "RetryPlugin",
    "ServiceError",
    "TransportError",
    "UserResult",
    "ValidationError",
    "VerifyResult",
    "__version__",
    "redact",
]

# Library logging: silent unless the application configures handlers.
logging.getLogger("facekit").addHandler(logging.NullHandler())
