"""Shared pieces of the facade's tests: a fake service, images, the raw spec.

Everything spec-related here reads ``spec/face-v2.yaml`` directly with
PyYAML and jsonschema, never through ``facekit._spec``, so that the tests
check the facade against the document rather than against itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jsonschema
import yaml
from jsonschema import validators

import facekit

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "spec" / "face-v2.yaml"

API_KEY = "ak-Facade-Test-7f3a9c2e1b"
SECRET_KEY = "sk-Facade-Secret-4d8e6f0a2c"
TOKEN = "24.facade-token-5e1ff107f0e8bcef.2592000.1485516651.282335-8574074"

# The smallest inputs the facade takes for each format: the spec's magic
# bytes followed by a little filler (nothing decodes the pictures).
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(40))
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
BMP = b"BM" + bytes(range(40))

# operationId -> (path, client method name)
OPERATIONS: dict[str, tuple[str, str]] = {
    "detect": ("/rest/2.0/face/v2/detect", "detect"),
    "match": ("/rest/2.0/face/v2/match", "match"),
    "addUser": ("/rest/2.0/face/v2/faceset/user/add", "add_user"),
    "updateUser": ("/rest/2.0/face/v2/faceset/user/update", "update_user"),
    "deleteUser": ("/rest/2.0/face/v2/faceset/user/delete", "delete_user"),
    "verifyUser": ("/rest/2.0/face/v2/verify", "verify_user"),
    "identifyUser": ("/rest/2.0/face/v2/identify", "identify_user"),
    "getUser": ("/rest/2.0/face/v2/faceset/user/get", "get_user"),
    "getGroupList": ("/rest/2.0/face/v2/faceset/group/getlist", "get_group_list"),
    "getGroupUsers": ("/rest/2.0/face/v2/faceset/group/getusers", "get_group_users"),
    "addGroupUser": ("/rest/2.0/face/v2/faceset/group/adduser", "add_group_user"),
    "deleteGroupUser": (
        "/rest/2.0/face/v2/faceset/group/deleteuser",
        "delete_group_user",
    ),
}
# path -> operationId
OPERATION_AT: dict[str, str] = {path: op for op, (path, _) in OPERATIONS.items()}

# A valid call of every operation, positional and keyword arguments.
VALID_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "detect": ((JPEG,), {}),
    "match": (([JPEG, PNG],), {}),
    "addUser": (("uid1", "info", "group1", [JPEG]), {}),
    "updateUser": (("uid1", [JPEG]), {}),
    "deleteUser": (("uid1",), {}),
    "verifyUser": (("uid1", [JPEG]), {}),
    "identifyUser": (("group1", [JPEG]), {}),
    "getUser": (("uid1",), {}),
    "getGroupList": ((), {}),
    "getGroupUsers": (("group1",), {}),
    "addGroupUser": (("group1", "uid1"), {}),
    "deleteGroupUser": (("group1", "uid1"), {}),
}


@cache
def spec() -> Mapping[str, Any]:
    with SPEC_PATH.open("rb") as stream:
        document: Mapping[str, Any] = yaml.safe_load(stream)
    return document


def schema(name: str) -> Mapping[str, Any]:
    return spec()["components"]["schemas"][name]  # type: ignore[no-any-return]


def operation(operation_id: str) -> Mapping[str, Any]:
    path, _ = OPERATIONS[operation_id]
    return spec()["paths"][path]["post"]  # type: ignore[no-any-return]


def _resolve(node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = spec()
        for part in parts:
            target = target[part]
        node = target
    return node


def inline(node: Any) -> Any:
    """``node`` with every ``$ref`` replaced by its target (no cycles here)."""
    node = _resolve(node)
    if isinstance(node, Mapping):
        return {key: inline(value) for key, value in node.items()}
    if isinstance(node, list):
        return [inline(item) for item in node]
    return node


def success_example(operation_id: str) -> dict[str, Any]:
    answers = _resolve(operation(operation_id)["responses"]["200"])
    return dict(answers["content"]["application/json"]["examples"]["success"]["value"])


def request_schema(operation_id: str) -> dict[str, Any]:
    body = operation(operation_id)["requestBody"]["content"]
    return inline(body["application/x-www-form-urlencoded"]["schema"])  # type: ignore[no-any-return]


def request_schema_by_name(name: str) -> dict[str, Any]:
    return inline(schema(name))  # type: ignore[no-any-return]


# -- JSON Schema with the spec's semantics ------------------------------------


def _js_pattern(
    validator: Any, pattern: str, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    # ECMA-262 `$` (no multiline) matches only at the very end; Python's also
    # matches before a final newline, so use \Z for the anchor instead.
    if not isinstance(instance, str):
        return
    python_pattern = re.sub(r"(?<!\\)\$$", r"\\Z", pattern)
    if re.search(python_pattern, instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _max_bytes(
    validator: Any, limit: int, instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, str) and len(instance.encode("utf-8")) > limit:
        yield jsonschema.ValidationError(f"more than {limit} bytes of UTF-8")


def _require_one_of(
    validator: Any, names: list[str], instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    if isinstance(instance, Mapping) and not any(name in instance for name in names):
        yield jsonschema.ValidationError(f"one of {names} is required")


def _strict_integer(checker: Any, instance: Any) -> bool:
    # A form field is an integer only as an int; 1.0 and True are not.
    return isinstance(instance, int) and not isinstance(instance, bool)


_SpecValidator = validators.extend(
    jsonschema.Draft4Validator,
    validators={
        "pattern": _js_pattern,
        "x-max-bytes": _max_bytes,
        "x-require-one-of": _require_one_of,
    },
    type_checker=jsonschema.Draft4Validator.TYPE_CHECKER.redefine(
        "integer", _strict_integer
    ),
)


def spec_errors(node: Mapping[str, Any], instance: Any) -> list[str]:
    """What the spec's schema ``node`` finds wrong with ``instance``."""
    return [
        error.message for error in _SpecValidator(inline(node)).iter_errors(instance)
    ]


def decode_form(operation_id: str, content: bytes) -> dict[str, Any]:
    """A sent form body as the spec's request schema sees it.

    Array fields (``image``, repeated) stay lists; other fields must not be
    repeated; integer fields go back to ``int`` when they look like one.
    """
    properties = request_schema(operation_id)["properties"]
    decoded: dict[str, Any] = {}
    for name, values in parse_qs(
        content.decode("ascii"), keep_blank_values=True, strict_parsing=bool(content)
    ).items():
        kind = properties.get(name, {}).get("type")
        if kind == "array":
            decoded[name] = values
            continue
        assert len(values) == 1, f"{name} was sent {len(values)} times"
        value: Any = values[0]
        if kind == "integer" and re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        decoded[name] = value
    return decoded


# -- a fake service ------------------------------------------------------------

Answer = httpx.Response | Mapping[str, Any] | Exception | Callable[[httpx.Request], Any]


class FakeService:
    """The token endpoint and the face operations, behind ``httpx.MockTransport``.

    Each face path answers its queued answers in order, then the spec's
    success example.  An answer is an ``httpx.Response``, a JSON object, an
    exception to raise (``httpx.ReadTimeout`` ...), or a callable of the
    request.  ``requests`` records every face request; ``token_requests``
    counts the token fetches.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.token_requests = 0
        self._queued: dict[str, list[Answer]] = {}
        self.transport = httpx.MockTransport(self.handle)

    def queue(self, operation_id: str, *answers: Answer) -> None:
        path, _ = OPERATIONS[operation_id]
        self._queued.setdefault(path, []).extend(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/2.0/token":
            self.token_requests += 1
            params = request.url.params
            assert params["client_id"] == API_KEY
            assert params["client_secret"] == SECRET_KEY
            return httpx.Response(
                200,
                json={
                    "access_token": TOKEN,
                    "expires_in": 2592000,
                    "scope": "public brain_all_scope",
                },
            )

        assert request.url.params.get("access_token") == TOKEN
        self.requests.append(request)
        queued = self._queued.get(request.url.path)
        answer: Answer
        if queued:
            answer = queued.pop(0)
        else:
            answer = success_example(OPERATION_AT[request.url.path])
        return _respond(answer, request)

    def operations(self) -> list[str]:
        """The operation ids of the recorded requests, in order."""
        return [OPERATION_AT[request.url.path] for request in self.requests]


def _respond(answer: Answer, request: httpx.Request) -> httpx.Response:
    if isinstance(answer, httpx.Response):
        return answer
    if isinstance(answer, Exception):
        raise answer
    if callable(answer):
        return _respond(answer(request), request)
    return httpx.Response(200, content=json.dumps(answer).encode())


def error_body(
    code: int | str, message: str = "error", log_id: int = 42
) -> dict[str, Any]:
    return {"error_code": code, "error_msg": message, "log_id": log_id}


def make_client(service: FakeService, **options: Any) -> facekit.FaceClient:
    """A client of ``service``; no plugins unless asked (tests pick their own)."""
    options.setdefault("plugins", [])
    return facekit.FaceClient(
        API_KEY, SECRET_KEY, transport=service.transport, **options
    )


def make_async_client(service: FakeService, **options: Any) -> facekit.AsyncFaceClient:
    options.setdefault("plugins", [])
    return facekit.AsyncFaceClient(
        API_KEY, SECRET_KEY, transport=service.transport, **options
    )


def no_io_client(**options: Any) -> facekit.FaceClient:
    """A client whose every request fails the test: for checks that must not send."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(
            f"no request may be sent, got {request.method} {request.url.path}"
        )

    options.setdefault("plugins", [])
    return facekit.FaceClient(
        API_KEY, SECRET_KEY, transport=httpx.MockTransport(refuse), **options
    )
