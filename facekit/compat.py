"""The old ``AipFace`` interface, on top of :class:`facekit.FaceClient`.

Code written for the official v2 SDK (``from aip import AipFace``) moves to
facekit by changing one import::

    from facekit.compat import AipFace

    client = AipFace(APP_ID, API_KEY, SECRET_KEY)
    result = client.detect(image_bytes, {"max_face_num": 1, "face_fields": "age"})

What stays as the reference document describes it:

- the constructor ``AipFace(app_id, api_key, secret_key)``, the camelCase
  methods with the document's argument order (where the official SDK 1.6.9
  code differs, for ``updateUser``, ``verifyUser`` and ``addGroupUser``, the
  document wins), ``options`` dicts with the document's key names, and
  ``setConnectionTimeoutInMillis`` / ``setSocketTimeoutInMillis``;
- results are dicts: the JSON the service answered (through the generated
  models' ``to_dict()``);
- failures the document gives a code to come back as dicts, not exceptions:
  a service error as ``{"error_code": 216616, "error_msg": ..., "log_id": ...}``,
  a refused argument as ``{"error_code": "SDK106", "error_msg": "uid format
  error"}`` (the message of ``x-error-codes`` in the spec), a timeout as
  ``{"error_code": "SDK108", "error_msg": "connection or read data time out"}``.

What differs, on purpose:

- **Unknown option keys raise** ``TypeError`` naming the key (and the
  nearest accepted one).  The official SDK merged ``options`` into the form
  and sent typos to the service, which ignored them: ``max_face_number=5``
  quietly returned one face.  The document gives no code for this, an error
  dict would look like an answer from the service, and a mistyped keyword
  is a ``TypeError`` everywhere else in Python.  Each method accepts the
  fields its request schema in the spec declares beyond its positional
  arguments (``detect``: ``max_face_num``, ``face_fields``; ``verifyUser``:
  ``top_num``, ``group_id``; ``updateUser``: ``user_info``, ``group_id``;
  ``identifyUser``: ``user_top_num``, ``face_top_num``; ``getGroupList`` and
  ``getGroupUsers``: ``start``, ``num``; ``addGroupUser``: ``src_group_id``).
- Integer options may be given as ``int`` or as a string of digits (which
  is what reached the wire before); anything else is checked by the spec.
- A value the document gives no SDK code to but the service refuses (an
  option out of range, an unknown face field) is refused before sending
  with the service's own answer, ``{"error_code": 216100, "error_msg":
  "invalid param"}``, without a ``log_id`` since nothing was sent.
- Failures the document has no code for (a refused connection, a body that
  is not JSON) raise facekit's exceptions, as the official SDK let those of
  ``requests`` through.
- TLS certificates are verified, and nothing is retried: as before, one
  call is one request (plus a token request when one is due).  Both
  timeouts start at the official SDK's 60 seconds.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Protocol

import httpx

from facekit import _spec
from facekit._client import FaceClient
from facekit._errors import APIError, RequestTimeoutError, ValidationError

__all__ = ["AipFace"]

_logger = logging.getLogger(__name__)

# The official SDK's defaults, in seconds, for connecting and for reading.
_DEFAULT_TIMEOUT_SECONDS = 60.0
_IMAGE_FIELDS = frozenset({"image", "images"})


class _Result(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


class AipFace:
    """The face client of the reference document, backed by facekit.

    ``base_url`` points it at another server (the local face server, say);
    by default it is the cloud, as :class:`facekit.FaceClient` decides.
    ``_transport`` is a testing seam: an ``httpx`` transport (such as
    ``httpx.MockTransport``) used instead of the network.
    """

    def __init__(
        self,
        app_id: str,
        api_key: str,
        secret_key: str,
        *,
        base_url: str | None = None,
        _transport: httpx.BaseTransport | None = None,
    ) -> None:
        # TODO: Let FaceClient build the pool and have _set_timeout go through
        # FaceClient.timeout, which serves the two setters as well.  Until
        # then requests carry httpx's User-Agent, not facekit's, and take
        # FaceClient's general request path rather than its faster one.
        self._http = httpx.Client(
            timeout=httpx.Timeout(_DEFAULT_TIMEOUT_SECONDS), transport=_transport
        )
        # plugins=[]: the official SDK retried nothing, so neither does this.
        self._client = FaceClient(
            api_key,
            secret_key,
            app_id,
            base_url=base_url,
            plugins=[],
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return f"AipFace({self._client!r})"

    def close(self) -> None:
        """Close the connections (not in the document; the old SDK never did)."""
        self._http.close()

    # -- configuration ---------------------------------------------------------

    def setConnectionTimeoutInMillis(self, ms: float) -> None:
        """Set how long to wait for a connection, in milliseconds."""
        self._set_timeout(connect=_seconds(ms))

    def setSocketTimeoutInMillis(self, ms: float) -> None:
        """Set how long to wait for data on an open connection, in milliseconds."""
        self._set_timeout(read=_seconds(ms))

    def _set_timeout(self, **changes: float) -> None:
        settings = {**self._http.timeout.as_dict(), **changes}
        self._http.timeout = httpx.Timeout(**settings)

    # -- face attributes and matching ------------------------------------------

    def detect(
        self, image: Any, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Detect faces and their attributes (options: max_face_num, face_fields)."""
        extra = _options("detect", options)
        return _call(lambda: self._client.detect(image, **extra))

    def match(
        self, images: Any, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Score every pair of faces among two or more images."""
        extra = _options("match", options)
        return _call(lambda: self._client.match(images, **extra))

    # -- the face library ------------------------------------------------------

    def addUser(
        self,
        uid: str,
        user_info: str,
        group_id: Any,
        images: Any,
        options: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register a user's faces in one or more groups."""
        extra = _options("addUser", options)
        return _call(
            lambda: self._client.add_user(uid, user_info, group_id, images, **extra)
        )

    def updateUser(
        self, uid: str, images: Any, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Replace a user's faces (options: user_info, group_id)."""
        extra = _options("updateUser", options)
        return _call(lambda: self._client.update_user(uid, images, **extra))

    def deleteUser(
        self, uid: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Delete a user with its faces, from every group."""
        extra = _options("deleteUser", options)
        return _call(lambda: self._client.delete_user(uid, **extra))

    def verifyUser(
        self, uid: str, images: Any, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Score images against one user (options: top_num, group_id)."""
        extra = _options("verifyUser", options)
        return _call(lambda: self._client.verify_user(uid, images, **extra))

    def identifyUser(
        self, group_id: Any, images: Any, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Find the users of groups most like the face (user_top_num, face_top_num)."""
        extra = _options("identifyUser", options)
        return _call(lambda: self._client.identify_user(group_id, images, **extra))

    def getUser(
        self, uid: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Read a user's information and groups."""
        extra = _options("getUser", options)
        return _call(lambda: self._client.get_user(uid, **extra))

    def getGroupList(self, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """List the groups, a page at a time (options: start, num)."""
        extra = _options("getGroupList", options)
        return _call(lambda: self._client.get_group_list(**extra))

    def getGroupUsers(
        self, group_id: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """List the users of one group, a page at a time (options: start, num)."""
        extra = _options("getGroupUsers", options)
        return _call(lambda: self._client.get_group_users(group_id, **extra))

    def addGroupUser(
        self, group_id: Any, uid: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Put an existing user into more groups (options: src_group_id)."""
        extra = _options("addGroupUser", options)
        return _call(lambda: self._client.add_group_user(group_id, uid, **extra))

    def deleteGroupUser(
        self, group_id: str, uid: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Take a user out of one group."""
        extra = _options("deleteGroupUser", options)
        return _call(lambda: self._client.delete_group_user(group_id, uid, **extra))


# The document's positional arguments of each method, as the spec names the
# form fields they fill; every other field of the request schema is an option.
_POSITIONAL: Mapping[str, frozenset[str]] = {
    "detect": frozenset(),
    "match": frozenset(),
    "addUser": frozenset({"uid", "user_info", "group_id"}),
    "updateUser": frozenset({"uid"}),
    "deleteUser": frozenset({"uid"}),
    "verifyUser": frozenset({"uid"}),
    "identifyUser": frozenset({"group_id"}),
    "getUser": frozenset({"uid"}),
    "getGroupList": frozenset(),
    "getGroupUsers": frozenset({"group_id"}),
    "addGroupUser": frozenset({"group_id", "uid"}),
    "deleteGroupUser": frozenset({"group_id", "uid"}),
}


@cache
def _option_types(operation: str) -> Mapping[str, str | None]:
    """The options ``operation`` accepts, each with its schema type."""
    schema = _request_schema(operation)
    fields = _spec.request_fields(schema) if schema else {}
    skip = _POSITIONAL[operation] | _IMAGE_FIELDS
    return {name: node.get("type") for name, node in fields.items() if name not in skip}


@cache
def _request_schema(operation: str) -> str | None:
    for item in _spec.load()["paths"].values():
        for operation_object in item.values():
            if operation_object.get("operationId") != operation:
                continue
            body = operation_object.get("requestBody")
            if body is None:
                return None
            content = body["content"]["application/x-www-form-urlencoded"]
            return str(content["schema"]["$ref"]).rsplit("/", 1)[-1]
    raise LookupError(f"the spec has no operation {operation!r}")


def _options(operation: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options as keyword arguments; unknown keys raise ``TypeError``."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(
            f"{operation}() options must be a dict, not {type(options).__name__}"
        )

    accepted = _option_types(operation)
    unknown = [key for key in options if key not in accepted]
    if unknown:
        raise TypeError(_unknown_options_message(operation, unknown, accepted))

    return {
        key: _as_int(value) if accepted[key] == "integer" else value
        for key, value in options.items()
    }


def _unknown_options_message(
    operation: str, unknown: list[Any], accepted: Mapping[str, object]
) -> str:
    names = ", ".join(repr(key) for key in unknown)
    hints = [
        f"{key!r} -> {match[0]!r}"
        for key in unknown
        if isinstance(key, str)
        and (match := difflib.get_close_matches(key, list(accepted), n=1))
    ]
    hint = f" (did you mean {'; '.join(hints)}?)" if hints else ""
    takes = ", ".join(accepted) if accepted else "no options"
    return (
        f"{operation}() got unknown option(s) {names}{hint}; it takes {takes}. "
        "Unknown options are refused rather than sent to the service, "
        "which would ignore them."
    )


def _as_int(value: Any) -> Any:
    # The official SDK sent options as form text, so "5" worked as well as 5.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def _seconds(ms: float) -> float:
    if isinstance(ms, bool) or not isinstance(ms, int | float) or ms <= 0:
        raise ValueError(f"a timeout must be a positive number of ms, not {ms!r}")
    return ms / 1000.0


def _call(send: Callable[[], _Result]) -> dict[str, Any]:
    """Run one call of the new client; answer as the old SDK did."""
    try:
        result = send()
    except ValidationError as error:
        _logger.debug("refused before sending: %s", error)
        return _validation_dict(error)
    except RequestTimeoutError as error:
        return _code_dict(error.error_code)
    except APIError as error:
        return _api_dict(error)
    return result.to_dict()


def _validation_dict(error: ValidationError) -> dict[str, Any]:
    # The first problem the document has an SDK code for, as the old SDK
    # checked one rule at a time; otherwise the service's own code that the
    # spec gives the problem (216100 for ranges and face_fields names).
    for code in error.codes:
        if code.startswith("SDK"):
            return _code_dict(code)
    return _code_dict(int(error.codes[0]))


def _code_dict(code: int | str) -> dict[str, Any]:
    """The old SDK's error dict for a code, with the spec's message for it."""
    return {"error_code": code, "error_msg": _spec.error_codes()[code].message}


def _api_dict(error: APIError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error_code": error.error_code,
        "error_msg": error.error_msg,
    }
    if error.log_id is not None:
        body["log_id"] = error.log_id
    return body
