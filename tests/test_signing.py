"""BCE request signing (``facekit/_signing.py``), stage by stage.

Each stage against the published bce-auth-v1 vector, every reason for a
refusal, requests signed by the official SDK (baidu-aip 1.6.9), and random
round trips.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
from aip import AipFace
from hypothesis import assume, given
from hypothesis import strategies as st

from facekit._signing import (
    ParsedAuthorization,
    SignatureError,
    auth_prefix,
    canonical_headers,
    canonical_query,
    canonical_request,
    canonical_uri,
    default_signed_headers,
    parse_authorization,
    sign_request,
    signature,
    signing_key,
    verify_request,
)

# The published bce-auth-v1 vector (see /work/shared/TOOLCHAIN.md).
AK = "a" * 32
SK = "b" * 32
STAMP = datetime(2015, 4, 27, 8, 23, 49, tzinfo=UTC)
PATH = "/v1/test/myfolder/readme.txt"
PARAMS = {"partNumber": "9", "uploadId": "a44cc9bab11cbd156984767aad637851"}
HEADERS = {
    "Host": "bj.bcebos.com",
    "Content-Type": "text/plain",
    "Content-Length": "8",
    "Content-Md5": "NFzcPqhviddjRNnSOGo4rw==",
    "x-bce-date": "2015-04-27T08:23:49Z",
}
SIGNED = ("content-length", "content-md5", "content-type", "host", "x-bce-date")
PREFIX = f"bce-auth-v1/{AK}/2015-04-27T08:23:49Z/1800"
SIGNING_KEY = "1d5ce5f464064cbee060330d973218821825ac6952368a482a592e6615aef479"
SIGNATURE = "d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e"
AUTHORIZATION = f"{PREFIX}/{';'.join(SIGNED)}/{SIGNATURE}"
# Derived from the vector: the canonical request that yields SIGNATURE.
CANONICAL_REQUEST = "\n".join(
    [
        "PUT",
        "/v1/test/myfolder/readme.txt",
        "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851",
        "content-length:8",
        "content-md5:NFzcPqhviddjRNnSOGo4rw%3D%3D",
        "content-type:text%2Fplain",
        "host:bj.bcebos.com",
        "x-bce-date:2015-04-27T08%3A23%3A49Z",
    ]
)
NOW = STAMP + timedelta(seconds=5)

SDK_AK = "sdkAccessKey0123456789ab"
SDK_SK = "sdkSecretKey0123456789abcdefghij"
SDK_URL = "http://127.0.0.1:8000/rest/2.0/face/v2/detect"
SDK_PARAMS = {"aipSdk": "python", "aipVersion": "1_6_9"}


def secrets(key: str) -> str | None:
    return {AK: SK, SDK_AK: SDK_SK}.get(key)


def verify_vector(**changes: object) -> str:
    arguments: dict[str, object] = {
        "authorization": AUTHORIZATION,
        "method": "PUT",
        "path": PATH,
        "params": PARAMS,
        "headers": HEADERS,
        "secret_for": secrets,
        "now": NOW,
    }
    arguments.update(changes)
    return verify_request(**arguments)  # type: ignore[arg-type]


# Stages against the published vector.


def test_auth_prefix_matches_vector() -> None:
    assert auth_prefix(AK, STAMP, 1800) == PREFIX


def test_signing_key_matches_vector() -> None:
    assert signing_key(SK, PREFIX) == SIGNING_KEY


def test_canonical_request_matches_vector() -> None:
    built = canonical_request("put", PATH, PARAMS, HEADERS, SIGNED)

    assert built == CANONICAL_REQUEST


def test_signature_matches_vector() -> None:
    assert signature(SIGNING_KEY, CANONICAL_REQUEST) == SIGNATURE


@pytest.mark.parametrize("signed", [SIGNED, None])
def test_sign_request_matches_vector(signed: tuple[str, ...] | None) -> None:
    value = sign_request(
        method="PUT",
        path=PATH,
        params=PARAMS,
        headers=HEADERS,
        access_key=AK,
        secret_key=SK,
        timestamp=STAMP,
        signed_headers=signed,
    )

    assert value == AUTHORIZATION


def test_verify_request_accepts_vector() -> None:
    assert verify_vector() == AK


# Canonical URI, query and headers.


def test_canonical_query_matches_published_example() -> None:
    params = {"text": "", "text1": "测试", "text10": "test"}

    assert canonical_query(params) == "text10=test&text1=%E6%B5%8B%E8%AF%95&text="


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"Authorization": "x", "a": "1"}, "a=1"),
        ([("authorization", "x"), ("AUTHORIZATION", "y")], ""),
        ([("b", "2"), ("a", "1"), ("a", "0")], "a=0&a=1&b=2"),
        ({"q": "a b+c~*/"}, "q=a%20b%2Bc~%2A%2F"),
        ({"k y": "v=1&w"}, "k%20y=v%3D1%26w"),
        ({}, ""),
    ],
)
def test_canonical_query(
    params: Mapping[str, str] | list[tuple[str, str]], expected: str
) -> None:
    assert canonical_query(params) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (PATH, PATH),
        ("/rest/2.0/face/v2/detect", "/rest/2.0/face/v2/detect"),
        ("/a b/c", "/a%20b/c"),
        ("/测试/x", "/%E6%B5%8B%E8%AF%95/x"),
        ("/-_.~/AZaz09", "/-_.~/AZaz09"),
        ("/a+b:c@d=e;f", "/a%2Bb%3Ac%40d%3De%3Bf"),
        ("/%2F", "/%252F"),
        ("//", "//"),
        ("", "/"),
    ],
)
def test_canonical_uri_keeps_slash_and_encodes_the_rest(
    path: str, expected: str
) -> None:
    assert canonical_uri(path) == expected


def test_canonical_headers_lower_trim_encode_sort() -> None:
    headers = {
        "Host": " Example.COM ",
        "X-Bce-Date": "2015-04-27T08:23:49Z",
        "X-Other": "not signed",
    }

    built = canonical_headers(headers, ["X-BCE-DATE", " host"])

    assert built == "host:Example.COM\nx-bce-date:2015-04-27T08%3A23%3A49Z"


def test_canonical_headers_refuses_a_missing_signed_header() -> None:
    with pytest.raises(SignatureError, match="signed header missing: content-md5"):
        canonical_headers({"Host": "h"}, ["host", "content-md5"])


def test_default_signed_headers() -> None:
    headers = {
        "Host": "h",
        "Content-Type": "text/plain",
        "X-Bce-Date": "2015-04-27T08:23:49Z",
        "x-bce-request-id": "1",
        "User-Agent": "ua",
        "Content-Encoding": "gzip",
    }

    names = default_signed_headers(headers)

    assert names == ("content-type", "host", "x-bce-date", "x-bce-request-id")
    assert default_signed_headers({}) == ("host",)


# Arguments the signer refuses.


def test_auth_prefix_formats_other_offsets_as_utc() -> None:
    beijing = STAMP.astimezone(timezone(timedelta(hours=8)))

    assert auth_prefix(AK, beijing, 1800) == PREFIX
    assert auth_prefix(AK, datetime(999, 1, 2, tzinfo=UTC), 5).endswith(
        "/0999-01-02T00:00:00Z/5"
    )


@pytest.mark.parametrize(
    ("access_key", "timestamp", "expiration"),
    [
        (AK, STAMP.replace(tzinfo=None), 1800),
        ("", STAMP, 1800),
        ("a/b", STAMP, 1800),
        ("a b", STAMP, 1800),
        ("ключ", STAMP, 1800),
        (AK, STAMP, 0),
        (AK, STAMP, -1),
        (AK, STAMP, 10**10),
        (AK, STAMP, True),
    ],
)
def test_auth_prefix_refuses_bad_arguments(
    access_key: str, timestamp: datetime, expiration: int
) -> None:
    with pytest.raises(ValueError):
        auth_prefix(access_key, timestamp, expiration)


@pytest.mark.parametrize("signed", [[], ["ho st"], ["host;x"], ["host/x"], [""]])
def test_sign_request_refuses_bad_signed_headers(signed: list[str]) -> None:
    with pytest.raises(ValueError):
        sign_request(
            method="PUT",
            path=PATH,
            params=PARAMS,
            headers=HEADERS,
            access_key=AK,
            secret_key=SK,
            timestamp=STAMP,
            signed_headers=signed,
        )


def test_sign_request_needs_host_by_default() -> None:
    with pytest.raises(SignatureError, match="signed header missing: host"):
        sign_request(
            method="GET",
            path="/",
            params={},
            headers={"x-bce-date": "2015-04-27T08:23:49Z"},
            access_key=AK,
            secret_key=SK,
            timestamp=STAMP,
        )


# Parsing the Authorization value.


def test_parse_authorization_fields() -> None:
    parsed = parse_authorization(AUTHORIZATION)

    assert parsed == ParsedAuthorization(
        access_key=AK,
        timestamp=STAMP,
        expiration_seconds=1800,
        signed_headers=SIGNED,
        signature=SIGNATURE,
    )
    assert parsed.timestamp.utcoffset() == timedelta(0)


def test_parse_authorization_keeps_order_and_lowers_names() -> None:
    value = f"{PREFIX}/X-Custom;Content-Type;host;x-bce-date/{SIGNATURE}"

    parsed = parse_authorization(value)

    assert parsed.signed_headers == ("x-custom", "content-type", "host", "x-bce-date")


def _replace_field(index: int, text: str) -> str:
    fields = AUTHORIZATION.split("/")
    fields[index] = text
    return "/".join(fields)


MALFORMED = [
    "",
    "bce-auth-v1",
    AUTHORIZATION.replace("bce-auth-v1", "bce-auth-v2"),
    AUTHORIZATION.rsplit("/", 1)[0],
    AUTHORIZATION + "/extra",
    " " + AUTHORIZATION,
    AUTHORIZATION + "\n",
    _replace_field(1, ""),
    _replace_field(1, "a b"),
    _replace_field(2, "2015-4-27T08:23:49Z"),
    _replace_field(2, "2015-04-27 08:23:49Z"),
    _replace_field(2, "2015-04-27T08:23:49"),
    _replace_field(2, "2015-04-27T08:23:49+08:00"),
    _replace_field(2, "2015-02-30T08:23:49Z"),
    _replace_field(2, "2015-04-27T24:00:00Z"),
    _replace_field(2, "２０１５-04-27T08:23:49Z"),
    _replace_field(3, "0"),
    _replace_field(3, "-1"),
    _replace_field(3, "+1800"),
    _replace_field(3, "01800"),
    _replace_field(3, "1800 "),
    _replace_field(3, "1_800"),
    _replace_field(3, "١٨٠٠"),
    _replace_field(3, "12345678901"),
    _replace_field(4, "host;;x-bce-date"),
    _replace_field(4, "host;Host"),
    _replace_field(4, "host x"),
    _replace_field(4, ";"),
    _replace_field(5, SIGNATURE.upper()),
    _replace_field(5, SIGNATURE[:-1]),
    _replace_field(5, SIGNATURE + "0"),
    _replace_field(5, "g" + SIGNATURE[1:]),
    _replace_field(5, ""),
]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_authorization_is_refused(value: str) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        parse_authorization(value)
    with pytest.raises(SignatureError, match="malformed"):
        verify_vector(authorization=value)


# Verification: each reason for refusal.


def test_unknown_access_key() -> None:
    with pytest.raises(SignatureError, match="unknown access key"):
        verify_vector(secret_for=lambda key: None)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (1800 + 300, None),
        (1800 + 301, "signature expired"),
        (-300, None),
        (-301, "timestamp is in the future"),
    ],
)
def test_time_window_is_inclusive(offset: int, reason: str | None) -> None:
    now = STAMP + timedelta(seconds=offset)

    if reason is None:
        assert verify_vector(now=now) == AK
    else:
        with pytest.raises(SignatureError, match=reason):
            verify_vector(now=now)


def test_max_skew_is_configurable() -> None:
    with pytest.raises(SignatureError, match="future"):
        verify_vector(now=STAMP - timedelta(seconds=10), max_skew_seconds=5)
    with pytest.raises(SignatureError, match="expired"):
        verify_vector(now=STAMP + timedelta(seconds=1806), max_skew_seconds=5)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as caught:
        verify_vector(now=NOW.replace(tzinfo=None))

    assert not isinstance(caught.value, SignatureError)


def test_signed_header_missing_from_request() -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Content-Md5"}

    with pytest.raises(SignatureError, match="signed header missing: content-md5"):
        verify_vector(headers=headers)


def test_signed_header_sent_twice_is_refused_but_unsigned_is_ignored() -> None:
    twice = {**HEADERS, "host": "evil.example"}
    with pytest.raises(SignatureError, match="signed header sent twice: host"):
        verify_vector(headers=twice)

    extra = {**HEADERS, "Accept": "a", "accept": "b", "User-Agent": "x"}
    assert verify_vector(headers=extra) == AK


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"path": "/v1/test/myfolder/readme.txT"},
        {"params": {**PARAMS, "partNumber": "10"}},
        {"params": {**PARAMS, "extra": ""}},
        {"headers": {**HEADERS, "Host": "bj.bcebos.com.evil"}},
        {"headers": {**HEADERS, "Content-Length": "9"}},
        {"headers": {**HEADERS, "x-bce-date": "2015-04-27T08:23:50Z"}},
        {"authorization": AUTHORIZATION.replace("1800", "1801")},
        {"authorization": AUTHORIZATION.replace(":49Z", ":48Z")},
        {"secret_for": lambda key: SK.upper()},
    ],
)
def test_tampering_breaks_the_signature(change: dict[str, object]) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify_vector(**change)


def test_method_case_does_not_matter() -> None:
    assert verify_vector(method="put") == AK


def test_signed_headers_in_any_order_are_accepted() -> None:
    value = _replace_field(4, "x-bce-date;Host;content-type;content-md5;content-length")

    assert verify_vector(authorization=value) == AK


def test_empty_signed_headers_mean_the_defaults() -> None:
    assert verify_vector(authorization=_replace_field(4, "")) == AK

    with pytest.raises(SignatureError, match="signature mismatch"):
        verify_vector(
            authorization=_replace_field(4, ""),
            headers={**HEADERS, "x-bce-request-id": "1"},
        )


def test_verification_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("facekit._signing.hmac.compare_digest", spy)

    assert verify_vector() == AK
    assert (SIGNATURE, SIGNATURE) in calls

    calls.clear()
    with pytest.raises(SignatureError):
        verify_vector(params={**PARAMS, "q": "a b"})
    assert len(calls) == 2  # the spec's query and the official SDK's


def test_refusals_never_reveal_the_secret_or_expected_signature() -> None:
    wrong = "0" * 64
    attempts: list[dict[str, object]] = [
        {"authorization": _replace_field(5, wrong)},
        {"path": "/other"},
        {"now": STAMP + timedelta(days=1)},
        {"now": STAMP - timedelta(days=1)},
        {"headers": {"Host": "bj.bcebos.com"}},
        {"secret_for": lambda key: None},
        {"authorization": AUTHORIZATION[:-1]},
    ]

    for change in attempts:
        with pytest.raises(SignatureError) as caught:
            verify_vector(**change)
        message = str(caught.value)
        assert SK not in message
        assert SIGNATURE not in message
        assert SIGNING_KEY not in message
        assert len(message) < 60


# The official SDK, baidu-aip 1.6.9.


def sdk_sign(
    params: Mapping[str, str],
    headers: dict[str, str] | None = None,
    url: str = SDK_URL,
) -> dict[str, str]:
    """Sign as ``AipFace._request`` does for a user whose token lacks the scope."""
    client = AipFace("appid", SDK_AK, SDK_SK)
    client._isCloudUser = True
    signed: dict[str, str] = client._getAuthHeaders("POST", url, dict(params), headers)
    return signed


def verify_sdk(
    sent: dict[str, str],
    params: Mapping[str, str] = SDK_PARAMS,
    url: str = SDK_URL,
    **changes: object,
) -> str:
    """Verify the SDK's request as a server would see it after the wire."""
    date = datetime.strptime(sent["x-bce-date"], "%Y-%m-%dT%H:%M:%SZ")
    received = {name.lower(): value.strip() for name, value in sent.items()}
    # Headers requests adds on its own; nobody signed them.
    received.update({"user-agent": "python-requests/2", "content-length": "12"})
    arguments: dict[str, object] = {
        "authorization": received.pop("authorization"),
        "method": "POST",
        "path": urlparse(url).path,
        # requests puts params on the wire with urlencode; the server decodes.
        "params": parse_qsl(urlencode(params), keep_blank_values=True),
        "headers": received,
        "secret_for": secrets,
        "now": date.replace(tzinfo=UTC) + timedelta(seconds=2),
    }
    arguments.update(changes)
    return verify_request(**arguments)  # type: ignore[arg-type]


def test_official_sdk_request_verifies() -> None:
    sent = sdk_sign(SDK_PARAMS)

    assert sent["authorization"].split("/")[4] == "host;x-bce-date"
    assert verify_sdk(sent) == SDK_AK


def test_official_sdk_unsorted_signed_headers_verify() -> None:
    extra = {"X-Custom": " spaced value ", "Content-Type": "application/json"}

    sent = sdk_sign(SDK_PARAMS, extra)

    names = sent["authorization"].split("/")[4]
    assert names == "x-custom;content-type;host;x-bce-date"
    assert verify_sdk(sent) == SDK_AK


def test_official_sdk_form_encoded_query_verifies() -> None:
    # The SDK encodes a space as '+', the spec as '%20'.
    params = {**SDK_PARAMS, "q": "a b+c", "empty": "", "name": "测 试~"}

    sent = sdk_sign(params)

    assert verify_sdk(sent, params) == SDK_AK
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify_sdk(sent, {**params, "q": "a+b+c"})


def test_official_sdk_escaped_header_name_verifies() -> None:
    # The SDK lower-cases after escaping: 'x-odd%2aname', not 'x-odd%2Aname'.
    sent = sdk_sign(SDK_PARAMS, {"X-Odd*Name": "v"})

    assert verify_sdk(sent) == SDK_AK


def test_spec_and_sdk_spellings_do_not_cross_verify() -> None:
    def signed_for(value: str) -> str:
        return sign_request(
            method="GET",
            path="/",
            params={"q": value},
            headers={"host": "h"},
            access_key=AK,
            secret_key=SK,
            timestamp=STAMP,
        )

    for signed, sent in [("a+b", "a b"), ("a b", "a+b"), ("a%20b", "a b")]:
        with pytest.raises(SignatureError, match="signature mismatch"):
            verify_request(
                authorization=signed_for(signed),
                method="GET",
                path="/",
                params={"q": sent},
                headers={"host": "h"},
                secret_for=secrets,
                now=NOW,
            )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"url": SDK_URL.replace("detect", "match")}, "signature mismatch"),
        ({"method": "GET"}, "signature mismatch"),
        ({"params": {**SDK_PARAMS, "aipVersion": "1_6_8"}}, "signature mismatch"),
        ({"params": {**SDK_PARAMS, "group_id": "g"}}, "signature mismatch"),
        ({"params": {"aipSdk": "python"}}, "signature mismatch"),
        ({"headers": {"host": "127.0.0.2"}}, "signature mismatch"),
        ({"headers": {"x-bce-date": "2001-01-01T00:00:00Z"}}, "signature mismatch"),
        ({"now_offset": 1800 + 301}, "signature expired"),
        ({"now_offset": -301}, "timestamp is in the future"),
        ({"stamp": "2001-01-01T00:00:00Z"}, "signature expired"),
        ({"signature": True}, "signature mismatch"),
        ({"access_key": "someoneElse"}, "unknown access key"),
    ],
)
def test_official_sdk_request_tampered_is_refused(
    change: dict[str, object], reason: str
) -> None:
    sent = sdk_sign(SDK_PARAMS)
    fields = sent["authorization"].split("/")
    date = datetime.strptime(fields[2], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    url = str(change.pop("url", SDK_URL))
    params = change.pop("params", SDK_PARAMS)
    assert isinstance(params, dict)
    headers = change.pop("headers", {})
    assert isinstance(headers, dict)
    sent.update(headers)
    offset = change.pop("now_offset", 2)
    assert isinstance(offset, int)
    change["now"] = date + timedelta(seconds=offset)
    if "stamp" in change:
        fields[2] = str(change.pop("stamp"))
    if change.pop("signature", False):
        fields[5] = fields[5][:-1] + ("0" if fields[5][-1] != "0" else "1")
    if "access_key" in change:
        fields[1] = str(change.pop("access_key"))
    sent["authorization"] = "/".join(fields)

    with pytest.raises(SignatureError, match=reason):
        verify_sdk(sent, params, url, **change)


# Round trip.

TOKEN = "!#$%&'*+.^_`|~0123456789abcdefghijklmnopqrstuvwxyz-"
text = st.text(st.characters(codec="utf-8"), max_size=20)
access_keys = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/"),
    min_size=1,
    max_size=40,
)
offsets = st.integers(-1439, 1439).map(lambda m: timezone(timedelta(minutes=m)))
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=offsets,
)


@st.composite
def signed_requests(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    timestamp = draw(timestamps).replace(microsecond=0)
    headers = {
        "Host": draw(text),
        "x-bce-date": auth_prefix("k", timestamp, 1).split("/")[2],
        **draw(st.dictionaries(st.text(TOKEN, min_size=1).map("x-t-".__add__), text)),
    }
    request: dict[str, object] = {
        "method": draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"])),
        "path": "/" + draw(text),
        "params": draw(st.lists(st.tuples(text, text), max_size=5)),
        "headers": headers,
    }
    secret = draw(text)
    signed = draw(st.none() | st.sets(st.sampled_from(sorted(headers)), min_size=1))
    expiration = draw(st.integers(1, 10**6))
    authorization = sign_request(
        access_key=draw(access_keys),
        secret_key=secret,
        timestamp=timestamp,
        expiration_seconds=expiration,
        signed_headers=signed,
        **request,  # type: ignore[arg-type]
    )
    offset = draw(st.integers(-300, expiration + 300))
    request["now"] = timestamp + timedelta(seconds=offset)
    request["secret_for"] = lambda key: secret
    return request, authorization


@given(signed_requests())
def test_round_trip_verifies(case: tuple[dict[str, object], str]) -> None:
    request, authorization = case

    access_key = verify_request(authorization=authorization, **request)  # type: ignore[arg-type]

    assert access_key == authorization.split("/")[1]


@given(signed_requests(), st.data())
def test_any_single_character_change_of_the_signature_is_refused(
    case: tuple[dict[str, object], str], data: st.DataObject
) -> None:
    request, authorization = case
    position = data.draw(st.integers(len(authorization) - 64, len(authorization) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdef") | st.characters())
    assume(replacement != authorization[position])
    changed = authorization[:position] + replacement + authorization[position + 1 :]

    with pytest.raises(SignatureError):
        verify_request(authorization=changed, **request)  # type: ignore[arg-type]
