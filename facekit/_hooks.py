"""Named events around each call, and the plugins built on them.

One call of a face operation goes through these events, in this order::

    before-request ─▶ send ─┬─ answer ─▶ after-response ─┬─ result ─▶ after-call
                            │                             └─ error body ──┐
                            └─ transport error, timeout ──────────────────┴─▶ on-error

    on-error ─┬─ a handler returned RetryDecision ─▶ on-retry ─▶ sleep ─▶ before-request
              └─ none did ─▶ after-call, then the error is raised

``after-call`` fires exactly once per call that reached the network, with
either ``context.result`` or ``context.error`` set.  A call refused by
validation never reaches the hooks: nothing was attempted.

Handlers of one event run in a defined order: those registered with
``first=True``, then the ordinary ones, then those with ``last=True``; within
each group, in registration order.  A ``unique_id`` makes registration
idempotent, so a plugin added twice runs once.  A handler that raises aborts
the call with its exception.

Retrying is a question the client asks the hooks: ``on-error`` handlers may
return a :class:`RetryDecision` (how long to wait, and how to wait).  The
decision is the same for the sync and the async client; only the sleep they
call differs.

A plugin is any object with ``register(hooks)``.  Built in:

* :class:`RetryPlugin` - bounded attempts, full-jitter exponential backoff,
  only for what can succeed unchanged (the spec's ``retryable`` codes,
  transport failures and timeouts);
* :class:`LoggingPlugin` - one INFO line per call, credentials redacted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeAlias, runtime_checkable

import httpx

from facekit._errors import (
    APIError,
    FaceKitError,
    QuotaExceededError,
    ResponseFormatError,
    TransportError,
)

__all__ = [
    "CallContext",
    "Event",
    "Handler",
    "Hooks",
    "LoggingPlugin",
    "Plugin",
    "RetryDecision",
    "RetryPlugin",
    "is_retryable",
    "redact",
    "retry_decision",
]


class Event(StrEnum):
    """The named events of a call, in the order they can fire."""

    BEFORE_REQUEST = "before-request"
    AFTER_RESPONSE = "after-response"
    ON_ERROR = "on-error"
    ON_RETRY = "on-retry"
    AFTER_CALL = "after-call"


@dataclass(slots=True, eq=False)
class CallContext:
    """What handlers see of one call; the client updates it as the call runs.

    ``attempt`` counts from 1.  ``request`` and ``response`` are those of the
    current attempt (``response`` is ``None`` until one arrives, and after a
    transport error).  ``error`` is the failure of the current attempt,
    ``result`` the typed result once the call succeeded, ``log_id`` the
    service's id of the last answer, and ``delay`` the wait before the next
    attempt (set for ``on-retry``).
    """

    operation: str
    attempt: int = 0
    request: httpx.Request | None = None
    response: httpx.Response | None = None
    error: FaceKitError | None = None
    result: object | None = None
    log_id: int | None = None
    delay: float | None = None
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed(self) -> float:
        """Seconds since the call started, on the performance counter."""
        return time.perf_counter() - self.started


Handler: TypeAlias = Callable[[CallContext], object]
"""A hook handler; its return value matters only for ``on-error``."""


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """Returned by an ``on-error`` handler: try again after ``delay`` seconds.

    ``sleep`` and ``asleep`` are how the sync and the async client wait;
    tests pass fakes so that nothing really sleeps.
    """

    delay: float
    sleep: Callable[[float], None] = time.sleep
    asleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@runtime_checkable
class Plugin(Protocol):
    """Anything that adds its handlers to a :class:`Hooks`."""

    def register(self, hooks: Hooks) -> None: ...


@dataclass(frozen=True, slots=True)
class _Entry:
    handler: Handler
    unique_id: str | None
    position: int  # 0 first, 1 ordinary, 2 last


class Hooks:
    """Handlers by event, called in a defined order."""

    def __init__(self) -> None:
        self._entries: dict[Event, list[_Entry]] = {}
        # Rebuilt on every change so that emit only reads one tuple: calls
        # run far more often than plugins register, and from many threads.
        self._ordered: dict[str, tuple[Handler, ...]] = {}
        self._lock = threading.Lock()

    def register(
        self,
        event: Event | str,
        handler: Handler,
        *,
        unique_id: str | None = None,
        first: bool = False,
        last: bool = False,
    ) -> None:
        """Call ``handler(context)`` on ``event``.

        With ``unique_id``, a second registration under the same id is
        ignored.  ``first`` and ``last`` move the handler to the front or
        the back group; they exclude each other.
        """
        name = Event(event)
        if first and last:
            raise ValueError("a handler cannot be both first and last")
        position = 0 if first else 2 if last else 1

        with self._lock:
            entries = self._entries.setdefault(name, [])
            if unique_id is not None and any(e.unique_id == unique_id for e in entries):
                return
            entries.append(_Entry(handler, unique_id, position))
            self._rebuild(name)

    def unregister(
        self,
        event: Event | str,
        handler: Handler | None = None,
        *,
        unique_id: str | None = None,
    ) -> None:
        """Remove a handler, by identity or by its ``unique_id``; absent is fine."""
        name = Event(event)
        if (handler is None) == (unique_id is None):
            raise ValueError("pass either a handler or a unique_id")

        with self._lock:
            entries = self._entries.get(name, [])
            entries[:] = [
                e
                for e in entries
                if not (
                    (unique_id is not None and e.unique_id == unique_id)
                    or (handler is not None and e.handler == handler)
                )
            ]
            self._rebuild(name)

    def handlers(self, event: Event | str) -> tuple[Handler, ...]:
        """The handlers of ``event`` in the order :meth:`emit` calls them."""
        return self._ordered.get(Event(event), ())

    def emit(self, event: Event | str, context: CallContext) -> list[object]:
        """Call every handler of ``event`` in order; their non-``None`` answers."""
        answers: list[object] = []
        for handler in self._ordered.get(event, ()):
            answer = handler(context)
            if answer is not None:
                answers.append(answer)
        return answers

    def _rebuild(self, name: Event) -> None:
        entries = self._entries.get(name, [])
        # sorted() is stable, so registration order holds within each group.
        ordered = sorted(entries, key=lambda e: e.position)
        self._ordered[name] = tuple(e.handler for e in ordered)


def retry_decision(answers: list[object]) -> RetryDecision | None:
    """The first :class:`RetryDecision` among the answers of ``on-error``."""
    for answer in answers:
        if isinstance(answer, RetryDecision):
            return answer
    return None


def is_retryable(error: BaseException | None) -> bool:
    """Whether an identical later request can succeed.

    API errors: as the spec's ``retryable`` flag says (never a quota).
    Transport failures and timeouts: yes.  A body that is not the promised
    JSON: only when the status says a gateway or the service was briefly
    unable to answer (429, 5xx); a 200 with garbage will not improve.
    """
    if isinstance(error, QuotaExceededError):
        return False
    if isinstance(error, APIError):
        return error.retryable
    if isinstance(error, ResponseFormatError):
        return error.status_code == 429 or error.status_code >= 500
    return isinstance(error, TransportError)


class RetryPlugin:
    """Bounded retries with full-jitter exponential backoff.

    Attempt ``n`` (counting from 1) that failed with a retryable error waits
    ``jitter() * min(max_delay, base_delay * 2 ** (n - 1))`` seconds before
    attempt ``n + 1``, up to ``max_attempts`` attempts in all.  ``jitter``
    returns a float in ``[0, 1)``; ``sleep`` and ``asleep`` do the waiting.
    """

    unique_id = "facekit.retry"

    def __init__(
        self,
        max_attempts: int = 3,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        jitter: Callable[[], float] = random.random,
        *,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if base_delay < 0 or max_delay < 0:
            raise ValueError("delays must not be negative")
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._jitter = jitter
        self._sleep = sleep
        self._asleep = asleep

    def register(self, hooks: Hooks) -> None:
        hooks.register(Event.ON_ERROR, self.decide, unique_id=self.unique_id)

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt ``attempt``."""
        # The exponent is bounded so a large max_attempts cannot overflow.
        return min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))

    def decide(self, context: CallContext) -> RetryDecision | None:
        """The ``on-error`` handler: a decision, or ``None`` to give up."""
        if context.attempt >= self.max_attempts or not is_retryable(context.error):
            return None
        delay = self.ceiling(context.attempt) * self._jitter()
        return RetryDecision(delay, self._sleep, self._asleep)


# Credentials that may appear in a URL's query, a JSON body or a header dump.
# A query may spell a name's underscore as %5F; both must be masked.
_SECRET_NAMES = "|".join(
    name.replace("_", "(?:_|%5F)")
    for name in (
        "access_token",
        "refresh_token",
        "client_secret",
        "client_id",
        "session_key",
        "session_secret",
    )
)
_QUERY_SECRET = re.compile(rf"(?i)\b({_SECRET_NAMES})(=|%3D)[^&\s\"'#]*")
_JSON_SECRET = re.compile(
    rf"(?i)([\"']?\b(?:{_SECRET_NAMES})[\"']?\s*:\s*[\"']?)[^\"'\s,}}]*"
)
_AUTHORIZATION = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]*")
_BCE_SIGNATURE = re.compile(r"bce-auth-v1/[^\s\"',]*")
_MASK = "***"


def redact(text: str) -> str:
    """``text`` with credentials masked.

    Masks the values of ``access_token``, ``client_id``, ``client_secret``
    (and the token endpoint's other secrets) as query parameters or JSON
    members, ``Authorization`` header values, and any ``bce-auth-v1``
    signature.  Use it on anything that may hold a URL before logging it.
    """
    text = _QUERY_SECRET.sub(rf"\1\2{_MASK}", text)
    text = _JSON_SECRET.sub(rf"\1{_MASK}", text)
    text = _AUTHORIZATION.sub(rf"\1{_MASK}", text)
    return _BCE_SIGNATURE.sub(f"bce-auth-v1/{_MASK}", text)


def describe_outcome(error: BaseException | None) -> str:
    """``ok``, or the error's class and code (``RateLimitError 18``)."""
    if error is None:
        return "ok"
    code = getattr(error, "error_code", None)
    name = type(error).__name__
    return f"{name} {code}" if code is not None else name


class LoggingPlugin:
    """One INFO line per call, when it ends.

    The line names the operation, the outcome (``ok``, or the error class
    and code), the duration, the ``log_id`` and the number of attempts.  It
    never holds a URL, a header, a body or an image.
    """

    unique_id = "facekit.logging"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger("facekit")

    def register(self, hooks: Hooks) -> None:
        hooks.register(
            Event.AFTER_CALL, self.log_call, unique_id=self.unique_id, last=True
        )

    def log_call(self, context: CallContext) -> None:
        """The ``after-call`` handler."""
        # Every call ends here: skip the timing and redaction when INFO is off.
        if not self.logger.isEnabledFor(logging.INFO):
            return
        self.logger.info(
            "%s %s in %.1f ms, attempts %d, log_id %s",
            context.operation,
            redact(describe_outcome(context.error)),
            context.elapsed * 1000.0,
            context.attempt,
            context.log_id,
        )
