"""facekit._auth: the token cache, its single refresher, 110/111 and signing."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Hashable
from datetime import UTC, datetime

import httpx
import pytest

from facekit._auth import TokenAuth
from facekit._errors import AuthenticationError, ResponseFormatError
from facekit._signing import verify_request

API_KEY = "ak_0123456789abcdefghij"
SECRET_KEY = "sk_zyxwvutsrqponmlkjihg"
BASE = "http://testserver"
GROUP_LIST = "/rest/2.0/face/v2/faceset/group/getlist"
TOKEN_PATH = "/oauth/2.0/token"
OK_BODY = {"log_id": 3314921889, "result_num": 2, "result": ["grp1", "grp2"]}
WAIT = 10.0  # generous upper bound for event waits; never reached when passing


class FakeClock:
    """A monotonic clock the test moves by hand; it also notes who reads it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._readers: set[Hashable] = set()
        self._changed = threading.Condition()
        self.on_read: Callable[[int], None] | None = None

    def __call__(self) -> float:
        with self._changed:
            self._readers.add(_caller())
            count = len(self._readers)
            self._changed.notify_all()
        if self.on_read is not None:
            self.on_read(count)
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wait_for_readers(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: len(self._readers) >= count, timeout=WAIT
            )


def _caller() -> Hashable:
    try:
        task = asyncio.current_task()
    except RuntimeError:
        task = None
    return task if task is not None else threading.get_ident()


def token_body(
    value: str, *, expires_in: int = 2592000, scope: str = "public brain_all_scope"
) -> dict[str, object]:
    return {"access_token": value, "expires_in": expires_in, "scope": scope}


class FakeServer:
    """Answers the token endpoint and the face API, counting every request."""

    def __init__(self, tokens: list[httpx.Response] | None = None) -> None:
        self.tokens = tokens or [httpx.Response(200, json=token_body("T1"))]
        self.token_requests: list[httpx.Request] = []
        self.api_requests: list[httpx.Request] = []
        self.api: Callable[[httpx.Request], httpx.Response] = lambda request: (
            httpx.Response(200, json=OK_BODY)
        )
        self.lock = threading.Lock()
        self.before_token: Callable[[], object] | None = None

    def issue(self) -> httpx.Response:
        with self.lock:
            index = min(len(self.token_requests) - 1, len(self.tokens) - 1)
            return self.tokens[index]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            with self.lock:
                self.token_requests.append(request)
            if self.before_token is not None:
                self.before_token()
            return self.issue()
        with self.lock:
            self.api_requests.append(request)
        return self.api(request)


SyncHandler = Callable[[httpx.Request], httpx.Response]
AsyncHandler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


def sync_client(server: SyncHandler, auth: TokenAuth) -> httpx.Client:
    return httpx.Client(base_url=BASE, transport=httpx.MockTransport(server), auth=auth)


def async_client(
    server: SyncHandler | AsyncHandler, auth: TokenAuth
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(server), auth=auth
    )


def make_auth(clock: FakeClock, **kwargs: object) -> TokenAuth:
    return TokenAuth(API_KEY, SECRET_KEY, clock=clock, **kwargs)  # type: ignore[arg-type]


def post(client: httpx.Client) -> httpx.Response:
    return client.post(GROUP_LIST, data={"start": "0", "num": "100"})


def error_body(code: int) -> dict[str, object]:
    return {"error_code": code, "error_msg": "Access token invalid", "log_id": 1}


# -- fetching and caching ------------------------------------------------------


def test_fetches_one_token_then_uses_the_cache() -> None:
    clock, server = FakeClock(), FakeServer()
    with sync_client(server, make_auth(clock)) as client:
        responses = [post(client) for _ in range(3)]

    assert [r.json() for r in responses] == [OK_BODY] * 3
    assert len(server.token_requests) == 1
    assert [r.url.params["access_token"] for r in server.api_requests] == ["T1"] * 3
    token_request = server.token_requests[0]
    assert token_request.method == "GET"
    assert dict(token_request.url.params) == {
        "grant_type": "client_credentials",
        "client_id": API_KEY,
        "client_secret": SECRET_KEY,
    }


def test_keeps_the_request_query_and_body() -> None:
    clock, server = FakeClock(), FakeServer()
    with sync_client(server, make_auth(clock)) as client:
        client.post(GROUP_LIST, params={"aipSdk": "python"}, data={"num": "5"})

    sent = server.api_requests[0]
    assert sent.url.params["aipSdk"] == "python"
    assert sent.url.params["access_token"] == "T1"
    assert sent.content == b"num=5"


def test_each_url_gets_its_own_query_and_the_url_caches_stay_small() -> None:
    clock, server = FakeClock(), FakeServer()
    auth = make_auth(clock)
    with sync_client(server, auth) as client:
        for n in range(600):
            client.post(GROUP_LIST, params={"n": str(n % 300)})

    assert [
        (r.url.params["n"], r.url.params["access_token"]) for r in server.api_requests
    ] == [(str(n % 300), "T1") for n in range(600)]
    assert len(server.token_requests) == 1
    assert len(auth._token_urls) <= 256
    assert len(auth._urls_with_token) <= 256


def test_relative_token_url_follows_the_request_origin() -> None:
    clock, server = FakeClock(), FakeServer()
    auth = make_auth(clock)
    transport = httpx.MockTransport(server)
    with (
        httpx.Client(base_url="http://127.0.0.1:8000", transport=transport) as local,
        httpx.Client(base_url="https://aip.example", transport=transport) as cloud,
    ):
        local.post(GROUP_LIST, auth=auth)
        cloud.post(GROUP_LIST, auth=auth)
        local.post(GROUP_LIST, auth=auth)

    # One token per server: a token of one is never sent to the other.
    assert [str(r.url.copy_with(query=None)) for r in server.token_requests] == [
        "http://127.0.0.1:8000/oauth/2.0/token",
        "https://aip.example/oauth/2.0/token",
    ]


def test_absolute_token_url_is_used_as_given() -> None:
    clock, server = FakeClock(), FakeServer()
    auth = make_auth(clock, token_url="https://login.example/oauth/2.0/token")
    with sync_client(server, auth) as client:
        post(client)

    assert server.token_requests[0].url.host == "login.example"


def test_token_request_inherits_the_client_timeout() -> None:
    clock, server = FakeClock(), FakeServer()
    transport = httpx.MockTransport(server)
    auth = make_auth(clock)
    with httpx.Client(base_url=BASE, transport=transport, timeout=3.5) as client:
        client.post(GROUP_LIST, auth=auth)

    timeout = server.token_requests[0].extensions["timeout"]
    assert timeout == httpx.Timeout(3.5).as_dict()


def test_refreshes_once_ahead_of_expiry() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1", expires_in=3600)),
            httpx.Response(200, json=token_body("T2", expires_in=3600)),
        ]
    )
    with sync_client(server, make_auth(clock, refresh_margin=300)) as client:
        post(client)
        clock.advance(3600 - 300 - 1)
        post(client)
        assert len(server.token_requests) == 1

        clock.advance(2)
        post(client)
        post(client)
        clock.advance(1000)
        post(client)

    assert len(server.token_requests) == 2
    tokens = [r.url.params["access_token"] for r in server.api_requests]
    assert tokens == ["T1", "T1", "T2", "T2", "T2"]


def test_short_tokens_refresh_at_half_their_lifetime() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1", expires_in=60)),
            httpx.Response(200, json=token_body("T2", expires_in=60)),
        ]
    )
    with sync_client(server, make_auth(clock, refresh_margin=300)) as client:
        post(client)
        clock.advance(29)
        post(client)
        assert len(server.token_requests) == 1
        clock.advance(2)
        post(client)

    assert len(server.token_requests) == 2


def test_expired_token_is_refreshed_once() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1", expires_in=3600)),
            httpx.Response(200, json=token_body("T2", expires_in=3600)),
        ]
    )
    with sync_client(server, make_auth(clock)) as client:
        post(client)
        clock.advance(7200)
        post(client)
        post(client)

    assert len(server.token_requests) == 2


def test_invalidate_forgets_the_token() -> None:
    clock, server = FakeClock(), FakeServer()
    auth = make_auth(clock)
    with sync_client(server, auth) as client:
        post(client)
        auth.invalidate()
        post(client)

    assert len(server.token_requests) == 2


def test_failed_early_refresh_keeps_the_current_token() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1", expires_in=3600)),
            httpx.Response(502, text="<html>bad gateway</html>"),
        ]
    )
    with sync_client(server, make_auth(clock, refresh_margin=300)) as client:
        post(client)
        clock.advance(3400)
        assert post(client).json() == OK_BODY
        post(client)
        # The retry waits until halfway to expiry: not on every request.
        assert len(server.token_requests) == 2

        clock.advance(300)
        with pytest.raises(ResponseFormatError):
            post(client)

    assert [r.url.params["access_token"] for r in server.api_requests] == ["T1"] * 3


def test_callers_do_not_wait_for_an_early_refresh() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1", expires_in=3600)),
            httpx.Response(200, json=token_body("T2", expires_in=3600)),
        ]
    )
    refreshing, release = threading.Event(), threading.Event()
    with sync_client(server, make_auth(clock)) as client:
        post(client)
        clock.advance(3400)

        def hold_the_refresh() -> None:
            refreshing.set()
            release.wait(WAIT)

        server.before_token = hold_the_refresh
        refresher = threading.Thread(target=post, args=(client,))
        refresher.start()
        assert refreshing.wait(WAIT)

        other_done = threading.Event()

        def other_caller() -> None:
            post(client)
            other_done.set()

        other = threading.Thread(target=other_caller)
        other.start()
        finished_while_refreshing = other_done.wait(WAIT)
        release.set()
        refresher.join(WAIT)
        other.join(WAIT)

    assert finished_while_refreshing
    assert len(server.token_requests) == 2
    assert sorted(r.url.params["access_token"] for r in server.api_requests) == [
        "T1",
        "T1",
        "T2",
    ]


# -- exactly one refresher -------------------------------------------------------


def test_sixteen_threads_fetch_one_token() -> None:
    clock, server = FakeClock(), FakeServer()
    release = threading.Event()
    server.before_token = lambda: release.wait(WAIT)
    barrier = threading.Barrier(16)
    results: list[int] = []
    failures: list[BaseException] = []

    with sync_client(server, make_auth(clock)) as client:

        def worker() -> None:
            try:
                barrier.wait(WAIT)
                results.append(post(client).status_code)
            except BaseException as error:  # reported by the assertion below
                failures.append(error)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        # Every thread has read the clock, found no token and gone for the
        # lock while the one fetch is held open: the race is really run.
        all_waiting = clock.wait_for_readers(16)
        release.set()
        for thread in threads:
            thread.join(WAIT)

    assert all_waiting
    assert failures == []
    assert results == [200] * 16
    assert len(server.token_requests) == 1
    assert len(server.api_requests) == 16


async def test_fifty_tasks_fetch_one_token() -> None:
    clock = FakeClock()
    release = asyncio.Event()
    all_read = asyncio.Event()
    clock.on_read = lambda count: all_read.set() if count >= 50 else None
    token_requests: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            token_requests.append(request)
            await release.wait()
            return httpx.Response(200, json=token_body("T1"))
        return httpx.Response(200, json=OK_BODY)

    async def releaser() -> None:
        await all_read.wait()
        release.set()

    async with async_client(handler, make_auth(clock)) as client:
        gathered = asyncio.gather(
            releaser(),
            *(client.post(GROUP_LIST) for _ in range(50)),
        )
        _, *responses = await asyncio.wait_for(gathered, WAIT)

    assert [r.status_code for r in responses if r is not None] == [200] * 50
    assert len(token_requests) == 1


async def test_each_event_loop_gets_its_own_lock() -> None:
    clock, server = FakeClock(), FakeServer()
    auth = make_auth(clock)

    def in_new_loop() -> int:
        async def call() -> int:
            async with async_client(server, auth) as client:
                return (await client.post(GROUP_LIST)).status_code

        return asyncio.run(call())

    async with async_client(server, auth) as client:
        await client.post(GROUP_LIST)
    auth.invalidate()
    # A lock bound to this test's loop would raise in another loop.
    assert await asyncio.to_thread(in_new_loop) == 200
    assert len(server.token_requests) == 2


def test_failed_fetch_releases_the_lock() -> None:
    clock, server = FakeClock(), FakeServer()
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            attempts.append(request)
            if len(attempts) == 1:
                raise httpx.ConnectError("refused", request=request)
        return server(request)

    with sync_client(handler, make_auth(clock)) as client:
        with pytest.raises(httpx.ConnectError):
            post(client)
        assert post(client).status_code == 200


async def test_failed_fetch_releases_the_async_lock() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(
                401, json={"error": "invalid_client", "error_description": "x"}
            ),
            httpx.Response(200, json=token_body("T1")),
        ]
    )
    async with async_client(server, make_auth(clock)) as client:
        with pytest.raises(AuthenticationError):
            await client.post(GROUP_LIST)
        response = await asyncio.wait_for(client.post(GROUP_LIST), WAIT)

    assert response.status_code == 200


# -- 110 / 111: refresh once, replay once -----------------------------------------


def two_tokens() -> FakeServer:
    return FakeServer(
        [
            httpx.Response(200, json=token_body("T1")),
            httpx.Response(200, json=token_body("T2")),
            httpx.Response(200, json=token_body("T3")),
        ]
    )


@pytest.mark.parametrize("code", [110, 111])
def test_refused_token_is_refreshed_and_the_request_replayed(code: int) -> None:
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: (
        httpx.Response(200, json=error_body(code))
        if request.url.params["access_token"] == "T1"
        else httpx.Response(200, json=OK_BODY)
    )
    with sync_client(server, make_auth(clock)) as client:
        response = post(client)

    assert response.json() == OK_BODY
    assert len(server.token_requests) == 2
    assert [r.url.params["access_token"] for r in server.api_requests] == ["T1", "T2"]
    assert [r.content for r in server.api_requests] == [b"start=0&num=100"] * 2


@pytest.mark.parametrize("code", [110, 111])
def test_refused_twice_returns_the_error_without_looping(code: int) -> None:
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: httpx.Response(200, json=error_body(code))
    with sync_client(server, make_auth(clock)) as client:
        response = post(client)

    assert response.json()["error_code"] == code
    assert len(server.token_requests) == 2
    assert len(server.api_requests) == 2


@pytest.mark.parametrize("code", [110, 111])
async def test_refused_token_is_replayed_once_async(code: int) -> None:
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: httpx.Response(200, json=error_body(code))
    async with async_client(server, make_auth(clock)) as client:
        response = await client.post(GROUP_LIST)

    assert response.json()["error_code"] == code
    assert len(server.token_requests) == 2
    assert [r.url.params["access_token"] for r in server.api_requests] == ["T1", "T2"]


def test_code_as_string_counts_too() -> None:
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: (
        httpx.Response(200, json={"error_code": "110", "error_msg": "x"})
        if request.url.params["access_token"] == "T1"
        else httpx.Response(200, json=OK_BODY)
    )
    with sync_client(server, make_auth(clock)) as client:
        assert post(client).json() == OK_BODY


def test_other_errors_are_not_replayed() -> None:
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: httpx.Response(200, json=error_body(18))
    with sync_client(server, make_auth(clock)) as client:
        post(client)

    assert len(server.token_requests) == 1
    assert len(server.api_requests) == 1


def test_many_refusals_of_one_token_refresh_it_once() -> None:
    clock, server = FakeClock(), two_tokens()
    revoked = threading.Event()
    server.api = lambda request: (
        httpx.Response(200, json=error_body(110))
        if revoked.is_set() and request.url.params["access_token"] == "T1"
        else httpx.Response(200, json=OK_BODY)
    )
    barrier = threading.Barrier(8)
    results: list[object] = []

    with sync_client(server, make_auth(clock)) as client:
        post(client)
        revoked.set()

        def worker() -> None:
            barrier.wait(WAIT)
            results.append(post(client).json())

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)

    assert results == [OK_BODY] * 8
    assert len(server.token_requests) == 2


# -- token endpoint errors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "description"),
    [
        (401, "invalid_client", "unknown client id"),
        (401, "invalid_client", "Client authentication failed"),
        (
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported",
        ),
    ],
)
def test_token_endpoint_errors_raise_authentication_error(
    status: int, error: str, description: str
) -> None:
    clock = FakeClock()
    body = {"error": error, "error_description": description}
    server = FakeServer([httpx.Response(status, json=body)])
    with (
        sync_client(server, make_auth(clock)) as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        post(client)

    assert raised.value.error_code == error
    assert raised.value.error_msg == description
    assert description in str(raised.value)
    assert server.api_requests == []


def test_non_json_token_answer_is_a_format_error() -> None:
    clock = FakeClock()
    # A broken proxy that echoes the URL it was asked for.
    page = f"<html>502 for ?client_id={API_KEY}&client_secret={SECRET_KEY}</html>"
    server = FakeServer([httpx.Response(502, text=page)])
    with (
        sync_client(server, make_auth(clock)) as client,
        pytest.raises(ResponseFormatError) as raised,
    ):
        post(client)

    assert raised.value.status_code == 502
    assert SECRET_KEY not in str(raised.value)
    assert API_KEY not in str(raised.value)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"access_token": "", "expires_in": 10, "scope": ""},
        {"access_token": "T1", "expires_in": "soon", "scope": ""},
        {"access_token": "T1", "expires_in": 0, "scope": ""},
        ["T1"],
    ],
)
def test_malformed_token_answer_is_a_format_error(body: object) -> None:
    clock = FakeClock()
    server = FakeServer([httpx.Response(200, json=body)])
    with (
        sync_client(server, make_auth(clock)) as client,
        pytest.raises(ResponseFormatError) as raised,
    ):
        post(client)

    assert "T1" not in str(raised.value)


# -- BCE signing ---------------------------------------------------------------------


def assert_signed(request: httpx.Request) -> None:
    assert "access_token" not in request.url.params
    assert request.headers["x-bce-date"]
    access_key = verify_request(
        authorization=request.headers["authorization"],
        method=request.method,
        path=request.url.path,
        params=request.url.params.multi_items(),
        headers=dict(request.headers),
        secret_for=lambda key: SECRET_KEY if key == API_KEY else None,
        now=datetime.now(UTC),
    )
    assert access_key == API_KEY
    assert "/host;x-bce-date/" in request.headers["authorization"]


def signing_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "facekit.auth" and r.levelno == logging.INFO
    ]


def test_scope_without_brain_all_scope_signs_requests(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="facekit.auth")
    clock = FakeClock()
    server = FakeServer([httpx.Response(200, json=token_body("T1", scope="public"))])
    with sync_client(server, make_auth(clock)) as client:
        post(client)
        client.post(GROUP_LIST, params={"aipSdk": "python"}, data={"num": "1"})

    for request in server.api_requests:
        assert_signed(request)
    (record,) = signing_records(caplog)
    message = record.getMessage()
    assert "brain_all_scope" in message
    assert "signing='auto'" in message
    assert "signing='never'" in message


def test_signing_always_needs_no_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="facekit.auth")
    clock, server = FakeClock(), FakeServer()
    with sync_client(server, make_auth(clock, signing="always")) as client:
        post(client)
        post(client)

    assert server.token_requests == []
    for request in server.api_requests:
        assert_signed(request)
    (record,) = signing_records(caplog)
    assert "signing='always'" in record.getMessage()


async def test_signing_works_async() -> None:
    clock = FakeClock()
    server = FakeServer([httpx.Response(200, json=token_body("T1", scope="public"))])
    async with async_client(server, make_auth(clock)) as client:
        await client.post(GROUP_LIST)

    assert_signed(server.api_requests[0])


def test_signing_never_sends_the_token_anyway(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="facekit.auth")
    clock = FakeClock()
    server = FakeServer([httpx.Response(200, json=token_body("T1", scope="public"))])
    with sync_client(server, make_auth(clock, signing="never")) as client:
        post(client)
        post(client)

    for request in server.api_requests:
        assert request.url.params["access_token"] == "T1"
        assert "authorization" not in request.headers
    (record,) = signing_records(caplog)
    assert "signing='never'" in record.getMessage()


def test_full_scope_is_not_signed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="facekit.auth")
    clock, server = FakeClock(), FakeServer()
    with sync_client(server, make_auth(clock)) as client:
        post(client)

    assert "authorization" not in server.api_requests[0].headers
    assert signing_records(caplog) == []


def test_replay_is_signed_when_the_new_token_lacks_the_scope() -> None:
    clock = FakeClock()
    server = FakeServer(
        [
            httpx.Response(200, json=token_body("T1")),
            httpx.Response(200, json=token_body("T2", scope="public")),
        ]
    )
    server.api = lambda request: (
        httpx.Response(200, json=error_body(110))
        if "access_token" in request.url.params
        else httpx.Response(200, json=OK_BODY)
    )
    with sync_client(server, make_auth(clock)) as client:
        assert post(client).json() == OK_BODY

    assert_signed(server.api_requests[1])


# -- credentials stay out of logs, errors and repr ---------------------------------


def test_no_credential_in_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    clock, server = FakeClock(), two_tokens()
    server.api = lambda request: (
        httpx.Response(200, json=error_body(110))
        if request.url.params.get("access_token") == "T1"
        else httpx.Response(200, json=OK_BODY)
    )
    with sync_client(server, make_auth(clock, refresh_margin=300)) as client:
        post(client)  # fetch T1, refused, fetch T2, replay
        clock.advance(2592000)
        post(client)  # expired: fetch T3

    narrow = FakeServer([httpx.Response(200, json=token_body("T9", scope="public"))])
    with sync_client(narrow, make_auth(clock)) as client:
        post(client)

    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP Request" in m and "***" in m for m in messages)
    assert any(r.name == "facekit.auth" for r in caplog.records)
    for message in messages:
        for secret in (API_KEY, SECRET_KEY, "T1", "T2", "T3", "T9"):
            assert secret not in message


def test_repr_masks_credentials() -> None:
    auth = TokenAuth(API_KEY, SECRET_KEY)
    text = repr(auth)
    assert SECRET_KEY not in text
    assert API_KEY not in text
    assert "signing='auto'" in text
    assert SECRET_KEY not in repr(TokenAuth("short", SECRET_KEY))


def test_the_httpx_log_filter_masks_credential_parameters() -> None:
    TokenAuth(API_KEY, SECRET_KEY)  # installs the filter

    def logged(url: str) -> str:
        record = logging.LogRecord(
            "httpx", logging.INFO, __file__, 0, "%s", (httpx.URL(url),), None
        )
        assert logging.getLogger("httpx").filter(record)
        return record.getMessage()

    url = (
        f"{BASE}{TOKEN_PATH}?grant_type=client_credentials&client_id=a&client_secret=b"
    )
    assert logged(url) == (
        f"{BASE}{TOKEN_PATH}?grant_type=client_credentials&client_id=***&client_secret=***"
    )
    assert (
        logged(f"{BASE}/x?access_token=t&num=1") == f"{BASE}/x?access_token=***&num=1"
    )
    assert logged(f"{BASE}/x") == f"{BASE}/x"
    assert (
        logged(f"{BASE}/x?access%5Ftoken=t&client%5fsecret=s")
        == f"{BASE}/x?access%5Ftoken=***&client%5fsecret=***"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"api_key": "", "secret_key": SECRET_KEY},
        {"api_key": API_KEY, "secret_key": "  "},
        {"api_key": API_KEY, "secret_key": SECRET_KEY, "signing": "sometimes"},
        {"api_key": API_KEY, "secret_key": SECRET_KEY, "refresh_margin": -1},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError) as raised:
        TokenAuth(**kwargs)  # type: ignore[arg-type]
    assert SECRET_KEY not in str(raised.value)
