from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from facekit import _signing
from facekit.server import tokens as tokens_module
from facekit.server.errors import ApiError
from facekit.server.tokens import DEFAULT_LIFETIME, TokenDenied, TokenIssuer

API_KEY = "k" * 24
SECRET = "s" * 32
START = 1_700_000_000.0
TOKEN_SHAPE = re.compile(r"24\.[0-9a-f]{32}\.(\d+)\.(\d+)\.\d{6}-\d+")


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _issuer(clock: Clock, **options: object) -> TokenIssuer:
    return TokenIssuer({API_KEY: SECRET}, clock=clock, **options)  # type: ignore[arg-type]


def _code(excinfo: pytest.ExceptionInfo[ApiError]) -> int:
    return excinfo.value.error_code


def test_a_token_has_the_clouds_shape_and_the_api_scope() -> None:
    issued = _issuer(Clock()).issue(API_KEY, SECRET)

    shape = TOKEN_SHAPE.fullmatch(issued.access_token)
    assert shape is not None
    assert int(shape[1]) == DEFAULT_LIFETIME == issued.expires_in
    assert int(shape[2]) == int(START) + DEFAULT_LIFETIME
    assert "brain_all_scope" in issued.scope.split(" ")


def test_tokens_are_random() -> None:
    issuer = _issuer(Clock())
    tokens = {issuer.issue(API_KEY, SECRET).access_token for _ in range(50)}
    assert len(tokens) == 50


def test_unknown_client_id_and_wrong_secret_are_told_apart() -> None:
    issuer = _issuer(Clock())

    with pytest.raises(TokenDenied) as unknown:
        issuer.issue("nobody", SECRET)
    with pytest.raises(TokenDenied) as wrong:
        issuer.issue(API_KEY, SECRET + "x")

    assert (unknown.value.error, unknown.value.description) == (
        "invalid_client",
        "unknown client id",
    )
    assert (wrong.value.error, wrong.value.description) == (
        "invalid_client",
        "Client authentication failed",
    )


def test_secrets_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = tokens_module.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens_module.hmac, "compare_digest", spy)
    issuer = _issuer(Clock())
    with pytest.raises(TokenDenied):
        issuer.issue(API_KEY, "guess")

    assert compared == [(SECRET.encode(), b"guess")]


def test_check_accepts_a_live_token_and_names_its_key() -> None:
    issuer = _issuer(Clock())
    token = issuer.issue(API_KEY, SECRET).access_token
    assert issuer.check(token) == API_KEY


@pytest.mark.parametrize(
    "token",
    ["", "24.forged", "24." + "0" * 32 + ".2592000.1.123456-1", "\udcff", "x" * 10_000],
)
def test_an_unknown_or_forged_token_is_110(token: str) -> None:
    issuer = _issuer(Clock())
    issuer.issue(API_KEY, SECRET)
    with pytest.raises(ApiError) as excinfo:
        issuer.check(token)
    assert _code(excinfo) == 110


def test_a_tampered_token_is_110() -> None:
    issuer = _issuer(Clock())
    token = issuer.issue(API_KEY, SECRET).access_token
    last = "0" if token[-1] != "0" else "1"
    with pytest.raises(ApiError) as excinfo:
        issuer.check(token[:-1] + last)
    assert _code(excinfo) == 110


def test_an_expired_token_is_111_then_forgotten() -> None:
    clock = Clock()
    issuer = _issuer(clock, lifetime=60, expired_grace=3600)
    token = issuer.issue(API_KEY, SECRET).access_token

    clock.now += 59
    assert issuer.check(token) == API_KEY
    clock.now += 1
    with pytest.raises(ApiError) as expired:
        issuer.check(token)
    clock.now += 3600
    with pytest.raises(ApiError) as purged:
        issuer.check(token)

    assert _code(expired) == 111
    assert _code(purged) == 110


def test_the_oldest_tokens_of_a_key_go_past_the_cap() -> None:
    issuer = _issuer(Clock(), max_tokens_per_key=3)
    tokens = [issuer.issue(API_KEY, SECRET).access_token for _ in range(4)]

    with pytest.raises(ApiError) as excinfo:
        issuer.check(tokens[0])
    assert _code(excinfo) == 110
    assert all(issuer.check(token) == API_KEY for token in tokens[1:])


@pytest.mark.parametrize(
    ("pairs", "options"),
    [
        ({}, {}),
        ({"": "s"}, {}),
        ({"k": ""}, {}),
        ({"k": "s"}, {"lifetime": 0}),
        ({"k": "s"}, {"max_tokens_per_key": 0}),
    ],
)
def test_bad_configuration_is_refused(
    pairs: dict[str, str], options: dict[str, int]
) -> None:
    with pytest.raises(ValueError):
        TokenIssuer(pairs, **options)  # type: ignore[arg-type]


# --- signatures ----------------------------------------------------------------

PATH = "/rest/2.0/face/v2/detect"
PARAMS = [("aipSdk", "python"), ("aipVersion", "1_6_9")]


def _signed(
    *, secret: str = SECRET, at: float = START, access_key: str = API_KEY
) -> tuple[str, dict[str, str]]:
    moment = datetime.fromtimestamp(at, UTC)
    headers = {
        "Host": "127.0.0.1",
        "x-bce-date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    authorization = _signing.sign_request(
        method="POST",
        path=PATH,
        params=PARAMS,
        headers=headers,
        access_key=access_key,
        secret_key=secret,
        timestamp=moment,
    )
    return authorization, headers


def _check(issuer: TokenIssuer, authorization: str, headers: dict[str, str]) -> str:
    return issuer.check_signature(
        authorization=authorization,
        method="POST",
        path=PATH,
        params=PARAMS,
        headers=headers,
    )


def test_a_signed_request_of_a_known_pair_is_accepted() -> None:
    authorization, headers = _signed()
    assert _check(_issuer(Clock(START + 10)), authorization, headers) == API_KEY


def test_a_signature_within_the_clock_skew_is_accepted() -> None:
    authorization, headers = _signed(at=START + 200)
    issuer = _issuer(Clock(START), max_skew_seconds=300)
    assert _check(issuer, authorization, headers) == API_KEY


@pytest.mark.parametrize(
    "case", ["wrong secret", "unknown key", "future", "expired", "tampered", "garbage"]
)
def test_a_bad_signature_is_14(case: str) -> None:
    issuer = _issuer(Clock(START), max_skew_seconds=300)
    authorization, headers = {
        "wrong secret": lambda: _signed(secret="x" * 32),
        "unknown key": lambda: _signed(access_key="stranger"),
        "future": lambda: _signed(at=START + 301),
        # The SDK signs for 1800 s; past that and the skew, it is stale.
        "expired": lambda: _signed(at=START - 1800 - 301),
        "tampered": lambda: _signed(),
        "garbage": lambda: ("bce-auth-v1/nonsense", {}),
    }[case]()
    if case == "tampered":
        headers["Content-Type"] = "text/plain"

    with pytest.raises(ApiError) as excinfo:
        _check(issuer, authorization, headers)
    assert excinfo.value.error_code == 14
    assert excinfo.value.error_msg == "IAM Certification failed"
