"""FaceClient and AsyncFaceClient: configuration, the pool, results, failures."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from _facade import (
    API_KEY,
    JPEG,
    OPERATIONS,
    SECRET_KEY,
    VALID_CALLS,
    FakeService,
    make_async_client,
    make_client,
    success_example,
)
from hypothesis import given
from hypothesis import strategies as st

import facekit
from facekit import _requests
from facekit._client import _encode_form

ENV = ("FACEKIT_API_KEY", "FACEKIT_SECRET_KEY", "FACEKIT_BASE_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


# -- configuration ---------------------------------------------------------------


def test_keys_and_base_url_fall_back_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FACEKIT_API_KEY", API_KEY)
    monkeypatch.setenv("FACEKIT_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("FACEKIT_BASE_URL", "http://127.0.0.1:8000/")
    service = FakeService()

    with facekit.FaceClient(transport=service.transport, plugins=[]) as client:
        client.get_user("u1")

    assert client.base_url == "http://127.0.0.1:8000"
    assert str(service.requests[0].url).startswith(
        "http://127.0.0.1:8000/rest/2.0/face/v2/faceset/user/get?"
    )
    assert service.token_requests == 1


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACEKIT_API_KEY", "wrong-key")
    monkeypatch.setenv("FACEKIT_BASE_URL", "http://127.0.0.1:9/")
    service = FakeService()

    client = make_client(service, base_url="http://localhost:8000")
    client.get_user("u1")

    assert service.requests[0].url.host == "localhost"


def test_the_default_base_url_is_the_cloud() -> None:
    service = FakeService()

    make_client(service).get_user("u1")

    assert (
        facekit.FaceClient(API_KEY, SECRET_KEY).base_url == "https://aip.baidubce.com"
    )
    assert str(service.requests[0].url).startswith("https://aip.baidubce.com/rest/")


@pytest.mark.parametrize(
    "keys",
    [
        (None, None),
        (API_KEY, None),
        (None, SECRET_KEY),
        ("", SECRET_KEY),
        (API_KEY, " "),
    ],
)
def test_missing_keys_are_a_configuration_error(
    keys: tuple[str | None, str | None],
) -> None:
    with pytest.raises(facekit.ConfigurationError) as caught:
        facekit.FaceClient(*keys)

    assert isinstance(caught.value, ValueError)
    assert "FACEKIT_" in str(caught.value)
    assert SECRET_KEY not in str(caught.value)


def test_auth_replaces_the_keys() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["x-test-auth"])
        return httpx.Response(200, json=success_example("getUser"))

    class HeaderAuth(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Any:
            request.headers["x-test-auth"] = "yes"
            yield request

    client = facekit.FaceClient(
        transport=httpx.MockTransport(handler), auth=HeaderAuth(), plugins=[]
    )

    assert isinstance(client.get_user("u1"), facekit.UserResult)
    assert seen == ["yes"]


@pytest.mark.parametrize(
    "url", ["aip.baidubce.com", "ftp://host", "http://h/?a=1", "http://"]
)
def test_a_base_url_must_be_http(url: str) -> None:
    with pytest.raises(facekit.ConfigurationError):
        facekit.FaceClient(API_KEY, SECRET_KEY, base_url=url)


def test_tls_is_verified_unless_asked_otherwise() -> None:
    def verify_mode(client: facekit.FaceClient) -> ssl.VerifyMode:
        transport = client._http._transport
        assert isinstance(transport, httpx.HTTPTransport)
        pool: Any = transport._pool
        context: ssl.SSLContext = pool._ssl_context
        return context.verify_mode

    checked = facekit.FaceClient(API_KEY, SECRET_KEY)
    unchecked = facekit.FaceClient(API_KEY, SECRET_KEY, verify=False)

    assert verify_mode(checked) == ssl.CERT_REQUIRED
    assert verify_mode(unchecked) == ssl.CERT_NONE
    checked.close()
    unchecked.close()


def test_the_repr_shows_no_credentials() -> None:
    client = facekit.FaceClient(API_KEY, SECRET_KEY, "app-1")

    assert API_KEY not in repr(client)
    assert SECRET_KEY not in repr(client)
    assert client.app_id == "app-1"


def test_the_timeout_is_a_setting_of_the_pool() -> None:
    client = make_client(FakeService(), timeout=12.0)

    assert client.timeout == httpx.Timeout(12.0)
    client.timeout = httpx.Timeout(5.0, connect=2.0)
    assert client._http.timeout == httpx.Timeout(5.0, connect=2.0)


# -- the pool -------------------------------------------------------------------------


def test_one_pool_serves_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    service = FakeService()
    client = make_client(service)
    pool = client._http
    built: list[object] = []
    original = httpx.Client.__init__

    def counting(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", counting)

    for _ in range(3):
        client.get_user("u1")
        client.get_group_list()

    assert built == []
    assert client._http is pool
    assert service.token_requests == 1


def test_the_context_manager_closes_the_pool() -> None:
    with make_client(FakeService()) as client:
        client.get_user("u1")

    assert client._http.is_closed
    with pytest.raises(RuntimeError):
        client.get_user("u1")


def test_a_pool_passed_in_belongs_to_the_caller() -> None:
    service = FakeService()
    pool = httpx.Client(transport=service.transport)

    with facekit.FaceClient(
        API_KEY, SECRET_KEY, http_client=pool, plugins=[]
    ) as client:
        client.get_user("u1")

    assert not pool.is_closed
    assert len(service.requests) == 1
    pool.close()
    with pytest.raises(facekit.ConfigurationError):
        facekit.FaceClient(
            API_KEY, SECRET_KEY, http_client=pool, transport=service.transport
        )


# -- typed results for every operation ------------------------------------------------


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_returns_its_typed_result(operation_id: str) -> None:
    service = FakeService()
    args, kwargs = VALID_CALLS[operation_id]
    method = OPERATIONS[operation_id][1]

    result = getattr(make_client(service), method)(*args, **kwargs)

    assert isinstance(result, _requests.OPERATIONS[operation_id].result_type)
    assert result.to_dict() == success_example(operation_id)
    assert service.operations() == [operation_id]


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
async def test_every_async_operation_returns_its_typed_result(
    operation_id: str,
) -> None:
    service = FakeService()
    args, kwargs = VALID_CALLS[operation_id]
    method = OPERATIONS[operation_id][1]

    async with make_async_client(service) as client:
        result = await getattr(client, method)(*args, **kwargs)

    assert isinstance(result, _requests.OPERATIONS[operation_id].result_type)
    assert result.to_dict() == success_example(operation_id)
    assert client._http.is_closed


def test_sync_and_async_clients_offer_the_same_methods() -> None:
    def methods(cls: type) -> set[str]:
        return {name for name in vars(cls) if not name.startswith("_")}

    operations = {method for _, method in OPERATIONS.values()}
    assert operations <= methods(facekit.FaceClient)
    assert methods(facekit.FaceClient) - {"close"} == methods(
        facekit.AsyncFaceClient
    ) - {"aclose"}


def test_results_carry_the_values_of_the_answer() -> None:
    service = FakeService()
    client = make_client(service)

    user = client.get_user("testuser2")
    faces = client.detect(JPEG)
    scores = client.verify_user("uid1", JPEG)

    assert user.result.groups == ["grp1", "grp2", "grp3"]
    assert faces.result[0].location.width == 111
    assert scores.result == [93.86580657959, 92.237548828125]


# -- failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timeout",
    [httpx.ConnectTimeout("c"), httpx.ReadTimeout("r"), httpx.PoolTimeout("p")],
)
def test_timeouts_are_request_timeout_errors(timeout: httpx.TimeoutException) -> None:
    service = FakeService()
    service.queue("getUser", timeout)

    with pytest.raises(facekit.RequestTimeoutError) as caught:
        make_client(service).get_user("u1")

    assert caught.value.error_code == "SDK108"
    assert "connection or read data time out" in str(caught.value)
    assert caught.value.__cause__ is timeout


def test_other_transport_failures_are_transport_errors() -> None:
    service = FakeService()
    failure = httpx.ConnectError("connection refused")
    service.queue("getUser", failure)

    with pytest.raises(facekit.TransportError) as caught:
        make_client(service).get_user("u1")

    assert not isinstance(caught.value, facekit.RequestTimeoutError)
    assert caught.value.__cause__ is failure


async def test_the_async_client_maps_failures_the_same_way() -> None:
    service = FakeService()
    service.queue(
        "getUser", httpx.ReadTimeout("r"), {"error_code": 216612, "error_msg": "x"}
    )

    async with make_async_client(service) as client:
        with pytest.raises(facekit.RequestTimeoutError):
            await client.get_user("u1")
        with pytest.raises(facekit.NotFoundError):
            await client.get_user("u1")
        with pytest.raises(facekit.ValidationError):
            await client.get_user("u 1")

    assert len(service.requests) == 2


def test_token_endpoint_failures_are_authentication_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oauth/2.0/token", "no face request without a token"
        return httpx.Response(
            401,
            json={"error": "invalid_client", "error_description": "unknown client id"},
        )

    client = facekit.FaceClient(
        API_KEY, SECRET_KEY, transport=httpx.MockTransport(handler), plugins=[]
    )

    with pytest.raises(facekit.AuthenticationError):
        client.get_user("u1")


def test_validation_happens_before_any_request() -> None:
    calls: list[Callable[[facekit.FaceClient], object]] = [
        lambda c: c.detect(b"not an image"),
        lambda c: c.match([JPEG]),
        lambda c: c.add_user("u", "i", "g", []),
        lambda c: c.update_user("", JPEG),
        lambda c: c.delete_user("a b"),
        lambda c: c.verify_user("u", JPEG, top_num=0),
        lambda c: c.identify_user("g!", JPEG),
        lambda c: c.get_user("ü"),
        lambda c: c.get_group_list(num=0),
        lambda c: c.get_group_users("g", start=-1),
        lambda c: c.add_group_user("g", "u", src_group_id="a,b"),
        lambda c: c.delete_group_user("g", "u\n"),
    ]
    service = FakeService()
    client = make_client(service)

    for call in calls:
        with pytest.raises(facekit.ValidationError):
            call(client)

    assert service.requests == []
    assert service.token_requests == 0


@pytest.mark.parametrize(
    "prepared",
    [
        _requests.add_user("uid1", "中文 & ü=1", ["g1", "g2"], [JPEG, JPEG]),
        _requests.detect(JPEG, max_face_num=3, face_fields=["age", "race"]),
        _requests.identify_user("g1", [JPEG], user_top_num=2),
        _requests.get_group_list(),
    ],
    ids=["add_user", "detect", "identify_user", "get_group_list"],
)
def test_the_fast_request_path_sends_what_build_request_would(
    prepared: _requests.PreparedCall[Any],
) -> None:
    service = FakeService()
    own = make_client(service)
    pool = httpx.Client(transport=service.transport, headers=own._http.headers)
    passed = facekit.FaceClient(API_KEY, SECRET_KEY, http_client=pool, plugins=[])

    fast = own._build(prepared)
    general = passed._build(prepared)

    assert fast.method == general.method
    assert fast.url == general.url
    assert fast.read() == general.read()
    assert sorted(fast.headers.multi_items()) == sorted(general.headers.multi_items())


_FORM_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("%+ =/&?#~-._\x00\x7f")
)


@given(
    st.dictionaries(
        _FORM_TEXT,
        _FORM_TEXT
        | st.integers()
        | st.booleans()
        | st.lists(_FORM_TEXT | st.integers(), max_size=3),
        max_size=4,
    )
)
def test_the_form_encoder_writes_what_urlencode_writes(data: dict[str, Any]) -> None:
    assert _encode_form(data) == urlencode(data, doseq=True).encode("ascii")


def test_the_form_encoder_escapes_a_base64_image_as_urlencode_does() -> None:
    image = {"image": base64.b64encode(bytes(range(256)) * 50).decode("ascii")}

    assert _encode_form(image) == urlencode(image, doseq=True).encode("ascii")
