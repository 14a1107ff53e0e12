"""Access tokens and BCE signing as one ``httpx.Auth``.

:class:`TokenAuth` exchanges the API key and secret key for an access token
at ``GET /oauth/2.0/token``, adds it to the query of every request as
``access_token``, and keeps it in a cache measured with a monotonic clock.

How a request goes through it::

    _flow (shared, no I/O, no locks)
      ├─ needs a token ──▶ driver: cached? use it : win the lock, yield the
      │                    token request, parse the answer, store it
      ├─ token or signature added ──▶ yield the request
      └─ 200 with error_code 110/111 ──▶ needs a token other than the one
                            refused ──▶ yield the request once more, done

The shared generator ``_flow`` is driven by :meth:`TokenAuth.auth_flow` (sync,
a ``threading.Lock``) and :meth:`TokenAuth.async_auth_flow` (an ``asyncio.Lock``
per event loop); fetching the token is the only step where they differ.  The
token request is yielded to httpx like any other, so it goes through the same
client, transport, proxies and timeout as the API call.

Refreshing (after botocore's refreshable credentials):

- *fresh* until ``expires_in - margin`` where ``margin`` is ``refresh_margin``
  but at most half the lifetime;
- *advisory* from then until expiry: one caller refreshes, every other caller
  keeps using the current token instead of waiting; a refresh that fails here
  is logged and the current token is used until it expires;
- *mandatory* once expired, when there is no token yet, or when the service
  refused the token (110, 111): every caller waits for the one refresher.

Exactly one thread refreshes at a time, and exactly one task per event loop.
A thread and a task of some event loop may both refresh at once; the later
answer wins, and both tokens are valid.

BCE signing: when the token's ``scope`` lacks ``brain_all_scope`` the service
refuses the token on face operations, and the official SDK silently switched
to ``bce-auth-v1`` signatures.  Here the switch is the ``signing`` setting
(``"auto"``, ``"always"``, ``"never"``) and is logged once at INFO on the
``facekit.auth`` logger.  ``"always"`` never fetches a token at all.

Credentials never reach a log record, an exception message or a ``repr``.
Because httpx logs every request URL at INFO and the token travels in the
query, creating a :class:`TokenAuth` installs a filter on the ``httpx`` logger
that masks ``access_token``, ``client_id`` and ``client_secret`` in them with
:func:`facekit.redact`, which the local server and the command line use on
their logs too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, TypeVar, get_args

import httpx

from facekit._errors import AuthenticationError, ResponseFormatError
from facekit._hooks import redact
from facekit._signing import sign_request

__all__ = ["BRAIN_ALL_SCOPE", "Signing", "TokenAuth"]

# Named for users to configure, so without the private module's underscore.
_logger = logging.getLogger("facekit.auth")

Signing = Literal["auto", "always", "never"]

BRAIN_ALL_SCOPE = "brain_all_scope"
"""The scope that lets an access token call every face operation."""

# 110: token unknown or revoked; 111: token expired.  Both mean "fetch another".
_TOKEN_REFUSED_CODES = frozenset({110, 111})
_SIGNED_HEADERS = ("host", "x-bce-date")
_SIGNATURE_EXPIRATION_SECONDS = 1800
_MASK = "***"
_EXCERPT_CHARS = 200
# Entries of each per-URL cache; past this the cache starts over, so a
# caller sending ever new URLs (a query per request) cannot grow it for ever.
_URL_CACHE_ENTRIES = 256


@dataclass(frozen=True, slots=True, repr=False)
class _Token:
    value: str
    scope: frozenset[str]
    refresh_at: float
    expires_at: float

    def __repr__(self) -> str:
        return f"_Token(value={_MASK!r}, refresh_at={self.refresh_at!r})"


@dataclass(frozen=True, slots=True)
class _NeedToken:
    """Asked of a driver by ``_flow``: a usable token that is not ``refused``."""

    template: httpx.Request  # the API request: the token URL's base, its timeout
    url: httpx.URL  # the token endpoint
    key: str  # str(url), the key of the token cache
    refused: _Token | None


_FlowStep: TypeAlias = httpx.Request | _NeedToken
_FlowReply: TypeAlias = httpx.Response | _Token


class TokenAuth(httpx.Auth):
    """Authenticate face API requests with a cached access token or a signature.

    ``token_url`` is resolved against the URL of each request, so the default
    path reaches the token endpoint of whichever server the client talks to
    (Baidu's cloud or the local server); an absolute URL is used as it is.
    ``refresh_margin`` is how many seconds before expiry a new token is
    fetched (at most half the token's lifetime).  ``clock`` measures token
    lifetimes and must be monotonic; tests pass a fake one.
    """

    requires_request_body = True  # a refused request is sent again
    requires_response_body = True  # to see error 110/111 in a 200 body

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        *,
        token_url: str = "/oauth/2.0/token",
        signing: Signing = "auto",
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ValueError("api_key must be a non-empty string")
        if not isinstance(secret_key, str) or not secret_key.strip():
            raise ValueError("secret_key must be a non-empty string")
        if signing not in get_args(Signing):
            raise ValueError(
                f"signing must be 'auto', 'always' or 'never', not {signing!r}"
            )
        if refresh_margin < 0:
            raise ValueError("refresh_margin must not be negative")

        # The console hands keys out with stray whitespace; the old SDK stripped.
        self._api_key = api_key.strip()
        self._secret_key = secret_key.strip()
        self._token_url = token_url
        self._signing: Signing = signing
        self._refresh_margin = float(refresh_margin)
        self._clock = clock

        self._tokens: dict[str, _Token] = {}
        # The hot path's two URL computations, remembered: httpx parses and
        # validates the whole URL again on every join and every query change,
        # which cost more than the rest of a call to a local server.  Plain
        # dicts: a lost race computes the same value twice, nothing worse.
        # request URL -> (its token endpoint, that endpoint's str)
        self._token_urls: dict[str, tuple[httpx.URL, str]] = {}
        # (request URL, token value) -> the request URL with access_token set
        self._urls_with_token: dict[tuple[str, str], httpx.URL] = {}
        # Guards short reads and writes of the state above; never held across
        # a yield or an await.
        self._state_lock = threading.Lock()
        # Held by the one thread that fetches a token, across the yield of the
        # token request, so that other threads wait for its answer.
        self._refresh_lock = threading.Lock()
        self._async_locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Lock
        ] = weakref.WeakKeyDictionary()
        self._signing_logged = False

        _install_httpx_log_redaction()

    def __repr__(self) -> str:
        return (
            f"TokenAuth(api_key={_mask_key(self._api_key)!r}, secret_key={_MASK!r}, "
            f"token_url={self._token_url!r}, signing={self._signing!r})"
        )

    @property
    def signing(self) -> Signing:
        """When requests are signed instead of carrying the token."""
        return self._signing

    def invalidate(self) -> None:
        """Forget every cached token; the next request fetches a new one."""
        with self._state_lock:
            self._tokens.clear()
            self._urls_with_token.clear()

    # -- drivers: the only code that differs between sync and async ----------

    def auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """The sync flow; httpx's ``sync_auth_flow`` drives it and reads bodies."""
        flow = self._flow(request)
        step = next(flow)
        while True:
            reply: _FlowReply
            if isinstance(step, _NeedToken):
                reply = yield from self._sync_token(step)
            else:
                reply = yield step
            try:
                step = flow.send(reply)
            except StopIteration:
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """The async flow: the shared steps, with an ``asyncio.Lock`` per loop."""
        await request.aread()

        flow = self._flow(request)
        step = next(flow)
        while True:
            reply: _FlowReply
            if isinstance(step, _NeedToken):
                now = self._clock()
                token = self._usable(step, now)
                if token is None:
                    fallback = self._still_valid(step, now)
                    lock = self._async_lock()
                    # As in _sync_token: no waiting in the advisory window.
                    if fallback is not None and lock.locked():
                        token = fallback
                    else:
                        async with lock:
                            token = self._usable(step, self._clock())
                            if token is None:
                                token_request = self._token_request(step)
                                started = self._clock()
                                response = yield token_request
                                await response.aread()
                                token = self._accept(step, response, started, fallback)
                reply = token
            else:
                response = yield step
                await response.aread()
                reply = response
            try:
                step = flow.send(reply)
            except StopIteration:
                return

    def _sync_token(
        self, need: _NeedToken
    ) -> Generator[httpx.Request, httpx.Response, _Token]:
        now = self._clock()
        token = self._usable(need, now)
        if token is not None:
            return token

        fallback = self._still_valid(need, now)
        # In the advisory window a caller that cannot get the lock at once
        # keeps the current token rather than wait for the refresher.
        if not self._refresh_lock.acquire(blocking=fallback is None):
            assert fallback is not None
            return fallback
        try:
            # Double-checked: the thread that held the lock may have stored one.
            token = self._usable(need, self._clock())
            if token is not None:
                return token
            token_request = self._token_request(need)
            started = self._clock()
            response = yield token_request
            return self._accept(need, response, started, fallback)
        finally:
            self._refresh_lock.release()

    def _async_lock(self) -> asyncio.Lock:
        # An asyncio.Lock belongs to one event loop, so each loop gets its own.
        loop = asyncio.get_running_loop()
        with self._state_lock:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        return lock

    # -- the shared flow -------------------------------------------------------

    def _flow(self, request: httpx.Request) -> Generator[_FlowStep, _FlowReply, None]:
        if self._signing == "always":
            self._log_signing_once()
            self._sign(request)
            yield request
            return

        original_url = request.url
        url_key = str(original_url)
        token_url, token_key = self._token_endpoint(original_url, url_key)
        need = _NeedToken(request, token_url, token_key, refused=None)
        token = _expect_token((yield need))
        sent_token = self._authenticate(request, token, url_key)
        response = _expect_response((yield request))

        if not sent_token or not _token_refused(response):
            return
        _logger.debug(
            "the service refused the access token (error %s); "
            "fetching a new one and sending the request once more",
            _error_code(response),
        )
        token = _expect_token((yield replace(need, refused=token)))
        # A new request, so the refused one and its response stay as they
        # were in the final response's history.
        replay = httpx.Request(
            request.method,
            original_url,
            headers=request.headers,
            content=request.content,
            extensions=request.extensions,
        )
        self._authenticate(replay, token, url_key)
        yield replay

    def _token_endpoint(self, url: httpx.URL, url_key: str) -> tuple[httpx.URL, str]:
        """The token URL for a request to ``url`` (whose str is ``url_key``)."""
        endpoint = self._token_urls.get(url_key)
        if endpoint is None:
            token_url = url.join(self._token_url)
            endpoint = (token_url, str(token_url))
            _remember(self._token_urls, url_key, endpoint)
        return endpoint

    def _authenticate(
        self, request: httpx.Request, token: _Token, url_key: str
    ) -> bool:
        """Add the token or a signature; return whether the token was sent.

        ``url_key`` is ``str(request.url)``, the key under which the URL with
        this token is remembered.
        """
        if BRAIN_ALL_SCOPE not in token.scope:
            self._log_signing_once()
            if self._signing == "auto":
                self._sign(request)
                return False
        key = (url_key, token.value)
        url = self._urls_with_token.get(key)
        if url is None:
            url = request.url.copy_set_param("access_token", token.value)
            _remember(self._urls_with_token, key, url)
        request.url = url
        return True

    def _sign(self, request: httpx.Request) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        request.headers["x-bce-date"] = stamp
        request.headers["authorization"] = sign_request(
            method=request.method,
            path=request.url.path,
            params=request.url.params.multi_items(),
            headers={"host": request.headers["host"], "x-bce-date": stamp},
            access_key=self._api_key,
            secret_key=self._secret_key,
            timestamp=now,
            expiration_seconds=_SIGNATURE_EXPIRATION_SECONDS,
            signed_headers=_SIGNED_HEADERS,
        )

    def _log_signing_once(self) -> None:
        with self._state_lock:
            if self._signing_logged:
                return
            self._signing_logged = True

        if self._signing == "always":
            _logger.info(
                "signing requests with bce-auth-v1 instead of an access token, "
                "because signing='always'"
            )
        elif self._signing == "auto":
            _logger.info(
                "signing requests with bce-auth-v1: the access token's scope "
                "lacks %s, so the service would refuse the token "
                "(signing='auto'; pass signing='never' to send the token anyway)",
                BRAIN_ALL_SCOPE,
            )
        else:
            _logger.info(
                "the access token's scope lacks %s but signing='never': sending "
                "the token anyway, and the service may refuse it",
                BRAIN_ALL_SCOPE,
            )

    # -- the token cache: pure steps both drivers share ----------------------

    def _usable(self, need: _NeedToken, now: float) -> _Token | None:
        """The cached token, if it is fresh and not the one just refused."""
        token = self._tokens.get(need.key)
        if token is None or _is_refused(token, need) or now >= token.refresh_at:
            return None
        return token

    def _still_valid(self, need: _NeedToken, now: float) -> _Token | None:
        """The cached token, if it may be used while someone else refreshes."""
        token = self._tokens.get(need.key)
        if token is None or _is_refused(token, need) or now >= token.expires_at:
            return None
        return token

    def _token_request(self, need: _NeedToken) -> httpx.Request:
        _logger.debug("fetching an access token from %s", need.url)
        extensions = {}
        # Without the API request's timeout the token request would wait forever.
        if "timeout" in need.template.extensions:
            extensions["timeout"] = need.template.extensions["timeout"]
        return httpx.Request(
            "GET",
            need.url,
            params={
                "grant_type": "client_credentials",
                "client_id": self._api_key,
                "client_secret": self._secret_key,
            },
            headers={"accept": "application/json"},
            extensions=extensions,
        )

    def _accept(
        self,
        need: _NeedToken,
        response: httpx.Response,
        started: float,
        fallback: _Token | None,
    ) -> _Token:
        """Parse the token endpoint's answer and cache the token."""
        key = need.key
        try:
            token = _parse_token(
                response,
                started=started,
                refresh_margin=self._refresh_margin,
                secrets=(self._api_key, self._secret_key),
            )
        except (AuthenticationError, ResponseFormatError) as error:
            if fallback is None:
                raise
            # botocore's advisory refresh: the current token is still valid, so
            # a failed early refresh is not the caller's problem yet.  Retry
            # halfway to expiry rather than on every request.
            now = self._clock()
            retry_at = now + (fallback.expires_at - now) / 2
            _logger.warning(
                "could not refresh the access token ahead of expiry (%s); "
                "using the current one for %.0f more seconds",
                error,
                fallback.expires_at - now,
            )
            with self._state_lock:
                if self._tokens.get(key) is fallback:
                    fallback = self._tokens[key] = replace(
                        fallback, refresh_at=retry_at
                    )
            return fallback

        with self._state_lock:
            self._tokens[key] = token
        _logger.debug(
            "access token fetched: valid for %.0f s, refreshed after %.0f s, "
            "scope has %s: %s",
            token.expires_at - started,
            token.refresh_at - started,
            BRAIN_ALL_SCOPE,
            BRAIN_ALL_SCOPE in token.scope,
        )
        return token


def _parse_token(
    response: httpx.Response,
    *,
    started: float,
    refresh_margin: float,
    secrets: tuple[str, ...],
) -> _Token:
    """Turn the token endpoint's answer into a token, or raise what went wrong."""
    try:
        body = json.loads(response.content)
    except ValueError:
        raise ResponseFormatError(
            "the token endpoint did not answer JSON",
            status_code=response.status_code,
            body_excerpt=_excerpt(response, secrets),
        ) from None

    if isinstance(body, dict) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        raise AuthenticationError(
            body["error"], description if isinstance(description, str) else ""
        )
    if response.status_code != 200 or not isinstance(body, dict):
        raise ResponseFormatError(
            "the token endpoint answered neither a token nor an error",
            status_code=response.status_code,
            body_excerpt=_shape(body),
        )

    value = body.get("access_token")
    lifetime = body.get("expires_in")
    scope = body.get("scope", "")
    if (
        not isinstance(value, str)
        or not value
        or not isinstance(lifetime, int | float)
        or isinstance(lifetime, bool)
        or lifetime <= 0
        or not isinstance(scope, str)
    ):
        # The excerpt names the keys only: the values may hold the token.
        raise ResponseFormatError(
            "the token answer lacks a valid access_token, expires_in or scope",
            status_code=response.status_code,
            body_excerpt=_shape(body),
        )

    margin = min(refresh_margin, lifetime / 2)
    return _Token(
        value=value,
        scope=frozenset(scope.split()),
        refresh_at=started + lifetime - margin,
        expires_at=started + lifetime,
    )


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Store ``value`` in a cache of at most ``_URL_CACHE_ENTRIES`` entries."""
    if len(cache) >= _URL_CACHE_ENTRIES:
        cache.clear()
    cache[key] = value


def _is_refused(token: _Token, need: _NeedToken) -> bool:
    # By value: the cache may hold a copy of the refused token with a new
    # refresh time (see the advisory fallback in TokenAuth._accept).
    return need.refused is not None and token.value == need.refused.value


def _token_refused(response: httpx.Response) -> bool:
    return response.status_code == 200 and _error_code(response) in _TOKEN_REFUSED_CODES


def _error_code(response: httpx.Response) -> int | None:
    """The integer ``error_code`` of a JSON error body, if it has one."""
    # Success bodies can be large (detect with landmark72); skip parsing them.
    if b"error_code" not in response.content:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    code = body.get("error_code") if isinstance(body, dict) else None
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _expect_token(reply: _FlowReply) -> _Token:
    if not isinstance(reply, _Token):
        raise TypeError("the auth flow was sent a response where a token belongs")
    return reply


def _expect_response(reply: _FlowReply) -> httpx.Response:
    if not isinstance(reply, httpx.Response):
        raise TypeError("the auth flow was sent a token where a response belongs")
    return reply


def _excerpt(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    text = response.content[:_EXCERPT_CHARS].decode("utf-8", errors="replace")
    for secret in secrets:
        text = text.replace(secret, _MASK)
    return text


def _shape(body: Any) -> str:
    if isinstance(body, Mapping):
        return f"a JSON object with keys {sorted(map(str, body))}"
    return f"a JSON {type(body).__name__}"


def _mask_key(key: str) -> str:
    # The last four characters tell keys apart; short keys show nothing.
    return f"...{key[-4:]}" if len(key) >= 16 else _MASK


class _RedactCredentials(logging.Filter):
    """Mask credentials in the URLs httpx logs at INFO for every request.

    Costs nothing when httpx's INFO lines are off (the default): a logger
    checks ``isEnabledFor`` before it makes a record, and filters only see
    records that were made.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, httpx.URL) for arg in record.args
        ):
            record.args = tuple(
                redact(str(arg)) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


_redaction_lock = threading.Lock()


def _install_httpx_log_redaction() -> None:
    httpx_logger = logging.getLogger("httpx")
    with _redaction_lock:
        if not any(isinstance(f, _RedactCredentials) for f in httpx_logger.filters):
            httpx_logger.addFilter(_RedactCredentials())
