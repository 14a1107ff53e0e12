"""``FaceClient`` and ``AsyncFaceClient``: one method per face operation.

Both clients share everything but two lines.  Checking arguments and
building the request (:mod:`facekit._requests`), parsing the answer and
mapping errors (:meth:`Operation.parse`, :func:`facekit._errors.error_from_body`),
the order of the hooks and the retry decision (:class:`_Call`) are pure and
common; the sync client calls ``httpx.Client.send`` and ``decision.sleep``,
the async client awaits ``httpx.AsyncClient.send`` and ``decision.asleep``.

One call::

    _requests.<operation>(...)   check every argument, build the form body
    _Call.start                  attempt += 1, build the httpx.Request, before-request
    http.send                    TokenAuth adds the access token (or signs)
    _Call.received               after-response, parse -> result or APIError
    _Call.succeeded              after-call, return the typed result
    _Call.failed                 on-error -> RetryDecision? on-retry : after-call, raise

Each client owns one ``httpx`` client, hence one connection pool, for all its
calls; close it with ``close()`` / ``aclose()`` or a ``with`` block.
"""

from __future__ import annotations

import logging
import os
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar
from urllib.parse import quote_plus, urlencode

import httpx
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

from facekit import _requests, _spec
from facekit._auth import Signing, TokenAuth
from facekit._errors import (
    APIError,
    ConfigurationError,
    FaceKitError,
    RequestTimeoutError,
    TransportError,
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
    retry_decision,
)
from facekit._images import ImageInput
from facekit._requests import GroupIds, Images, Model, PreparedCall

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncFaceClient",
    "ConfigurationError",
    "FaceClient",
]

_logger = logging.getLogger(__name__)

T = TypeVar("T", bound=Model)

DEFAULT_BASE_URL = "https://aip.baidubce.com"
ENV_API_KEY = "FACEKIT_API_KEY"
ENV_SECRET_KEY = "FACEKIT_SECRET_KEY"
ENV_BASE_URL = "FACEKIT_BASE_URL"


def _headers() -> dict[str, str]:
    # Imported here: the package imports this module before it is complete.
    from facekit import __version__

    return {"User-Agent": f"facekit/{__version__}"}


class _Call(Generic[T]):
    """One call's way through the hooks; shared by both clients, no I/O."""

    __slots__ = ("_build", "_hooks", "_prepared", "context")

    def __init__(
        self,
        hooks: Hooks,
        prepared: PreparedCall[T],
        build: Callable[[PreparedCall[T]], httpx.Request],
    ) -> None:
        self._hooks = hooks
        self._prepared = prepared
        self._build = build
        self.context = CallContext(prepared.operation.name)

    def start(self) -> httpx.Request:
        """The next attempt's request, after ``before-request``."""
        context = self.context
        context.attempt += 1
        context.response = None
        context.error = None
        context.delay = None

        # A fresh request per attempt: the auth flow writes the token into
        # the URL it is given, and a retry must not carry a stale one.
        request = self._build(self._prepared)
        context.request = request
        self._hooks.emit(Event.BEFORE_REQUEST, context)
        return request

    def received(self, response: httpx.Response) -> T:
        """``after-response``, then the typed result or the error it holds."""
        self.context.response = response
        self._hooks.emit(Event.AFTER_RESPONSE, self.context)
        return self._prepared.operation.parse(response)

    def succeeded(self, result: T) -> T:
        context = self.context
        context.result = result
        context.log_id = getattr(result, "log_id", None)
        self._hooks.emit(Event.AFTER_CALL, context)
        return result

    def failed(self, error: FaceKitError) -> RetryDecision | None:
        """``on-error``; with a retry decision ``on-retry``, else ``after-call``."""
        context = self.context
        context.error = error
        if isinstance(error, APIError):
            context.log_id = error.log_id

        decision = retry_decision(self._hooks.emit(Event.ON_ERROR, context))
        if decision is None:
            self._hooks.emit(Event.AFTER_CALL, context)
            return None

        context.delay = decision.delay
        _logger.debug(
            "%s attempt %d failed (%s); retrying in %.3f s",
            context.operation,
            context.attempt,
            type(error).__name__,
            decision.delay,
        )
        self._hooks.emit(Event.ON_RETRY, context)
        return decision


def _transport_error(exc: httpx.RequestError) -> TransportError:
    """The facekit error for an httpx failure, chained to it."""
    error: TransportError
    if isinstance(exc, httpx.TimeoutException):
        message = _spec.error_codes()[RequestTimeoutError.error_code].message
        error = RequestTimeoutError(
            f"{RequestTimeoutError.error_code} {message} ({type(exc).__name__})"
        )
    else:
        # httpx messages rarely hold a URL, but one with a token must not
        # reach a log through str(error).
        error = TransportError(redact(f"{type(exc).__name__}: {exc}"))
    error.__cause__ = exc
    return error


def _default_plugins() -> list[Plugin]:
    return [RetryPlugin(), LoggingPlugin()]


class _BaseClient:
    """Configuration both clients resolve the same way, and building requests."""

    # Set by the subclasses: the pool, and whether this client made it.
    _http: httpx.Client | httpx.AsyncClient
    _owns_http: bool

    def __init__(
        self,
        api_key: str | None,
        secret_key: str | None,
        app_id: str | None,
        *,
        base_url: str | None,
        hooks: Hooks | None,
        plugins: Iterable[Plugin] | None,
        auth: httpx.Auth | None,
        signing: Signing,
    ) -> None:
        self.app_id = app_id
        self.base_url = _resolve_base_url(base_url)
        self.hooks = hooks if hooks is not None else Hooks()
        for plugin in _default_plugins() if plugins is None else plugins:
            plugin.register(self.hooks)
        self._auth = (
            auth if auth is not None else _token_auth(api_key, secret_key, signing)
        )
        self._targets: dict[str, tuple[httpx.URL, list[tuple[bytes, bytes]]]] = {}

    def _build(self, prepared: PreparedCall[Any]) -> httpx.Request:
        """The ``httpx.Request`` of a prepared call, on this client's pool.

        On a pool this client built, each operation's URL and complete
        headers are made once and reused, and the form body is encoded here:
        ``build_request`` would parse the URL, merge headers, params and
        cookies and add ``Host`` again on every call, which costs more than
        sending on a local transport (the benchmark's budget is 25% over
        bare httpx).  A pool passed in by the caller may carry its own
        headers, params and cookies, so it gets the general path.
        """
        kwargs = prepared.kwargs
        if not self._owns_http or kwargs["params"]:
            return self._http.build_request(
                **{**kwargs, "url": self.base_url + kwargs["url"]}
            )

        target = self._targets.get(kwargs["url"])
        if target is None:
            url = httpx.URL(self.base_url + kwargs["url"])
            headers = httpx.Headers({"Host": url.netloc.decode("ascii")})
            headers.update(self._http.headers)
            headers.update(kwargs["headers"])
            target = self._targets[kwargs["url"]] = (url, headers.raw)
        url, raw_headers = target

        body = _encode_form(kwargs.get("data") or {})
        length = (b"Content-Length", str(len(body)).encode("ascii"))
        return httpx.Request(
            kwargs["method"],
            url,
            headers=[*raw_headers, length],
            stream=httpx.ByteStream(body),
            extensions={"timeout": self._http.timeout.as_dict()},
        )

    def __repr__(self) -> str:
        # Never the keys: a repr ends up in logs and tracebacks.
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeouts of every request; may be set (seconds or ``httpx.Timeout``)."""
        return self._http.timeout

    @timeout.setter
    def timeout(self, value: float | httpx.Timeout | None) -> None:
        self._http.timeout = httpx.Timeout(value)


# What quote_plus leaves as it is; every other ASCII character becomes %XX,
# a space "+".  '%' is escaped first and '+' before ' ', so that no escape is
# escaped again.
_FORM_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_FORM_ESCAPES = tuple(
    (code, chr(code), "+" if code == 0x20 else f"%{code:02X}")
    for code in sorted(
        (code for code in range(128) if code not in _FORM_SAFE),
        key=lambda code: (code != ord("%"), code != ord("+")),
    )
)


def _quote_form(text: str) -> str:
    """``quote_plus(text)``, in C loops for ASCII (base64 images are 100s of kB)."""
    if not text.isascii():
        return quote_plus(text)
    present = text.encode("ascii").translate(None, _FORM_SAFE)
    if not present:
        return text
    for code, char, escape in _FORM_ESCAPES:
        if code in present:
            text = text.replace(char, escape)
    return text


def _encode_form(data: Mapping[str, Any]) -> bytes:
    """The form body exactly as ``urlencode(data, doseq=True)`` writes it.

    That is what httpx sends for ``data=``: repeated keys for lists, ``str()``
    of ints.  ``urlencode`` quotes a byte at a time in Python, several
    milliseconds for one image, so str and int values take the fast way and
    anything else (the facade checked the values; there should be none) the
    general one.
    """
    pairs = []
    for key, value in data.items():
        if not isinstance(key, str):
            return urlencode(data, doseq=True).encode("ascii")
        for item in value if isinstance(value, list | tuple) else (value,):
            if isinstance(item, str):
                text = item
            elif isinstance(item, int) and not isinstance(item, bool):
                text = str(item)
            else:
                return urlencode(data, doseq=True).encode("ascii")
            pairs.append(f"{_quote_form(key)}={_quote_form(text)}")
    return "&".join(pairs).encode("ascii")


def _resolve_base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigurationError(
            f"base_url must be an http:// or https:// URL, not {redact(url)!r}"
        )
    if parsed.query:
        raise ConfigurationError("base_url must not carry a query string")
    return url.rstrip("/")


def _token_auth(
    api_key: str | None,
    secret_key: str | None,
    signing: Signing,
) -> httpx.Auth:
    api_key = api_key or os.environ.get(ENV_API_KEY)
    secret_key = secret_key or os.environ.get(ENV_SECRET_KEY)
    missing = [
        f"{name} (or {env})"
        for name, value, env in (
            ("api_key", api_key, ENV_API_KEY),
            ("secret_key", secret_key, ENV_SECRET_KEY),
        )
        if not value or not value.strip()
    ]
    if missing or api_key is None or secret_key is None:
        raise ConfigurationError(
            f"missing {' and '.join(missing)}: pass them to the client or set "
            "the environment variables, or pass auth= to authenticate otherwise"
        )

    return TokenAuth(api_key, secret_key, signing=signing)


def _check_http_client(
    http_client: object,
    pool_type: type[httpx.Client | httpx.AsyncClient],
    transport: object,
) -> None:
    """Refuse an ``http_client`` the client cannot use.

    A pool passed in brings its own transport, so ``transport=`` beside it is
    a mistake; and a sync pool cannot serve the async client, nor the reverse.
    """
    if http_client is None:
        return
    if transport is not None:
        raise ConfigurationError("pass transport= or http_client=, not both")
    if not isinstance(http_client, pool_type):
        raise ConfigurationError(f"http_client must be an httpx.{pool_type.__name__}")


class FaceClient(_BaseClient):
    """The face recognition API v2, one method per operation.

    ``api_key``, ``secret_key`` and ``base_url`` fall back to the
    ``FACEKIT_API_KEY``, ``FACEKIT_SECRET_KEY`` and ``FACEKIT_BASE_URL``
    environment variables; the base URL defaults to Baidu's cloud
    (``https://aip.baidubce.com``) and may point at facekit's local server.
    ``app_id`` is kept for reference; the v2 API does not send it.

    ``plugins`` default to ``[RetryPlugin(), LoggingPlugin()]``; pass ``[]``
    for none.  ``auth`` replaces the token authentication (any
    ``httpx.Auth``); ``signing`` is passed to it (see ``facekit._auth``).
    ``verify`` turns TLS verification off only when ``False`` is passed.
    ``transport`` (for example ``httpx.MockTransport``) or a whole
    ``http_client`` may be given; a client passed in is not closed by
    :meth:`close`, as it belongs to the caller.

    Every method checks its arguments before any I/O (raising one
    :class:`~facekit.ValidationError` that lists every bad field), returns
    the typed result, and raises a :class:`~facekit.FaceKitError` on every
    failure.
    """

    _http: httpx.Client

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        app_id: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        hooks: Hooks | None = None,
        plugins: Iterable[Plugin] | None = None,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        auth: httpx.Auth | None = None,
        signing: Literal["auto", "always", "never"] = "auto",
    ) -> None:
        super().__init__(
            api_key,
            secret_key,
            app_id,
            base_url=base_url,
            hooks=hooks,
            plugins=plugins,
            auth=auth,
            signing=signing,
        )
        _check_http_client(http_client, httpx.Client, transport)
        self._owns_http = http_client is None
        if http_client is None:
            http_client = httpx.Client(
                timeout=timeout, verify=verify, transport=transport, headers=_headers()
            )
        self._http = http_client

    def close(self) -> None:
        """Close the connection pool (unless the caller passed ``http_client``)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, prepared: PreparedCall[T]) -> T:
        call = _Call(self.hooks, prepared, self._build)
        while True:
            request = call.start()
            error: FaceKitError
            try:
                result = call.received(self._http.send(request, auth=self._auth))
            except httpx.RequestError as exc:
                error = _transport_error(exc)
            except FaceKitError as exc:
                error = exc
            else:
                return call.succeeded(result)

            decision = call.failed(error)
            if decision is None:
                raise error
            decision.sleep(decision.delay)

    # -- operations, in the order of the reference document -------------------

    def detect(
        self,
        image: ImageInput,
        *,
        max_face_num: int | None = None,
        face_fields: str | Sequence[str] | None = None,
    ) -> DetectResult:
        """Detect faces and their attributes in one image."""
        return self._send(
            _requests.detect(image, max_face_num=max_face_num, face_fields=face_fields)
        )

    def match(self, images: Sequence[ImageInput]) -> MatchResult:
        """Score every pair of faces among two or more images."""
        return self._send(_requests.match(images))

    def add_user(
        self, uid: str, user_info: str, group_id: GroupIds, image: Images
    ) -> LogIdResult:
        """Register a user's faces (up to 5 images) in one or more groups."""
        return self._send(_requests.add_user(uid, user_info, group_id, image))

    def update_user(
        self,
        uid: str,
        image: Images,
        *,
        user_info: str | None = None,
        group_id: GroupIds | None = None,
    ) -> LogIdResult:
        """Replace all faces of an existing user."""
        return self._send(
            _requests.update_user(uid, image, user_info=user_info, group_id=group_id)
        )

    def delete_user(self, uid: str) -> LogIdResult:
        """Delete a user, its faces and its group memberships."""
        return self._send(_requests.delete_user(uid))

    def verify_user(
        self,
        uid: str,
        image: Images,
        *,
        top_num: int | None = None,
        group_id: GroupIds | None = None,
    ) -> VerifyResult:
        """Score how well the images match one user (above 80: verified)."""
        return self._send(
            _requests.verify_user(uid, image, top_num=top_num, group_id=group_id)
        )

    def identify_user(
        self,
        group_id: GroupIds,
        image: Images,
        *,
        user_top_num: int | None = None,
        face_top_num: int | None = None,
    ) -> IdentifyResult:
        """Find the users of the groups most like the face."""
        return self._send(
            _requests.identify_user(
                group_id, image, user_top_num=user_top_num, face_top_num=face_top_num
            )
        )

    def get_user(self, uid: str) -> UserResult:
        """Read a user's information and groups."""
        return self._send(_requests.get_user(uid))

    def get_group_list(
        self, *, start: int | None = None, num: int | None = None
    ) -> GroupListResult:
        """List the application's groups, a page at a time."""
        return self._send(_requests.get_group_list(start=start, num=num))

    def get_group_users(
        self, group_id: str, *, start: int | None = None, num: int | None = None
    ) -> GroupUsersResult:
        """List the users of one group, a page at a time."""
        return self._send(_requests.get_group_users(group_id, start=start, num=num))

    def add_group_user(
        self, group_id: GroupIds, uid: str, *, src_group_id: str | None = None
    ) -> LogIdResult:
        """Put an existing user into more groups."""
        return self._send(
            _requests.add_group_user(group_id, uid, src_group_id=src_group_id)
        )

    def delete_group_user(self, group_id: str, uid: str) -> LogIdResult:
        """Take a user out of one group (not its last)."""
        return self._send(_requests.delete_group_user(group_id, uid))


class AsyncFaceClient(_BaseClient):
    """The face recognition API v2 for asyncio; see :class:`FaceClient`.

    The same methods, as coroutines, over one ``httpx.AsyncClient``.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        api_key: str | None = None,
        secret_key: str | None = None,
        app_id: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        hooks: Hooks | None = None,
        plugins: Iterable[Plugin] | None = None,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        signing: Literal["auto", "always", "never"] = "auto",
    ) -> None:
        super().__init__(
            api_key,
            secret_key,
            app_id,
            base_url=base_url,
            hooks=hooks,
            plugins=plugins,
            auth=auth,
            signing=signing,
        )
        _check_http_client(http_client, httpx.AsyncClient, transport)
        self._owns_http = http_client is None
        if http_client is None:
            http_client = httpx.AsyncClient(
                timeout=timeout, verify=verify, transport=transport, headers=_headers()
            )
        self._http = http_client

    async def aclose(self) -> None:
        """Close the connection pool (unless the caller passed ``http_client``)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, prepared: PreparedCall[T]) -> T:
        call = _Call(self.hooks, prepared, self._build)
        while True:
            request = call.start()
            error: FaceKitError
            try:
                result = call.received(await self._http.send(request, auth=self._auth))
            except httpx.RequestError as exc:
                error = _transport_error(exc)
            except FaceKitError as exc:
                error = exc
            else:
                return call.succeeded(result)

            decision = call.failed(error)
            if decision is None:
                raise error
            await decision.asleep(decision.delay)

    # -- operations, in the order of the reference document -------------------

    async def detect(
        self,
        image: ImageInput,
        *,
        max_face_num: int | None = None,
        face_fields: str | Sequence[str] | None = None,
    ) -> DetectResult:
        """Detect faces and their attributes in one image."""
        return await self._send(
            _requests.detect(image, max_face_num=max_face_num, face_fields=face_fields)
        )

    async def match(self, images: Sequence[ImageInput]) -> MatchResult:
        """Score every pair of faces among two or more images."""
        return await self._send(_requests.match(images))

    async def add_user(
        self, uid: str, user_info: str, group_id: GroupIds, image: Images
    ) -> LogIdResult:
        """Register a user's faces (up to 5 images) in one or more groups."""
        return await self._send(_requests.add_user(uid, user_info, group_id, image))

    async def update_user(
        self,
        uid: str,
        image: Images,
        *,
        user_info: str | None = None,
        group_id: GroupIds | None = None,
    ) -> LogIdResult:
        """Replace all faces of an existing user."""
        return await self._send(
            _requests.update_user(uid, image, user_info=user_info, group_id=group_id)
        )

    async def delete_user(self, uid: str) -> LogIdResult:
        """Delete a user, its faces and its group memberships."""
        return await self._send(_requests.delete_user(uid))

    async def verify_user(
        self,
        uid: str,
        image: Images,
        *,
        top_num: int | None = None,
        group_id: GroupIds | None = None,
    ) -> VerifyResult:
        """Score how well the images match one user (above 80: verified)."""
        return await self._send(
            _requests.verify_user(uid, image, top_num=top_num, group_id=group_id)
        )

    async def identify_user(
        self,
        group_id: GroupIds,
        image: Images,
        *,
        user_top_num: int | None = None,
        face_top_num: int | None = None,
    ) -> IdentifyResult:
        """Find the users of the groups most like the face."""
        return await self._send(
            _requests.identify_user(
                group_id, image, user_top_num=user_top_num, face_top_num=face_top_num
            )
        )

    async def get_user(self, uid: str) -> UserResult:
        """Read a user's information and groups."""
        return await self._send(_requests.get_user(uid))

    async def get_group_list(
        self, *, start: int | None = None, num: int | None = None
    ) -> GroupListResult:
        """List the application's groups, a page at a time."""
        return await self._send(_requests.get_group_list(start=start, num=num))

    async def get_group_users(
        self, group_id: str, *, start: int | None = None, num: int | None = None
    ) -> GroupUsersResult:
        """List the users of one group, a page at a time."""
        return await self._send(
            _requests.get_group_users(group_id, start=start, num=num)
        )

    async def add_group_user(
        self, group_id: GroupIds, uid: str, *, src_group_id: str | None = None
    ) -> LogIdResult:
        """Put an existing user into more groups."""
        return await self._send(
            _requests.add_group_user(group_id, uid, src_group_id=src_group_id)
        )

    async def delete_group_user(self, group_id: str, uid: str) -> LogIdResult:
        """Take a user out of one group (not its last)."""
        return await self._send(_requests.delete_group_user(group_id, uid))
