"""Access tokens and request signatures of the local face server.

This module knows nothing of HTTP. :class:`TokenIssuer` does three things
for the key pairs (API key -> secret key) the server was started with:

* :meth:`~TokenIssuer.issue` trades a key pair for a random access token in
  the cloud's shape (``24.<32 hex>.<lifetime>.<expiry>.<n>-<app id>``), or
  raises :class:`TokenDenied` with the token endpoint's OAuth error;
* :meth:`~TokenIssuer.check` accepts a token it issued and has not expired,
  or raises :class:`~facekit.server.errors.ApiError` 110 (unknown or forged)
  or 111 (expired);
* :meth:`~TokenIssuer.check_signature` accepts a ``bce-auth-v1`` signed
  request made with one of the key pairs, or raises ApiError 14.

Timing: secrets are compared with :func:`hmac.compare_digest`, and tokens are
kept only as SHA-256 digests. A dict lookup by digest tells an attacker
nothing useful (they cannot steer the digest of a guess towards a stored
one), and the digest found is compared with ``compare_digest`` as well.

Expired tokens are kept for ``expired_grace`` seconds (a week by default) so that
their holder hears 111 (fetch a new token) rather than 110, and are purged
after that; the number of live tokens per API key is capped, the oldest
going first, so a client that asks for a token per call cannot grow memory
without bound. Tokens live in memory only: after a restart every old token
is unknown (110), and both the official SDK and facekit fetch a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from facekit import _signing
from facekit.server.errors import api_error

__all__ = [
    "DEFAULT_LIFETIME",
    "DEFAULT_SCOPE",
    "IssuedToken",
    "TokenDenied",
    "TokenIssuer",
]

logger = logging.getLogger(__name__)

DEFAULT_LIFETIME: Final = 2_592_000
"""Thirty days, what the cloud grants."""

DEFAULT_SCOPE: Final = "public brain_all_scope vis-faceverify_faceverify"
"""``brain_all_scope`` lets the official SDK send the token instead of signing."""

_MAX_TOKENS_PER_KEY: Final = 10_000


class TokenDenied(Exception):
    """The token endpoint's refusal: an OAuth ``error`` and its description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True, slots=True)
class _Grant:
    digest: bytes
    api_key: str
    expires_at: float


class TokenIssuer:
    """Issues and checks tokens, and checks signatures, for some key pairs.

    ``clock`` returns seconds since the epoch (``time.time`` by default); tests
    pass their own to move time. Safe to use from several threads.
    """

    def __init__(
        self,
        key_pairs: Mapping[str, str],
        *,
        lifetime: int = DEFAULT_LIFETIME,
        scope: str = DEFAULT_SCOPE,
        clock: Callable[[], float] = time.time,
        max_skew_seconds: int = 300,
        max_tokens_per_key: int = _MAX_TOKENS_PER_KEY,
        expired_grace: float = 7 * 86_400,
    ) -> None:
        if not key_pairs:
            raise ValueError("at least one key pair (API key -> secret key) is needed")
        if any(not key or not secret for key, secret in key_pairs.items()):
            raise ValueError("API keys and secret keys must not be empty")
        if lifetime < 1:
            raise ValueError("lifetime must be at least one second")
        if max_tokens_per_key < 1:
            raise ValueError("max_tokens_per_key must be at least 1")
        self._key_pairs = dict(key_pairs)
        self._lifetime = lifetime
        self._scope = scope
        self._clock = clock
        self._max_skew_seconds = max_skew_seconds
        self._max_tokens_per_key = max_tokens_per_key
        self._expired_grace = expired_grace
        # Stable per API key, like the cloud's app id at the end of a token.
        self._app_ids = {key: _app_id(key) for key in self._key_pairs}
        self._lock = threading.Lock()
        # Token digest -> grant, oldest first, so purging stops at the first
        # grant still inside its grace period.
        self._grants: OrderedDict[bytes, _Grant] = OrderedDict()
        self._per_key: dict[str, OrderedDict[bytes, None]] = {
            key: OrderedDict() for key in self._key_pairs
        }

    @property
    def scope(self) -> str:
        return self._scope

    @property
    def lifetime(self) -> int:
        return self._lifetime

    def issue(self, client_id: str, client_secret: str) -> IssuedToken:
        """A new token for a known key pair, or :class:`TokenDenied`."""
        expected = self._key_pairs.get(client_id)
        if expected is None:
            raise TokenDenied("invalid_client", "unknown client id")
        if not hmac.compare_digest(_utf8(expected), _utf8(client_secret)):
            raise TokenDenied("invalid_client", "Client authentication failed")

        now = self._clock()
        expires_at = now + self._lifetime
        token = (
            f"24.{secrets.token_hex(16)}.{self._lifetime}.{int(expires_at)}"
            f".{secrets.randbelow(900_000) + 100_000}-{self._app_ids[client_id]}"
        )
        digest = _digest(token)
        with self._lock:
            self._purge(now)
            self._grants[digest] = _Grant(digest, client_id, expires_at)
            owned = self._per_key[client_id]
            owned[digest] = None
            while len(owned) > self._max_tokens_per_key:
                oldest, _ = owned.popitem(last=False)
                self._grants.pop(oldest, None)

        logger.debug("issued a token for API key %s", _redact(client_id))
        return IssuedToken(token, self._lifetime, self._scope)

    def check(self, token: str) -> str:
        """The API key a live token was issued to; ApiError 110 or 111 otherwise."""
        digest = _digest(token)
        now = self._clock()
        with self._lock:
            self._purge(now)
            grant = self._grants.get(digest)
        if grant is None or not hmac.compare_digest(grant.digest, digest):
            raise api_error(110)
        if now >= grant.expires_at:
            raise api_error(111)
        return grant.api_key

    def check_signature(
        self,
        *,
        authorization: str,
        method: str,
        path: str,
        params: Iterable[tuple[str, str]],
        headers: Mapping[str, str],
    ) -> str:
        """The API key of a valid ``bce-auth-v1`` request; ApiError 14 otherwise."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        try:
            return _signing.verify_request(
                authorization=authorization,
                method=method,
                path=path,
                params=list(params),
                headers=headers,
                secret_for=self._key_pairs.get,
                now=now,
                max_skew_seconds=self._max_skew_seconds,
            )
        except _signing.SignatureError as exc:
            # The reason is for the server's log only: telling the caller
            # which part failed would help someone probing for a key.
            logger.debug("refused a signed request: %s", exc)
            raise api_error(14) from None

    def _purge(self, now: float) -> None:
        """Forget grants past their grace period; the caller holds the lock."""
        horizon = now - self._expired_grace
        while self._grants:
            digest, grant = next(iter(self._grants.items()))
            if grant.expires_at > horizon:
                break
            del self._grants[digest]
            self._per_key[grant.api_key].pop(digest, None)


def _utf8(text: str) -> bytes:
    # surrogatepass: a query string decoded leniently may hold lone surrogates,
    # and they must compare unequal rather than raise.
    return text.encode("utf-8", "surrogatepass")


def _digest(token: str) -> bytes:
    return hashlib.sha256(_utf8(token)).digest()


def _app_id(api_key: str) -> int:
    return int.from_bytes(hashlib.sha256(api_key.encode()).digest()[:4]) % 10_000_000


def _redact(api_key: str) -> str:
    return f"{api_key[:4]}..." if len(api_key) > 8 else "..."
