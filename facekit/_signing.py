"""BCE request signing (``bce-auth-v1``): pure, staged, and verifiable.

Signing runs in three stages, each a pure function with no I/O and no clock
(the time is always a parameter):

1. **Canonical request**: the upper-case method, the canonical URI, the
   canonical query and the canonical headers, joined by newlines (bce-auth-v1
   hashes no payload).

   - URI (``canonical_uri``): percent-encode everything but ``A-Za-z0-9-_.~``,
     keep ``/``.
   - Query (``canonical_query``): drop ``authorization``, encode key and value,
     ``k=v`` (``k=`` when empty), sort the whole strings, join with ``&``.
   - Headers (``canonical_headers``): only the signed ones; lower-case name,
     trimmed value, both encoded, ``name:value``, sorted, joined by newlines.

2. **Signing key** (``signing_key``): hex HMAC-SHA256 of the auth prefix
   ``bce-auth-v1/{AK}/{yyyy-mm-ddThh:mm:ssZ}/{expiration}`` under the secret key.

3. **Signature** (``signature``): hex HMAC-SHA256 of the canonical request, keyed
   with the signing key's hex text.

``sign_request`` chains the stages into an ``Authorization`` value
``{prefix}/{signed headers joined by ;}/{signature}``. ``verify_request`` is the
server side: parse, look up the secret, check the time window, check that every
signed header is present, rebuild, and compare with ``hmac.compare_digest``.
Every refusal is a ``SignatureError`` (a ``ValueError``) with a short reason
that never contains the secret or the expected signature.

Compatibility with the official SDK (baidu-aip 1.6.9, ``AipBase._getAuthHeaders``)
-------------------------------------------------------------------------------

Where that SDK deviates from the spec, the verifier accepts what it produces:

- It encodes the query with ``urlencode`` (``quote_plus``), so a space becomes
  ``+`` instead of ``%20``. The verifier also tries that spelling of the query.
  The two spellings never collide for different requests: the spec spelling
  never contains a bare ``+``, and the SDK spelling contains one only where the
  value had a space.
- It lower-cases header names *after* encoding them, so an escaped byte in a
  name gets lower-case hex digits. The verifier tries that spelling too.
- It lists the signed header names in the order it set them, not sorted. The
  list is not part of the signed material and the canonical headers are sorted
  in both, so the verifier takes the names in any order.

Not accepted: a query string already present in the URL the SDK is given (it
re-encodes the escaped text, signing ``%2520`` for ``%20``) and a percent-escape
in the URL path (same double encoding). The v2 face URLs have neither.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeAlias
from urllib.parse import quote, quote_plus

__all__ = [
    "AUTH_VERSION",
    "ParsedAuthorization",
    "QueryParams",
    "SignatureError",
    "auth_prefix",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "default_signed_headers",
    "parse_authorization",
    "sign_request",
    "signature",
    "signing_key",
    "verify_request",
]

QueryParams: TypeAlias = Iterable[tuple[str, str]] | Mapping[str, str]

AUTH_VERSION = "bce-auth-v1"

# Headers BCE signs by default when present; every x-bce-* header joins them.
_DEFAULT_SIGNED_HEADERS = ("host", "content-length", "content-md5", "content-type")
_BCE_HEADER_PREFIX = "x-bce-"

# [0-9] rather than \d, and fullmatch rather than $: \d takes non-ASCII digits
# and $ matches before a trailing newline.
_TIMESTAMP_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_ACCESS_KEY_RE = re.compile(r"[!-.0-~]+")  # printable ASCII but '/' and space
_EXPIRATION_RE = re.compile(r"[1-9][0-9]{0,9}")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")


class SignatureError(ValueError):
    """A signature that is malformed or does not verify; the message says why."""


@dataclass(frozen=True)
class ParsedAuthorization:
    """The fields of a ``bce-auth-v1`` Authorization value."""

    access_key: str
    timestamp: datetime  # aware, UTC
    expiration_seconds: int
    signed_headers: tuple[str, ...]  # lower-case, in the order given
    signature: str


def canonical_uri(path: str) -> str:
    """Percent-encode a path, keeping ``/``; an empty path is ``/``."""
    return _encode(path or "/", keep_slash=True)


def canonical_query(params: QueryParams) -> str:
    """Return the canonical query string of decoded ``(key, value)`` pairs."""
    return _canonical_query(params, _encode)


def canonical_headers(headers: Mapping[str, str], signed: Iterable[str]) -> str:
    """Return the canonical form of the ``signed`` headers found in ``headers``."""
    return _canonical_headers(headers, signed, _encode)


def default_signed_headers(headers: Mapping[str, str]) -> tuple[str, ...]:
    """Return ``host`` and whichever of BCE's default headers are present, sorted.

    The defaults are ``content-length``, ``content-md5``, ``content-type`` and
    every ``x-bce-*`` header (``x-bce-date`` among them).
    """
    present = _lower_headers(headers)
    names = {"host"}
    names.update(
        name
        for name in present
        if name in _DEFAULT_SIGNED_HEADERS
        or (name.startswith(_BCE_HEADER_PREFIX) and _HEADER_NAME_RE.fullmatch(name))
    )
    return tuple(sorted(names))


def auth_prefix(access_key: str, timestamp: datetime, expiration_seconds: int) -> str:
    """Return ``bce-auth-v1/{AK}/{UTC yyyy-mm-ddThh:mm:ssZ}/{expiration}``."""
    if not _ACCESS_KEY_RE.fullmatch(access_key):
        raise ValueError("access key must be printable ASCII without '/' or spaces")
    if isinstance(expiration_seconds, bool) or not 0 < expiration_seconds < 10**10:
        raise ValueError("expiration_seconds must be a positive integer")

    stamp = _format_timestamp(timestamp)
    return f"{AUTH_VERSION}/{access_key}/{stamp}/{expiration_seconds}"


def signing_key(secret_key: str, prefix: str) -> str:
    """Stage 2: hex HMAC-SHA256 of the auth prefix under the secret key."""
    return _hmac_hex(secret_key, prefix)


def signature(key: str, canonical_request: str) -> str:
    """Stage 3: hex HMAC-SHA256 of the canonical request under the signing key."""
    return _hmac_hex(key, canonical_request)


def canonical_request(
    method: str,
    path: str,
    params: QueryParams,
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
) -> str:
    """Stage 1: method, URI, query and headers in canonical form, one per line."""
    return _join_request(
        method,
        path,
        canonical_query(params),
        canonical_headers(headers, signed_headers),
    )


def sign_request(
    *,
    method: str,
    path: str,
    params: QueryParams,
    headers: Mapping[str, str],
    access_key: str,
    secret_key: str,
    timestamp: datetime,
    expiration_seconds: int = 1800,
    signed_headers: Iterable[str] | None = None,
) -> str:
    """Return the ``Authorization`` value that signs this request.

    ``signed_headers`` defaults to ``default_signed_headers(headers)``; ``host``
    must be among ``headers`` then. ``timestamp`` must be timezone-aware and
    should equal the request's ``x-bce-date``.
    """
    if signed_headers is None:
        signed_headers = default_signed_headers(headers)
    names = _normalise_signed_names(signed_headers)
    if not names:
        # An empty list would mean "the defaults" to a verifier.
        raise ValueError("at least one header must be signed")

    prefix = auth_prefix(access_key, timestamp, expiration_seconds)
    request = canonical_request(method, path, params, headers, names)
    digest = signature(signing_key(secret_key, prefix), request)

    return f"{prefix}/{';'.join(names)}/{digest}"


def parse_authorization(value: str) -> ParsedAuthorization:
    """Split an ``Authorization`` value into its fields, strictly.

    Raises ``SignatureError`` on any deviation from
    ``bce-auth-v1/{AK}/{yyyy-mm-ddThh:mm:ssZ}/{expiration}/{names}/{hex}``.
    Header names may come in any order and any case; they are lower-cased.
    """
    parts = value.split("/")
    if len(parts) != 6 or parts[0] != AUTH_VERSION:
        raise SignatureError("malformed authorization")
    _, access_key, stamp, expiration, names, digest = parts

    if not _ACCESS_KEY_RE.fullmatch(access_key):
        raise SignatureError("malformed authorization: access key")
    timestamp = _parse_timestamp(stamp)
    if not _EXPIRATION_RE.fullmatch(expiration):
        raise SignatureError("malformed authorization: expiration")
    signed = tuple(name.lower() for name in names.split(";")) if names else ()
    if not all(_HEADER_NAME_RE.fullmatch(name) for name in signed):
        raise SignatureError("malformed authorization: signed headers")
    if len(set(signed)) != len(signed):
        raise SignatureError("malformed authorization: repeated signed header")
    if not _SIGNATURE_RE.fullmatch(digest):
        raise SignatureError("malformed authorization: signature")

    return ParsedAuthorization(
        access_key=access_key,
        timestamp=timestamp,
        expiration_seconds=int(expiration),
        signed_headers=signed,
        signature=digest,
    )


def verify_request(
    *,
    authorization: str,
    method: str,
    path: str,
    params: QueryParams,
    headers: Mapping[str, str],
    secret_for: Callable[[str], str | None],
    now: datetime,
    max_skew_seconds: int = 300,
) -> str:
    """Check a signed request as the server received it; return its access key.

    ``path`` is the decoded path and ``params`` the decoded query pairs. The
    request is valid when its timestamp lies in
    ``[now - expiration - skew, now + skew]``. An empty signed-header list means
    BCE's defaults (see ``default_signed_headers``). Raises ``SignatureError``
    with a short reason otherwise.
    """
    if max_skew_seconds < 0:
        raise ValueError("max_skew_seconds must not be negative")
    _require_aware(now)

    parsed = parse_authorization(authorization)
    secret = secret_for(parsed.access_key)
    if secret is None:
        raise SignatureError("unknown access key")

    age = (now - parsed.timestamp).total_seconds()
    if age < -max_skew_seconds:
        raise SignatureError("timestamp is in the future")
    if age > parsed.expiration_seconds + max_skew_seconds:
        raise SignatureError("signature expired")

    names = parsed.signed_headers or default_signed_headers(headers)
    present = _lower_headers(headers)
    for name in names:
        if name not in present:
            raise SignatureError(f"signed header missing: {name}")

    prefix = auth_prefix(parsed.access_key, parsed.timestamp, parsed.expiration_seconds)
    key = signing_key(secret, prefix)
    matched = False
    for request in _candidate_requests(method, path, params, headers, names):
        # Every candidate is compared, so timing tells nothing about which failed.
        matched |= hmac.compare_digest(signature(key, request), parsed.signature)
    if not matched:
        raise SignatureError("signature mismatch")

    return parsed.access_key


def _candidate_requests(
    method: str,
    path: str,
    params: QueryParams,
    headers: Mapping[str, str],
    names: Iterable[str],
) -> Iterator[str]:
    """Yield the spec's canonical request, then the official SDK's if it differs."""
    pairs = list(_pairs(params))
    names = tuple(names)
    spec = canonical_request(method, path, pairs, headers, names)
    yield spec

    sdk = _join_request(
        method,
        path,
        _canonical_query(pairs, _encode_form),
        _canonical_headers(headers, names, _encode_lower_hex),
    )
    if sdk != spec:
        yield sdk


def _join_request(method: str, path: str, query: str, headers: str) -> str:
    return "\n".join((method.upper(), canonical_uri(path), query, headers))


def _canonical_query(params: QueryParams, encode: Callable[[str], str]) -> str:
    encoded = [
        f"{encode(key)}={encode(value)}"
        for key, value in _pairs(params)
        if key.lower() != "authorization"
    ]
    return "&".join(sorted(encoded))


def _canonical_headers(
    headers: Mapping[str, str],
    signed: Iterable[str],
    encode_name: Callable[[str], str],
) -> str:
    present = _lower_headers(headers)
    lines = []
    for name in _normalise_signed_names(signed):
        if name not in present:
            raise SignatureError(f"signed header missing: {name}")
        value = present[name]
        if value is None:
            raise SignatureError(f"signed header sent twice: {name}")
        lines.append(f"{encode_name(name)}:{_encode(value.strip())}")
    return "\n".join(sorted(lines))


def _normalise_signed_names(names: Iterable[str]) -> tuple[str, ...]:
    normalised = {name.strip().lower() for name in names}
    for name in normalised:
        if not _HEADER_NAME_RE.fullmatch(name):
            raise ValueError(f"not a valid header name: {name!r}")
    return tuple(sorted(normalised))


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str | None]:
    """Key headers by lower-case name; ``None`` marks one sent with two values.

    A repeated header is an error only if it is signed, so it is marked here
    and refused where a signed value is read.
    """
    lowered: dict[str, str | None] = {}
    for name, value in headers.items():
        key = name.strip().lower()
        lowered[key] = value if lowered.get(key, value) == value else None
    return lowered


def _pairs(params: QueryParams) -> Iterable[tuple[str, str]]:
    if isinstance(params, Mapping):
        return params.items()
    return params


def _encode(text: str, *, keep_slash: bool = False) -> str:
    # quote() leaves exactly A-Za-z0-9-_.~ (and ``safe``) unescaped, upper-case hex.
    return quote(text, safe="/" if keep_slash else "")


def _encode_form(text: str) -> str:
    """The official SDK's query encoding: like ``_encode`` but space is ``+``."""
    return quote_plus(text, safe="")


def _encode_lower_hex(text: str) -> str:
    """The official SDK's header-name encoding: escaped, then lower-cased."""
    return _encode(text).lower()


def _hmac_hex(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")


def _format_timestamp(moment: datetime) -> str:
    _require_aware(moment)
    utc = moment.astimezone(UTC)
    # Formatted by hand: strftime("%Y") does not pad years below 1000 on glibc.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"
    )


def _parse_timestamp(text: str) -> datetime:
    if not _TIMESTAMP_RE.fullmatch(text):
        raise SignatureError("malformed authorization: timestamp")
    try:
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise SignatureError("malformed authorization: timestamp") from None
    return parsed.replace(tzinfo=UTC)
