"""Faults the client survives, each produced for real where it can be.

API-level faults come from the real local server (with a model-free
engine), through its own fault injection or a :class:`FaultGate` in front of
it: tokens expiring on the server's clock, 110 and 111 storms, QPS limits and
quotas.
Network faults come from a raw asyncio server on a loopback port that
misbehaves on purpose (never answers, answers a gateway's HTML, cuts the body
short, hangs up) and from a listening socket whose backlog is full.

Every retry's wait goes through a recording ``sleep``: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import select
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx
import pytest
from _faultkit import (
    TOKEN_PATH,
    AsyncCountingTransport,
    CountingTransport,
    GatedServer,
    Recorder,
    gated_server,
)

import facekit
from facekit import _spec
from facekit._auth import TokenAuth
from facekit._hooks import Event, is_retryable
from facekit.compat import AipFace

API_KEY = "ak_faults_0123456789abcdef"
SECRET_KEY = "sk_faults_fedcba9876543210"
RAW_TOKEN = "24.raw-server-token.2592000.1.1-1"
LIFETIME = 3600
WAIT = 10.0


class WallClock:
    """Seconds since the epoch, moved by hand (the server's TokenIssuer clock)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sync_client(
    server: GatedServer, recorder: Recorder, **options: object
) -> facekit.FaceClient:
    options.setdefault("plugins", [])
    return facekit.FaceClient(
        server.api_key,
        server.secret_key,
        base_url=server.base_url,
        transport=CountingTransport(recorder),
        **options,  # type: ignore[arg-type]
    )


def async_client(
    server: GatedServer, recorder: Recorder, **options: object
) -> facekit.AsyncFaceClient:
    options.setdefault("plugins", [])
    return facekit.AsyncFaceClient(
        server.api_key,
        server.secret_key,
        base_url=server.base_url,
        transport=AsyncCountingTransport(recorder, server.transport),
        **options,  # type: ignore[arg-type]
    )


def recording_retry(
    slept: list[float], max_attempts: int = 3, **options: object
) -> facekit.RetryPlugin:
    async def asleep(delay: float) -> None:
        slept.append(delay)

    return facekit.RetryPlugin(
        max_attempts,
        sleep=slept.append,
        asleep=asleep,
        **options,  # type: ignore[arg-type]
    )


# -- tokens that expire in the middle of a run -----------------------------------------


def test_a_token_the_server_expires_mid_run_costs_exactly_one_new_token(
    tmp_path: Path,
) -> None:
    clock, recorder = WallClock(), Recorder()
    with (
        gated_server(tmp_path / "f.db", clock=clock, token_lifetime=LIFETIME) as server,
        sync_client(server, recorder) as client,
    ):
        for _ in range(3):
            client.get_group_list()
        # The client's own clock has not moved: only the server knows.
        clock.advance(LIFETIME + 1)
        for _ in range(3):
            client.get_group_list()

    assert recorder.token_fetches == 2
    assert recorder.codes() == [None] * 3 + [111] + [None] * 3
    first, second = recorder.tokens
    assert [e.access_token for e in recorder.face_requests] == (
        [first] * 4 + [second] * 3
    )


def test_a_token_near_expiry_is_replaced_before_the_server_refuses_it(
    tmp_path: Path,
) -> None:
    # One clock for both sides, as if client and server shared the same time.
    clock, recorder = WallClock(), Recorder()
    with gated_server(
        tmp_path / "f.db", clock=clock, token_lifetime=LIFETIME
    ) as server:
        auth = TokenAuth(
            server.api_key, server.secret_key, refresh_margin=300, clock=clock
        )
        with sync_client(server, recorder, auth=auth) as client:
            client.get_group_list()
            clock.advance(LIFETIME - 100)  # inside the refresh margin
            client.get_group_list()
            clock.advance(200)  # the first token has expired by now
            client.get_group_list()

    assert recorder.token_fetches == 2
    assert recorder.codes() == [None, None, None]


async def test_concurrent_callers_share_one_new_token_when_the_server_expires_it(
    tmp_path: Path,
) -> None:
    clock, recorder = WallClock(), Recorder()
    with gated_server(
        tmp_path / "f.db", http=False, clock=clock, token_lifetime=LIFETIME
    ) as server:
        async with async_client(server, recorder) as client:
            await client.get_group_list()
            clock.advance(LIFETIME + 1)
            answers = await asyncio.gather(
                *(client.get_group_list() for _ in range(16))
            )

    assert all(answer.result == [] for answer in answers)
    assert recorder.token_fetches == 2
    refused = recorder.codes().count(111)
    assert 1 <= refused <= 16
    assert len(recorder.face_requests) == 1 + 16 + refused


# -- 110 and 111 storms ----------------------------------------------------------------


@pytest.mark.parametrize("code", [110, 111])
def test_a_token_storm_costs_one_refresh_per_call_and_ends_in_a_clear_error(
    tmp_path: Path, code: int
) -> None:
    recorder = Recorder()
    slept: list[float] = []
    with (
        gated_server(tmp_path / "f.db") as server,
        sync_client(server, recorder, plugins=[recording_retry(slept)]) as client,
    ):
        client.get_group_list()
        server.gate.arm(code)
        errors = []
        for _ in range(3):
            with pytest.raises(facekit.AuthenticationError) as raised:
                client.get_group_list()
            errors.append(raised.value)
        server.gate.disarm()
        after_storm = recorder.token_fetches
        client.get_group_list()

    # One token at the start, then one refresh for each refused call.
    assert after_storm == 1 + 3
    assert recorder.token_fetches == after_storm
    # Each call: the request and its one replay with the new token, no more.
    assert recorder.codes() == [None] + [code, code] * 3 + [None]
    assert slept == []
    for error in errors:
        assert error.error_code == code
        assert error.error_msg == _spec.error_codes()[code].message
        assert str(code) in str(error)


@pytest.mark.parametrize("code", [110, 111])
def test_concurrent_callers_in_a_token_storm_do_not_stampede(
    tmp_path: Path, code: int
) -> None:
    callers = 16
    recorder = Recorder()
    failures: list[BaseException] = []
    with (
        gated_server(tmp_path / "f.db") as server,
        sync_client(server, recorder) as client,
    ):
        client.get_group_list()
        # Every caller is refused before any of them hears back.
        server.gate.arm(code, hold=callers)

        def call() -> None:
            try:
                client.get_group_list()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=call) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert not any(thread.is_alive() for thread in threads)

    assert len(failures) == callers
    assert all(isinstance(f, facekit.AuthenticationError) for f in failures)
    assert all(getattr(f, "error_code", None) == code for f in failures)
    # The first token, then one refresh that all sixteen share.
    assert recorder.token_fetches == 2
    assert recorder.codes()[1:] == [code] * (2 * callers)
    old, new = recorder.tokens
    tokens = Counter(e.access_token for e in recorder.face_requests[1:])
    assert tokens == {old: callers, new: callers}


# -- QPS limits and quotas -------------------------------------------------------------


def test_a_qps_limit_for_a_while_is_retried_with_backoff_then_succeeds(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    slept: list[float] = []
    retry = recording_retry(slept, 4, base_delay=0.2, jitter=random.Random(5).random)
    with (
        gated_server(tmp_path / "f.db") as server,
        sync_client(server, recorder, plugins=[retry]) as client,
    ):
        server.gate.arm(18, remaining=2)
        groups = client.get_group_list()

    assert groups.result == []
    assert recorder.codes() == [18, 18, None]
    jitter = random.Random(5)
    assert slept == [
        retry.ceiling(1) * jitter.random(),
        retry.ceiling(2) * jitter.random(),
    ]
    assert retry.ceiling(1) == 0.2
    assert retry.ceiling(2) == 0.4


async def test_a_qps_limit_that_never_ends_is_a_rate_limit_error(
    tmp_path: Path,
) -> None:
    recorder = Recorder()
    slept: list[float] = []
    with gated_server(
        tmp_path / "f.db", http=False, inject={18: 1.0}, inject_seed=1
    ) as server:
        retry = recording_retry(slept, 4)
        async with async_client(server, recorder, plugins=[retry]) as client:
            with pytest.raises(facekit.RateLimitError) as raised:
                await client.get_group_list()

    assert type(raised.value) is facekit.RateLimitError
    assert raised.value.error_code == 18
    assert raised.value.retryable
    assert recorder.codes() == [18] * 4
    assert len(slept) == 3
    assert all(0 <= delay < retry.ceiling(n + 1) for n, delay in enumerate(slept))


@pytest.mark.parametrize("code", [17, 19])
def test_quotas_are_never_retried(tmp_path: Path, code: int) -> None:
    recorder = Recorder()
    slept: list[float] = []
    with (
        gated_server(tmp_path / "f.db", inject={code: 1.0}, inject_seed=1) as server,
        sync_client(server, recorder, plugins=[recording_retry(slept, 5)]) as client,
        pytest.raises(facekit.QuotaExceededError) as raised,
    ):
        client.get_group_list()

    assert raised.value.error_code == code
    assert recorder.codes() == [code]
    assert slept == []


def test_the_retry_plugin_gets_through_a_server_refusing_half_the_calls(
    tmp_path: Path,
) -> None:
    seed, calls = 2024, 40
    # The server draws once per face request from Random(seed); replay the
    # draws to know exactly which requests it refuses.
    draws = random.Random(seed)
    refused = [draws.random() < 0.5 for _ in range(4 * calls)]
    longest = max(len(list(run)) for value, run in itertools.groupby(refused) if value)
    recorder = Recorder()
    slept: list[float] = []
    retry = recording_retry(slept, longest + 1)
    with (
        gated_server(tmp_path / "f.db", inject={18: 0.5}, inject_seed=seed) as server,
        sync_client(server, recorder, plugins=[retry]) as client,
    ):
        answers = [client.get_group_list() for _ in range(calls)]

    assert all(answer.result == [] for answer in answers)
    sent = len(recorder.face_requests)
    assert recorder.codes() == [18 if r else None for r in refused[:sent]]
    assert recorder.codes().count(None) == calls
    assert len(slept) == recorder.codes().count(18)


# -- a misbehaving server on a loopback port -------------------------------------------


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


@dataclass(frozen=True)
class Reply:
    """Bytes to write, then close the connection or hang until the client leaves."""

    data: bytes = b""
    then: Literal["close", "hang"] = "close"


def http_response(
    status: int,
    body: bytes,
    *,
    reason: str = "OK",
    content_type: str = "application/json",
    length: int | None = None,
) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TOKEN_REPLY = Reply(
    http_response(
        200,
        json.dumps(
            {
                "access_token": RAW_TOKEN,
                "expires_in": 2592000,
                "scope": "brain_all_scope",
            }
        ).encode(),
    )
)


@dataclass
class RawServer:
    """An asyncio server in a thread: the token endpoint, then ``fault`` for the rest.

    Each connection serves one request and is then closed (or left hanging),
    so every attempt of a client arrives on a new connection and is counted.
    """

    fault: Callable[[RawRequest], Reply]
    requests: list[RawRequest] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._ready = threading.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def face_requests(self) -> list[RawRequest]:
        return [r for r in self.requests if r.path != TOKEN_PATH]

    def __enter__(self) -> RawServer:
        self._thread.start()
        assert self._ready.wait(WAIT)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(WAIT)
        assert not self._thread.is_alive()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await _read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            reply = TOKEN_REPLY if request.path == TOKEN_PATH else self.fault(request)
            writer.write(reply.data)
            await writer.drain()
            if reply.then == "hang":
                await reader.read()  # until the client gives up and closes
        except ConnectionError:
            pass
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def _read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    first, *lines = head.decode("latin-1").split("\r\n")
    method, target, _ = first.split(" ", 2)
    headers = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, target, headers, body)


def raw_client(server: RawServer, slept: list[float]) -> facekit.FaceClient:
    return facekit.FaceClient(
        API_KEY,
        SECRET_KEY,
        base_url=server.base_url,
        timeout=5.0,
        plugins=[recording_retry(slept, 3)],
    )


def answer_once_then_hang() -> Callable[[RawRequest], Reply]:
    """Answer the first face request, then never again.

    The first call caches the token with a generous timeout; only then does
    the test shorten the read timeout, so that what times out is a face
    request and never the token request, however busy the machine.
    """
    answered = threading.Event()
    groups = http_response(200, b'{"log_id": 1, "result_num": 0, "result": []}')

    def fault(request: RawRequest) -> Reply:
        if answered.is_set():
            return Reply(then="hang")
        answered.set()
        return Reply(groups)

    return fault


SHORT_READ = httpx.Timeout(5.0, read=0.25)


def test_a_server_that_never_answers_is_a_retried_read_timeout() -> None:
    slept: list[float] = []
    with (
        RawServer(answer_once_then_hang()) as server,
        raw_client(server, slept) as client,
    ):
        client.get_group_list()
        client.timeout = SHORT_READ
        with pytest.raises(facekit.RequestTimeoutError) as raised:
            client.get_group_list()

    assert raised.value.error_code == "SDK108"
    assert "SDK108" in str(raised.value)
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)
    assert len(server.face_requests) == 1 + 3
    assert len(slept) == 2
    assert server.errors == []


async def test_the_async_client_retries_a_read_timeout_too() -> None:
    slept: list[float] = []
    with RawServer(answer_once_then_hang()) as server:
        async with facekit.AsyncFaceClient(
            API_KEY,
            SECRET_KEY,
            base_url=server.base_url,
            plugins=[recording_retry(slept, 2)],
        ) as client:
            await client.get_group_list()
            client.timeout = SHORT_READ
            with pytest.raises(facekit.RequestTimeoutError):
                await client.get_group_list()

    assert len(server.face_requests) == 1 + 2
    assert len(slept) == 1


def test_the_compat_client_reports_a_read_timeout_as_sdk108() -> None:
    with RawServer(answer_once_then_hang()) as server:
        aip = AipFace("app", API_KEY, SECRET_KEY, base_url=server.base_url)
        try:
            assert aip.getGroupList()["result"] == []
            aip.setSocketTimeoutInMillis(250)
            answer = aip.getGroupList()
        finally:
            aip.close()

    assert answer["error_code"] == "SDK108"
    assert len(server.face_requests) == 1 + 1  # the old SDK retried nothing


@contextlib.contextmanager
def full_backlog() -> Iterator[str]:
    """The URL of a loopback listener whose accept queue is full.

    The listener never accepts; connections fill its backlog until the
    kernel starts dropping SYNs, after which a connect can only time out.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(16):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(address)
            # A handshake on loopback takes microseconds; one still pending
            # after 0.2 s means the queue is full.
            _, connected, _ = select.select([], [filler], [], 0.2)
            if not connected:
                yield f"http://127.0.0.1:{address[1]}"
                return
        pytest.skip("this kernel kept accepting connections into a listen(0) backlog")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_a_connect_timeout_is_a_retried_request_timeout_error() -> None:
    slept: list[float] = []
    attempts: list[int] = []
    with full_backlog() as base_url:
        client = facekit.FaceClient(
            API_KEY,
            SECRET_KEY,
            base_url=base_url,
            timeout=httpx.Timeout(5.0, connect=0.2),
            plugins=[recording_retry(slept, 3)],
            signing="always",  # no token request: the face request connects
        )
        client.hooks.register(
            Event.BEFORE_REQUEST, lambda context: attempts.append(context.attempt)
        )
        with client, pytest.raises(facekit.RequestTimeoutError) as raised:
            client.get_group_list()

    assert isinstance(raised.value.__cause__, httpx.ConnectTimeout)
    assert raised.value.error_code == "SDK108"
    assert attempts == [1, 2, 3]
    assert len(slept) == 2


HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


@pytest.mark.parametrize(
    ("reply", "status", "retried"),
    [
        (
            Reply(
                http_response(
                    502, HTML_502, reason="Bad Gateway", content_type="text/html"
                )
            ),
            502,
            True,
        ),
        (Reply(http_response(200, b"")), 200, False),
        (
            Reply(
                http_response(
                    200, b'{"log_id": 7, "result_num": 2, "result": ["g1", "g'
                )
            ),
            200,
            False,
        ),
        (Reply(http_response(503, b"")), 503, True),
    ],
    ids=["html-502", "empty-200", "truncated-json-200", "empty-503"],
)
def test_bodies_that_are_not_json_are_response_format_errors(
    reply: Reply, status: int, retried: bool
) -> None:
    slept: list[float] = []
    with (
        RawServer(lambda request: reply) as server,
        raw_client(server, slept) as client,
        pytest.raises(facekit.ResponseFormatError) as raised,
    ):
        client.get_group_list()

    error = raised.value
    assert error.status_code == status
    assert is_retryable(error) is retried
    assert len(server.face_requests) == (3 if retried else 1)
    # The decoder's traceback is not the caller's business.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert len(error.body_excerpt) <= 130


MID_RESPONSE = {
    "half-the-body": http_response(200, b'{"log_id": 7, "result_num": 0,', length=200),
    "half-a-chunked-body": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n40\r\n" + b'{"log_id": 7, ' + b" " * 10
    ),
    "headers-only": http_response(200, b"", length=64),
    "no-answer": b"",
}


@pytest.mark.parametrize("data", MID_RESPONSE.values(), ids=MID_RESPONSE.keys())
def test_a_connection_closed_mid_response_is_a_transport_error(data: bytes) -> None:
    slept: list[float] = []
    with (
        RawServer(lambda request: Reply(data)) as server,
        raw_client(server, slept) as client,
        pytest.raises(facekit.TransportError) as raised,
    ):
        client.get_group_list()

    error = raised.value
    assert type(error) is facekit.TransportError
    assert isinstance(error.__cause__, httpx.RemoteProtocolError)
    assert str(error).startswith("RemoteProtocolError: ")
    assert len(server.face_requests) == 3
    assert len(slept) == 2
    assert server.errors == []


async def test_the_async_client_maps_a_cut_body_the_same_way() -> None:
    slept: list[float] = []
    with RawServer(lambda request: Reply(MID_RESPONSE["half-the-body"])) as server:
        async with facekit.AsyncFaceClient(
            API_KEY,
            SECRET_KEY,
            base_url=server.base_url,
            plugins=[recording_retry(slept, 2)],
        ) as client:
            with pytest.raises(facekit.TransportError) as raised:
                await client.get_group_list()

    assert type(raised.value) is facekit.TransportError
    assert isinstance(raised.value.__cause__, httpx.RemoteProtocolError)
    assert len(server.face_requests) == 2
