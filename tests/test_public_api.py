"""The public surface of ``facekit`` is deliberate, complete and sorted."""

from __future__ import annotations

import logging

import facekit

EXPECTED = {
    # clients and their configuration
    "AsyncFaceClient",
    "ConfigurationError",
    "FaceClient",
    "ImageInput",
    # results: the generated models of the spec's success bodies
    "DetectResult",
    "GroupListResult",
    "GroupUsersResult",
    "IdentifyResult",
    "LogIdResult",
    "MatchResult",
    "UserResult",
    "VerifyResult",
    # errors
    "APIError",
    "AuthenticationError",
    "BadImageError",
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
    # hooks and plugins
    "CallContext",
    "Event",
    "Hooks",
    "LoggingPlugin",
    "Plugin",
    "RetryDecision",
    "RetryPlugin",
    "redact",
    # metadata
    "__version__",
}


def test_all_is_sorted() -> None:
    assert facekit.__all__ == sorted(facekit.__all__)


def test_all_is_exactly_the_expected_surface() -> None:
    assert set(facekit.__all__) == EXPECTED
    assert len(facekit.__all__) == len(EXPECTED)


def test_every_public_name_resolves() -> None:
    for name in facekit.__all__:
        assert getattr(facekit, name) is not None, name


def test_every_error_class_descends_from_the_root() -> None:
    public = [getattr(facekit, name) for name in facekit.__all__]
    errors = [v for v in public if isinstance(v, type) and issubclass(v, Exception)]

    assert len(errors) == 16
    assert all(issubclass(error, facekit.FaceKitError) for error in errors)
    assert issubclass(facekit.ValidationError, ValueError)
    assert issubclass(facekit.ConfigurationError, ValueError)


def test_the_event_names() -> None:
    assert [str(event) for event in facekit.Event] == [
        "before-request",
        "after-response",
        "on-error",
        "on-retry",
        "after-call",
    ]


def test_the_version_and_a_silent_library_logger() -> None:
    assert facekit.__version__ == "0.1.0"
    handlers = logging.getLogger("facekit").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
