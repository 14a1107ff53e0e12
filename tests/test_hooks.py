"""Hooks: order, identity, plugins; retries; logging with credentials redacted."""

from __future__ import annotations

import base64
import logging
import random
from typing import Any

import httpx
import pytest
from _facade import (
    API_KEY,
    JPEG,
    PNG,
    SECRET_KEY,
    TOKEN,
    FakeService,
    error_body,
    make_async_client,
    make_client,
)

import facekit
from facekit import CallContext, Event, Hooks, RetryDecision, RetryPlugin, redact

# -- Hooks ---------------------------------------------------------------------


def context() -> CallContext:
    return CallContext("getUser")


def recorder(log: list[str], name: str) -> Any:
    def handler(context: CallContext) -> None:
        log.append(name)

    return handler


def test_handlers_run_first_then_ordinary_then_last_each_in_registration_order() -> (
    None
):
    hooks = Hooks()
    log: list[str] = []

    hooks.register(Event.ON_ERROR, recorder(log, "normal-1"))
    hooks.register(Event.ON_ERROR, recorder(log, "last-1"), last=True)
    hooks.register(Event.ON_ERROR, recorder(log, "first-1"), first=True)
    hooks.register("on-error", recorder(log, "normal-2"))
    hooks.register(Event.ON_ERROR, recorder(log, "first-2"), first=True)
    hooks.register(Event.ON_ERROR, recorder(log, "last-2"), last=True)
    hooks.emit(Event.ON_ERROR, context())

    assert log == ["first-1", "first-2", "normal-1", "normal-2", "last-1", "last-2"]


def test_a_unique_id_registers_once_and_unregisters_by_id() -> None:
    hooks = Hooks()
    log: list[str] = []

    hooks.register(Event.BEFORE_REQUEST, recorder(log, "a"), unique_id="x")
    hooks.register(Event.BEFORE_REQUEST, recorder(log, "b"), unique_id="x")
    hooks.emit(Event.BEFORE_REQUEST, context())
    hooks.unregister(Event.BEFORE_REQUEST, unique_id="x")
    hooks.emit(Event.BEFORE_REQUEST, context())

    assert log == ["a"]
    assert hooks.handlers(Event.BEFORE_REQUEST) == ()


def test_unregister_by_handler_and_unknown_handlers_are_fine() -> None:
    hooks = Hooks()
    log: list[str] = []
    handler = recorder(log, "h")

    hooks.register(Event.AFTER_CALL, handler)
    hooks.unregister(Event.AFTER_CALL, handler)
    hooks.unregister(Event.AFTER_CALL, handler)
    hooks.emit(Event.AFTER_CALL, context())

    assert log == []


def test_mistakes_in_registration_are_refused() -> None:
    hooks = Hooks()

    with pytest.raises(ValueError):
        hooks.register("before-requets", recorder([], "typo"))
    with pytest.raises(ValueError):
        hooks.register(Event.ON_ERROR, recorder([], "x"), first=True, last=True)
    with pytest.raises(ValueError):
        hooks.unregister(Event.ON_ERROR)


def test_emit_returns_the_answers_that_are_not_none() -> None:
    hooks = Hooks()
    decision = RetryDecision(0.5)

    hooks.register(Event.ON_ERROR, lambda c: None)
    hooks.register(Event.ON_ERROR, lambda c: decision)

    assert hooks.emit(Event.ON_ERROR, context()) == [decision]


def test_plugins_register_themselves() -> None:
    hooks = Hooks()

    class Counting:
        def __init__(self) -> None:
            self.calls = 0

        def register(self, hooks: Hooks) -> None:
            hooks.register(Event.AFTER_CALL, self.count, unique_id="counting")

        def count(self, context: CallContext) -> None:
            self.calls += 1

    plugin = Counting()
    assert isinstance(plugin, facekit.Plugin)
    service = FakeService()
    client = make_client(service, hooks=hooks, plugins=[plugin, plugin])

    client.get_user("u1")
    client.delete_user("u1")

    assert plugin.calls == 2
    assert client.hooks is hooks


def test_default_plugins_retry_and_log() -> None:
    client = facekit.FaceClient(API_KEY, SECRET_KEY, transport=FakeService().transport)

    assert [h.__self__.__class__ for h in client.hooks.handlers(Event.ON_ERROR)] == [  # type: ignore[attr-defined]
        RetryPlugin
    ]
    assert [h.__self__.__class__ for h in client.hooks.handlers(Event.AFTER_CALL)] == [  # type: ignore[attr-defined]
        facekit.LoggingPlugin
    ]


def test_the_events_of_one_retried_call_come_in_order() -> None:
    service = FakeService()
    service.queue("getUser", error_body(18, "qps"))
    hooks = Hooks()
    log: list[str] = []
    for event in Event:
        hooks.register(event, recorder(log, f"{event}:last"), last=True)
        hooks.register(event, recorder(log, f"{event}:normal"))
        hooks.register(event, recorder(log, f"{event}:first"), first=True)
    sleeps: list[float] = []
    retry = RetryPlugin(jitter=lambda: 0.5, sleep=sleeps.append)

    make_client(service, hooks=hooks, plugins=[retry]).get_user("u1")

    def group(event: str) -> list[str]:
        return [f"{event}:first", f"{event}:normal", f"{event}:last"]

    assert log == (
        group("before-request")
        + group("after-response")
        + group("on-error")
        + group("on-retry")
        + group("before-request")
        + group("after-response")
        + group("after-call")
    )
    assert sleeps == [0.1]


def test_handlers_see_the_context_of_the_call() -> None:
    service = FakeService()
    service.queue("deleteUser", error_body(216611, "user not exist", log_id=9))
    seen: list[tuple[str, str, int, Any]] = []
    hooks = Hooks()

    def watch(event: str) -> Any:
        def handler(context: CallContext) -> None:
            assert context.request is not None
            assert context.request.url.path.endswith("/faceset/user/delete")
            seen.append((event, context.operation, context.attempt, context.error))

        return handler

    for event in Event:
        hooks.register(event, watch(event))

    with pytest.raises(facekit.NotFoundError) as caught:
        make_client(service, hooks=hooks).delete_user("u1")

    assert [s[:3] for s in seen] == [
        ("before-request", "deleteUser", 1),
        ("after-response", "deleteUser", 1),
        ("on-error", "deleteUser", 1),
        ("after-call", "deleteUser", 1),
    ]
    assert seen[-1][3] is caught.value


# -- RetryPlugin -----------------------------------------------------------------


def test_backoff_is_full_jitter_exponential_and_capped() -> None:
    plugin = RetryPlugin(max_attempts=10, base_delay=0.2, max_delay=1.0)

    assert [plugin.ceiling(n) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert RetryPlugin(max_attempts=10**6).ceiling(10**6) == 5.0


def test_qps_limits_are_retried_with_seeded_jittered_growing_capped_delays() -> None:
    service = FakeService()
    service.queue("getUser", *[error_body(18, "qps")] * 4)
    sleeps: list[float] = []
    retry = RetryPlugin(
        max_attempts=5,
        base_delay=0.1,
        max_delay=0.3,
        jitter=random.Random(2024).random,
        sleep=sleeps.append,
    )

    result = make_client(service, plugins=[retry]).get_user("u1")

    draws = random.Random(2024)
    ceilings = [0.1, 0.2, 0.3, 0.3]
    assert sleeps == pytest.approx([c * draws.random() for c in ceilings])
    assert all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert isinstance(result, facekit.UserResult)
    assert len(service.requests) == 5


def test_with_full_jitter_at_one_the_delays_grow_to_the_cap() -> None:
    service = FakeService()
    service.queue("getUser", *[error_body(4, "cluster limit")] * 4)
    sleeps: list[float] = []
    retry = RetryPlugin(
        max_attempts=5,
        base_delay=0.1,
        max_delay=0.3,
        jitter=lambda: 1.0,
        sleep=sleeps.append,
    )

    make_client(service, plugins=[retry]).get_user("u1")

    assert sleeps == pytest.approx([0.1, 0.2, 0.3, 0.3])


def test_attempts_are_bounded() -> None:
    service = FakeService()
    service.queue("getUser", *[error_body(18, "qps")] * 10)
    sleeps: list[float] = []

    with pytest.raises(facekit.RateLimitError):
        make_client(service, plugins=[RetryPlugin(3, sleep=sleeps.append)]).get_user(
            "u"
        )

    assert len(service.requests) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("code", [17, 19])
def test_quotas_are_never_retried(code: int) -> None:
    service = FakeService()
    service.queue("getUser", error_body(code, "quota"))
    sleeps: list[float] = []

    with pytest.raises(facekit.QuotaExceededError):
        make_client(service, plugins=[RetryPlugin(5, sleep=sleeps.append)]).get_user(
            "u"
        )

    assert len(service.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("code", [216100, 216612, 216616, 6, 14, 999999])
def test_errors_a_retry_cannot_fix_are_not_retried(code: int) -> None:
    service = FakeService()
    service.queue("getUser", error_body(code))
    sleeps: list[float] = []

    with pytest.raises(facekit.APIError):
        make_client(service, plugins=[RetryPlugin(5, sleep=sleeps.append)]).get_user(
            "u"
        )

    assert len(service.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("cut"),
        httpx.Response(502, text="<html>Bad Gateway</html>"),
        error_body(216300, "db error"),
    ],
    ids=["connect", "timeout", "protocol", "gateway", "db-error"],
)
def test_transport_failures_and_retryable_codes_are_retried(failure: Any) -> None:
    service = FakeService()
    service.queue("getUser", failure, failure)
    sleeps: list[float] = []

    result = make_client(
        service, plugins=[RetryPlugin(3, sleep=sleeps.append)]
    ).get_user("u")

    assert isinstance(result, facekit.UserResult)
    assert len(sleeps) == 2


def test_a_garbled_200_is_not_retried() -> None:
    service = FakeService()
    service.queue("getUser", httpx.Response(200, text="<html>portal login</html>"))
    sleeps: list[float] = []

    with pytest.raises(facekit.ResponseFormatError):
        make_client(service, plugins=[RetryPlugin(3, sleep=sleeps.append)]).get_user(
            "u"
        )

    assert sleeps == []


def test_timeouts_that_persist_end_as_request_timeout_errors() -> None:
    service = FakeService()
    service.queue("getUser", *[httpx.ConnectTimeout("slow")] * 3)
    sleeps: list[float] = []

    with pytest.raises(facekit.RequestTimeoutError) as caught:
        make_client(service, plugins=[RetryPlugin(3, sleep=sleeps.append)]).get_user(
            "u"
        )

    assert caught.value.error_code == "SDK108"
    assert isinstance(caught.value.__cause__, httpx.ConnectTimeout)
    assert len(sleeps) == 2


def test_a_custom_on_error_handler_can_decide_to_retry() -> None:
    service = FakeService()
    service.queue("getUser", error_body(216100, "flaky proxy"))
    sleeps: list[float] = []
    hooks = Hooks()

    def once(context: CallContext) -> RetryDecision | None:
        return RetryDecision(0.0, sleep=sleeps.append) if context.attempt == 1 else None

    hooks.register(Event.ON_ERROR, once)

    make_client(service, hooks=hooks).get_user("u")

    assert sleeps == [0.0]


async def test_the_async_client_retries_with_its_own_sleep() -> None:
    service = FakeService()
    service.queue("getUser", error_body(18, "qps"), httpx.ReadTimeout("slow"))
    service.queue("detect", error_body(17, "daily quota"))
    slept: list[float] = []

    async def asleep(delay: float) -> None:
        slept.append(delay)

    def never(delay: float) -> None:
        raise AssertionError("the async client must not block")

    retry = RetryPlugin(3, jitter=lambda: 1.0, sleep=never, asleep=asleep)
    async with make_async_client(service, plugins=[retry]) as client:
        result = await client.get_user("u1")
        with pytest.raises(facekit.QuotaExceededError):
            await client.detect(JPEG)

    assert isinstance(result, facekit.UserResult)
    assert slept == pytest.approx([0.2, 0.4])
    assert service.operations() == ["getUser"] * 3 + ["detect"]


# -- logging and redaction -------------------------------------------------------


def test_redact_masks_credentials_wherever_they_appear() -> None:
    texts = {
        f"https://h/x?access_token={TOKEN}&a=1": "https://h/x?access_token=***&a=1",
        f"/oauth/2.0/token?client_id={API_KEY}&client_secret={SECRET_KEY}": (
            "/oauth/2.0/token?client_id=***&client_secret=***"
        ),
        f'{{"access_token": "{TOKEN}", "expires_in": 1}}': (
            '{"access_token": "***", "expires_in": 1}'
        ),
        "{'authorization': 'bce-auth-v1/ak/2015/1800/host/abc'}": (
            "{'authorization': '***'}"
        ),
        "Authorization: Bearer abc.def": "Authorization: ***",
        "signed bce-auth-v1/AK/2015-04-27T08:23:49Z/1800/host/sig": (
            "signed bce-auth-v1/***"
        ),
        "nothing secret here": "nothing secret here",
    }

    for text, expected in texts.items():
        assert redact(text) == expected


def test_one_info_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    service = FakeService()
    service.queue("deleteUser", error_body(216612, "user not exist", log_id=31))
    caplog.set_level(logging.INFO, logger="facekit")
    client = make_client(service, plugins=[facekit.LoggingPlugin()])

    client.get_user("u1")
    with pytest.raises(facekit.NotFoundError):
        client.delete_user("u1")
    with pytest.raises(facekit.ValidationError):
        client.delete_user("not valid")

    lines = [r for r in caplog.records if r.name == "facekit"]
    assert [r.levelno for r in lines] == [logging.INFO, logging.INFO]
    assert lines[0].getMessage().startswith("getUser ok in ")
    assert "deleteUser NotFoundError 216612" in lines[1].getMessage()
    assert "log_id 31" in lines[1].getMessage()
    assert "attempts 1" in lines[1].getMessage()
    assert " ms" in lines[1].getMessage()


def test_a_whole_scenario_logs_no_credentials_and_no_images(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = FakeService()
    service.queue("addUser", error_body(216616, "image exist", log_id=5))
    service.queue("identifyUser", error_body(18, "qps"))
    service.queue("getUser", httpx.ConnectError(f"refused for ?access_token={TOKEN}"))
    caplog.set_level(logging.DEBUG)
    retry = RetryPlugin(3, sleep=lambda delay: None)
    client = make_client(service, plugins=[retry, facekit.LoggingPlugin()])

    client.detect(JPEG, face_fields=["age", "beauty"])
    client.match([JPEG, PNG])
    with pytest.raises(facekit.ConflictError):
        client.add_user("uid1", "private info", "g1", [JPEG])
    client.identify_user("g1", PNG)
    client.get_user("uid1")

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (API_KEY, SECRET_KEY, TOKEN):
        assert secret not in text
    for image in (JPEG, PNG):
        assert base64.b64encode(image).decode()[:16] not in text
    assert "private info" not in text
    assert service.token_requests == 1
    calls = [
        r for r in caplog.records if r.name == "facekit" and r.levelno == logging.INFO
    ]
    assert len(calls) == 5
    assert [r.getMessage().split()[0] for r in calls] == [
        "detect",
        "match",
        "addUser",
        "identifyUser",
        "getUser",
    ]
    assert "attempts 2" in calls[3].getMessage()
    assert "attempts 2" in calls[4].getMessage()
