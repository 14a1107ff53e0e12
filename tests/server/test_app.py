from __future__ import annotations

import asyncio
import base64
import struct
import threading
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cv2
import httpx
import jsonschema
import numpy as np
import pytest
from _faultkit import png_bomb

from facekit import _signing, _spec
from facekit.server import app as app_module
from facekit.server import create_app
from facekit.server._forms import operations
from facekit.server.app import OMITTED_FIELDS_HEADER
from facekit.server.engine import EngineUnavailable, FaceEngine, get_engine
from facekit.server.store import FaceStore
from facekit.server.testing import FaceServer, running_face_server, token_params

Encoder = Callable[[str], str]
Form = Mapping[str, Any] | Sequence[tuple[str, str]]

PATHS = {operation_id: op.path for operation_id, op in operations().items()}
TOKEN_PATH = PATHS["getAccessToken"]
UID_MAX = _spec.string_rule("Uid").max_length or 0
GROUP_ID_MAX = _spec.string_rule("GroupId").max_length or 0
USER_INFO_MAX_BYTES = _spec.string_rule("UserInfo").max_bytes or 0
MAX_BODY = _spec.max_body_bytes()
FORM = "application/x-www-form-urlencoded"


# --- helpers -------------------------------------------------------------------


def _response_schema(operation_id: str) -> Mapping[str, Any]:
    document = _spec.load()
    operation = operations()[operation_id]
    response = document["paths"][operation.path][operation.method.lower()]["responses"][
        "200"
    ]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].split("/")[-1]]
    schema = response["content"]["application/json"]["schema"]
    return {"components": document["components"], **schema}


def _conforms(operation_id: str, body: Any) -> None:
    jsonschema.validate(body, _response_schema(operation_id))


async def call(
    client: httpx.AsyncClient, operation_id: str, data: Form | None = None, **kw: Any
) -> dict[str, Any]:
    """POST a face operation; check the body against the spec; return it."""
    if isinstance(data, Sequence):
        # Repeated fields in an order of our choosing: encode by hand.
        kw["content"] = urlencode(data).encode()
        kw["headers"] = {**kw.get("headers", {}), "content-type": FORM}
        data = None
    response = await client.post(PATHS[operation_id], data=data, **kw)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    _conforms(operation_id, body)
    assert 0 <= body["log_id"] < 2**63
    return body


async def error_code(
    client: httpx.AsyncClient, operation_id: str, data: Form | None = None, **kw: Any
) -> int:
    body = await call(client, operation_id, data, **kw)
    assert "error_code" in body, body
    code: int = body["error_code"]
    assert body["error_msg"]
    return code


def _encode(image_bytes: bytes) -> str:
    return base64.b64encode(image_bytes).decode()


def _reencode(photo: bytes, extension: str) -> bytes:
    image = cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR)
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    return bytes(encoded.tobytes())


@pytest.fixture
def decode_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the engine's decodes (the shared engine, restored afterwards)."""
    engine = get_engine()
    calls: list[int] = []
    original = engine.decode

    def counting(data: bytes) -> Any:
        calls.append(len(data))
        return original(data)

    monkeypatch.setattr(engine, "decode", counting)
    return calls


# --- the token endpoint ----------------------------------------------------------


async def test_the_token_endpoint_issues_a_token(server: FaceServer) -> None:
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        response = await plain.get(TOKEN_PATH, params=token_params(server))

    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert set(body) == {"access_token", "expires_in", "scope"}
    assert body["expires_in"] == 2_592_000
    assert "brain_all_scope" in body["scope"].split()


@pytest.mark.parametrize(
    ("change", "status", "error", "description"),
    [
        ({"client_id": "nobody"}, 401, "invalid_client", "unknown client id"),
        (
            {"client_secret": "wrong"},
            401,
            "invalid_client",
            "Client authentication failed",
        ),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", None),
        ({"grant_type": None}, 400, "unsupported_grant_type", None),
        ({"client_id": None}, 400, "invalid_request", None),
        ({"client_secret": ""}, 400, "invalid_request", None),
        ({"client_id": "k" * 257}, 400, "invalid_request", None),
    ],
)
async def test_token_endpoint_errors(
    server: FaceServer,
    change: dict[str, str | None],
    status: int,
    error: str,
    description: str | None,
) -> None:
    params = {**token_params(server), **change}
    query = {name: value for name, value in params.items() if value is not None}
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        response = await plain.get(TOKEN_PATH, params=query)

    assert response.status_code == status
    assert response.json()["error"] == error
    if description is not None:
        assert response.json()["error_description"] == description


async def test_the_token_endpoint_takes_only_get(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN_PATH)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.json()["error_code"] == 3


# --- authentication of the face operations ---------------------------------------


async def test_no_token_is_100_unknown_is_110(server: FaceServer) -> None:
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        missing = await error_code(plain, "getGroupList")
        empty = await error_code(plain, "getGroupList", params={"access_token": ""})
        forged = await error_code(
            plain, "getGroupList", params={"access_token": "24.abc.2592000.1.1-1"}
        )

    assert (missing, empty, forged) == (100, 100, 110)


async def test_an_expired_token_is_111(tmp_path: Path) -> None:
    now = [1_700_000_000.0]
    with running_face_server(
        tmp_path / "faces.db", token_lifetime=60, clock=lambda: now[0]
    ) as server:
        async with httpx.AsyncClient(
            transport=server.transport, base_url=server.base_url
        ) as plain:
            token = (await plain.get(TOKEN_PATH, params=token_params(server))).json()
            params = {"access_token": token["access_token"]}
            assert "result" in await call(plain, "getGroupList", params=params)
            now[0] += 60
            assert await error_code(plain, "getGroupList", params=params) == 111


def _bce_headers(
    server: FaceServer, path: str, params: Mapping[str, str], secret: str
) -> dict[str, str]:
    moment = datetime.now(UTC)
    headers = {
        "host": httpx.URL(server.base_url).host,
        "x-bce-date": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    headers["authorization"] = _signing.sign_request(
        method="POST",
        path=path,
        params=params,
        headers=headers,
        access_key=server.api_key,
        secret_key=secret,
        timestamp=moment,
    )
    return headers


async def test_a_bce_signed_request_is_accepted_and_a_tampered_one_is_14(
    server: FaceServer,
) -> None:
    path = PATHS["getGroupList"]
    params = {"aipSdk": "python", "aipVersion": "1_6_9"}
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        headers = _bce_headers(server, path, params, server.secret_key)
        signed = await call(plain, "getGroupList", params=params, headers=headers)
        tampered = await error_code(
            plain,
            "getGroupList",
            params={**params, "aipVersion": "9_9_9"},
            headers=headers,
        )
        wrong_key = await error_code(
            plain,
            "getGroupList",
            params=params,
            headers=_bce_headers(server, path, params, "not-the-secret"),
        )

    assert signed["result"] == []
    assert (tampered, wrong_key) == (14, 14)


# --- routing -----------------------------------------------------------------------


async def test_an_unknown_path_is_404_with_error_3(client: httpx.AsyncClient) -> None:
    response = await client.post("/rest/2.0/face/v2/nothing")
    assert response.status_code == 404
    assert response.json()["error_code"] == 3


async def test_a_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.get(PATHS["detect"])
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error_code"] == 3


async def test_capabilities_say_what_is_left_out(client: httpx.AsyncClient) -> None:
    body = (await client.get("/facekit/capabilities")).json()

    fields = body["detect"]["face_fields"]
    assert fields["landmark"] == {"computed": True, "omitted": ["landmark72"]}
    assert fields["age"]["computed"] is False
    assert body["detect"]["never"] == ["pitch"]
    assert body["limits"]["max_body_bytes"] == MAX_BODY
    assert set(body["operations"]) == set(PATHS)


# --- form limits from the spec ------------------------------------------------------


def _integer_cases() -> list[tuple[str, Form, int]]:
    """Each integer field just outside its range, and malformed."""
    fields = [
        ("detect", "DetectRequest", "max_face_num", {"image": "x"}),
        ("verifyUser", "VerifyRequest", "top_num", {"uid": "u", "image": "x"}),
        (
            "identifyUser",
            "IdentifyRequest",
            "user_top_num",
            {"group_id": "g", "image": "x"},
        ),
        (
            "identifyUser",
            "IdentifyRequest",
            "face_top_num",
            {"group_id": "g", "image": "x"},
        ),
        ("getGroupList", "PageRequest", "start", {}),
        ("getGroupList", "PageRequest", "num", {}),
        ("getGroupUsers", "GroupUsersRequest", "start", {"group_id": "g"}),
        ("getGroupUsers", "GroupUsersRequest", "num", {"group_id": "g"}),
    ]
    cases: list[tuple[str, Form, int]] = []
    for operation_id, schema, field, base in fields:
        rule = _spec.integer_rule(schema, field)
        assert rule.minimum is not None and rule.maximum is not None
        for bad in (
            rule.minimum - 1,
            rule.maximum + 1,
            "1.0",
            " 1",
            "1_0",
            "\u0663",
            "",
        ):
            cases.append((operation_id, {**base, field: str(bad)}, 216100))
    return cases


LIMIT_CASES: list[tuple[str, Form, int]] = [
    # uid: charset, bytes, empty, missing
    ("getUser", {"uid": "a" * UID_MAX}, 216612),
    ("getUser", {"uid": "a" * (UID_MAX + 1)}, 216103),
    ("getUser", {"uid": "a-b"}, 216100),
    ("getUser", {"uid": "\u00fc"}, 216100),
    ("getUser", {"uid": "a\n"}, 216100),
    ("getUser", {"uid": ""}, 216101),
    ("getUser", {}, 216101),
    # the form itself
    ("getUser", {"uid": "a", "extra": "1"}, 216100),
    ("getUser", [("uid", "a"), ("uid", "b")], 216100),
    ("getUser", {"uid": "a", "aipSdk": "python"}, 216100),
    # user_info counts bytes; group_id is a comma list of ids
    (
        "addUser",
        {"uid": "u", "user_info": "\u00e9" * 129, "group_id": "g", "image": "x"},
        216103,
    ),
    (
        "addUser",
        {
            "uid": "u",
            "user_info": "i",
            "group_id": "g" * (GROUP_ID_MAX + 1),
            "image": "x",
        },
        216103,
    ),
    (
        "addUser",
        {"uid": "u", "user_info": "i", "group_id": "a,,b", "image": "x"},
        216100,
    ),
    (
        "addUser",
        {"uid": "u", "user_info": "i", "group_id": "a b", "image": "x"},
        216100,
    ),
    ("addUser", {"uid": "u", "user_info": "i", "group_id": "g"}, 216101),
    (
        "addUser",
        {"uid": "u", "user_info": "i", "group_id": "g", "image": "x", "images": "x"},
        216100,
    ),
    (
        "addUser",
        {"uid": "u", "user_info": "i", "group_id": "g", "image": ["x"] * 6},
        216100,
    ),
    (
        "addUser",
        {"uid": "u", "user_info": "i", "group_id": "g", "images": ",".join(["x"] * 6)},
        216100,
    ),
    ("addGroupUser", {"uid": "u", "group_id": "g", "src_group_id": "a,b"}, 216100),
    ("deleteGroupUser", {"uid": "u", "group_id": "a,b"}, 216100),
    # face_fields is a comma list of an enum
    ("detect", {"image": "x", "face_fields": "age,nose"}, 216100),
    ("detect", {"image": "x", "face_fields": ""}, 216100),
    ("detect", {"image": "x", "face_fields": "age,"}, 216100),
    ("detect", [("image", "x"), ("image", "x")], 216100),
    ("detect", {}, 216101),
    # image counts
    ("match", {"images": "x"}, 216614),
    ("verifyUser", {"uid": "u"}, 216101),
    ("identifyUser", {"group_id": "g", "image": ["x"] * 6}, 216100),
    *_integer_cases(),
]


@pytest.mark.parametrize(("operation_id", "data", "expected"), LIMIT_CASES)
async def test_every_limit_of_the_spec_has_its_error_code(
    client: httpx.AsyncClient, operation_id: str, data: Form, expected: int
) -> None:
    assert await error_code(client, operation_id, data) == expected


async def test_declared_query_parameters_are_limited(client: httpx.AsyncClient) -> None:
    too_long = "p" * 33
    code = await error_code(client, "getGroupList", params={"aipSdk": too_long})
    assert code == 216103
    assert "result" in await call(client, "getGroupList", params={"aipSdk": "python"})


async def test_a_body_that_is_not_a_form_is_refused(client: httpx.AsyncClient) -> None:
    path = PATHS["getGroupList"]
    cases = [
        {"content": b"start=0", "headers": {"content-type": "text/plain"}},
        {"content": b'{"start": 0}', "headers": {"content-type": "application/json"}},
        {"content": b"uid=%FF", "headers": {"content-type": FORM}},
        {"content": b"\xff=1", "headers": {"content-type": FORM}},
        {"content": b"&" * 100, "headers": {"content-type": FORM}},
    ]
    for case in cases:
        response = await client.post(path, **case)
        assert response.json()["error_code"] == 216100, case


async def test_an_empty_body_is_an_empty_form(client: httpx.AsyncClient) -> None:
    response = await client.post(PATHS["getGroupList"], content=b"")
    assert response.json()["result"] == []


# --- images ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("", 216200),
        ("!!!!", 216203),
        ("abc", 216203),
        ("YWJj\n", 216203),
        ("\u00e9\u00e9\u00e9\u00e9", 216203),
        ("=", 216203),
        (_encode(b"hello, world"), 216201),
        (_encode(b"\xff\xd8\xff\xe0"), 216201),
        (_encode(b"BM" + b"\x00" * 40), 216201),
        (_encode(b"\x89PNG\r\n\x1a\n"), 216201),
    ],
)
async def test_bad_images_have_their_codes(
    client: httpx.AsyncClient, image: str, expected: int
) -> None:
    assert await error_code(client, "detect", {"image": image}) == expected


async def test_a_truncated_jpeg_is_216201(
    client: httpx.AsyncClient, photos: dict[str, bytes]
) -> None:
    truncated = photos["obama-1.jpg"][:4000]
    assert await error_code(client, "detect", {"image": _encode(truncated)}) == 216201


def _jpeg_header_only(width: int, height: int) -> bytes:
    """A baseline JPEG frame and scan header for ``width x height``, no pixels."""
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00" * 3
    scan = b"\x03" + b"\x01\x00\x02\x11\x03\x11" + b"\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xc0"
        + struct.pack(">H", len(frame) + 2)
        + frame
        + b"\xff\xda"
        + struct.pack(">H", len(scan) + 2)
        + scan
        + b"\x00" * 16
        + b"\xff\xd9"
    )


def _bmp_header_only(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return (
        b"BM" + struct.pack("<IHHI", 14 + len(info) + 16, 0, 0, 54) + info + bytes(16)
    )


@pytest.mark.parametrize(
    "bomb",
    [
        png_bomb(100_000, 100_000),
        _jpeg_header_only(65_535, 65_535),
        _bmp_header_only(100_000, 100_000),
    ],
    ids=["png", "jpeg", "bmp"],
)
async def test_a_decompression_bomb_is_refused_before_decoding(
    client: httpx.AsyncClient, decode_calls: list[int], bomb: bytes
) -> None:
    assert len(bomb) < 200

    code = await error_code(client, "detect", {"image": _encode(bomb)})

    assert code == 216202
    assert decode_calls == []


async def test_too_much_base64_for_the_operation_is_216202(
    client: httpx.AsyncClient, decode_calls: list[int]
) -> None:
    cap = _spec.image_rule("detect").max_total_base64_length
    code = await error_code(client, "detect", {"image": "A" * (cap + 4)})
    assert code == 216202
    assert decode_calls == []


# --- bodies over the limit ---------------------------------------------------------


class CountingBody:
    """A streamed body of ``total`` bytes that records how much was taken."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        prefix = b"image="
        self.sent += len(prefix)
        yield prefix
        while self.sent < self.total:
            size = min(self.chunk, self.total - self.sent)
            self.sent += size
            yield b"A" * size


async def test_a_declared_oversize_body_is_refused_without_reading_it(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(2 * MAX_BODY)
    response = await client.post(
        PATHS["detect"],
        content=body,
        headers={
            "content-length": str(body.total),
            "content-type": FORM,
        },
    )

    assert response.json()["error_code"] == 216103
    assert body.sent == 0


async def test_a_chunked_oversize_body_is_refused_when_it_passes_the_limit(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(2 * MAX_BODY)
    response = await client.post(
        PATHS["detect"],
        content=body,
        headers={"content-type": FORM},
    )

    assert response.json()["error_code"] == 216103
    assert MAX_BODY < body.sent <= MAX_BODY + body.chunk


async def test_an_unauthenticated_body_is_not_read(server: FaceServer) -> None:
    body = CountingBody(MAX_BODY // 2)
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        response = await plain.post(
            PATHS["detect"],
            content=body,
            headers={"content-type": FORM},
        )

    assert response.json()["error_code"] == 100
    assert body.sent == 0


# --- detect ----------------------------------------------------------------------


async def test_detect_finds_faces_largest_first(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    body = await call(
        client, "detect", {"image": b64("einstein-1.jpg"), "max_face_num": 5}
    )

    faces = body["result"]
    assert body["result_num"] == len(faces) == 2
    areas = [f["location"]["width"] * f["location"]["height"] for f in faces]
    assert areas == sorted(areas, reverse=True)
    assert all(
        {"location", "face_probability", "rotation_angle", "roll"} <= set(face)
        and not {"landmark", "qualities", "pitch", "age"} & set(face)
        for face in faces
    )


async def test_detect_answers_one_face_by_default(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    response = await client.post(PATHS["detect"], data={"image": b64("einstein-1.jpg")})
    assert response.json()["result_num"] == 1
    assert OMITTED_FIELDS_HEADER.lower() not in response.headers


async def test_detect_leaves_out_what_it_cannot_compute_and_says_so(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    response = await client.post(
        PATHS["detect"],
        data={
            "image": b64("obama-1.jpg"),
            "face_fields": "age,landmark,qualities,race",
        },
    )

    face = response.json()["result"][0]
    _conforms("detect", response.json())
    assert response.headers[OMITTED_FIELDS_HEADER] == (
        "age,landmark72,qualities.occlusion,qualities.type,race"
    )
    assert len(face["landmark"]) == 4
    assert set(face["qualities"]) == {"blur", "illumination", "completeness"}
    assert not {"age", "race", "race_probability", "landmark72"} & set(face)


@pytest.mark.parametrize("extension", [".png", ".bmp"])
async def test_detect_takes_png_and_bmp(
    client: httpx.AsyncClient, photos: dict[str, bytes], extension: str
) -> None:
    image = _reencode(photos["obama-1.jpg"], extension)
    body = await call(client, "detect", {"image": _encode(image)})
    assert body["result_num"] == 1


async def test_detect_without_a_face_is_216402(
    client: httpx.AsyncClient, faceless_jpeg: bytes
) -> None:
    assert (
        await error_code(client, "detect", {"image": _encode(faceless_jpeg)}) == 216402
    )


# --- match -------------------------------------------------------------------------


async def test_match_pairs_images_with_faces_by_request_index(
    client: httpx.AsyncClient, b64: Encoder, faceless_jpeg: bytes
) -> None:
    images = [
        b64("obama-1.jpg"),
        _encode(faceless_jpeg),
        b64("obama-2.jpg"),
        b64("biden-1.jpg"),
    ]

    body = await call(client, "match", {"images": ",".join(images)})

    pairs = {(p["index_i"], p["index_j"]): p["score"] for p in body["result"]}
    assert body["result_num"] == 3
    assert set(pairs) == {(0, 2), (0, 3), (2, 3)}
    assert pairs[(0, 2)] > 80 > max(pairs[(0, 3)], pairs[(2, 3)])


async def test_match_with_a_bad_image_fails_whole(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    code = await error_code(client, "match", {"images": f"{b64('obama-1.jpg')},!!!!"})
    assert code == 216203


# --- the face library ------------------------------------------------------------


async def _enrol(
    client: httpx.AsyncClient, uid: str, groups: str, *images: str, info: str = "info"
) -> dict[str, Any]:
    data = {"uid": uid, "user_info": info, "group_id": groups, "image": list(images)}
    return await call(client, "addUser", data)


async def test_the_library_round_trip(client: httpx.AsyncClient, b64: Encoder) -> None:
    assert set(await _enrol(client, "obama", "g1,g2", b64("obama-1.jpg"))) == {"log_id"}
    await _enrol(client, "biden", "g1", b64("biden-1.jpg"), info="\u6d4b\u8bd5")

    user = await call(client, "getUser", {"uid": "biden"})
    groups = await call(client, "getGroupList", {})
    members = await call(
        client, "getGroupUsers", {"group_id": "g1", "start": 1, "num": 1}
    )
    assert user["result"] == {
        "uid": "biden",
        "user_info": "\u6d4b\u8bd5",
        "groups": ["g1"],
    }
    assert groups["result"] == ["g1", "g2"] and groups["result_num"] == 2
    assert members["result"] == [{"uid": "obama", "user_info": "info"}]
    assert (await call(client, "getGroupList", {"start": 1, "num": 5}))["result"] == [
        "g2"
    ]

    await call(client, "addGroupUser", {"uid": "biden", "group_id": "g2,g3"})
    assert (
        await error_code(client, "addGroupUser", {"uid": "biden", "group_id": "g2"})
        == 216100
    )
    await call(client, "deleteGroupUser", {"uid": "biden", "group_id": "g3"})
    await call(client, "deleteGroupUser", {"uid": "biden", "group_id": "g2"})
    last = await error_code(
        client, "deleteGroupUser", {"uid": "biden", "group_id": "g1"}
    )
    assert last == 216619

    await call(client, "deleteUser", {"uid": "obama"})
    assert await error_code(client, "getUser", {"uid": "obama"}) == 216612
    assert (await call(client, "getGroupList", {}))["result"] == ["g1"]
    assert await error_code(client, "deleteUser", {"uid": "obama"}) == 216612


async def test_add_user_refuses_a_duplicate_a_sixth_face_and_a_faceless_image(
    client: httpx.AsyncClient,
    b64: Encoder,
    photos: dict[str, bytes],
    faceless_jpeg: bytes,
) -> None:
    await _enrol(client, "obama", "g", b64("obama-1.jpg"), b64("obama-2.jpg"))

    duplicate = await error_code(
        client,
        "addUser",
        {
            "uid": "obama",
            "user_info": "i",
            "group_id": "g",
            "image": b64("obama-1.jpg"),
        },
    )
    # The same photo in other formats is another image to the library.
    variants = [
        _encode(_reencode(photos["obama-3.jpg"], extension))
        for extension in (".png", ".bmp", ".jpg")
    ]
    await _enrol(client, "obama", "g", *variants)
    sixth = await error_code(
        client,
        "addUser",
        {
            "uid": "obama",
            "user_info": "i",
            "group_id": "g",
            "image": b64("obama-3.jpg"),
        },
    )
    faceless = await error_code(
        client,
        "addUser",
        {
            "uid": "x",
            "user_info": "i",
            "group_id": "g",
            "image": _encode(faceless_jpeg),
        },
    )

    assert (duplicate, sixth, faceless) == (216616, 216617, 216402)
    assert await error_code(client, "getUser", {"uid": "x"}) == 216612


async def test_verify_scores_the_same_person_above_80(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    await _enrol(client, "obama", "g", b64("obama-1.jpg"), b64("obama-2.jpg"))

    same = await call(
        client,
        "verifyUser",
        {"uid": "obama", "image": b64("obama-3.jpg"), "top_num": 5},
    )
    other = await call(
        client, "verifyUser", {"uid": "obama", "images": b64("biden-1.jpg")}
    )
    outside = await error_code(
        client,
        "verifyUser",
        {"uid": "obama", "group_id": "h", "image": b64("obama-3.jpg")},
    )
    unknown = await error_code(
        client, "verifyUser", {"uid": "nobody", "image": b64("obama-3.jpg")}
    )

    assert same["result_num"] == 2 and min(same["result"]) > 80
    assert same["result"] == sorted(same["result"], reverse=True)
    assert other["result_num"] == 1 and other["result"][0] < 80
    assert (outside, unknown) == (216613, 216612)


async def test_update_user_replaces_the_faces(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    await _enrol(client, "u", "g", b64("obama-1.jpg"))

    await call(
        client,
        "updateUser",
        {"uid": "u", "image": b64("biden-1.jpg"), "user_info": "new"},
    )
    scores = await call(
        client, "verifyUser", {"uid": "u", "image": b64("obama-2.jpg"), "top_num": 5}
    )
    user = await call(client, "getUser", {"uid": "u"})

    assert scores["result_num"] == 1 and scores["result"][0] < 80
    assert user["result"]["user_info"] == "new"
    missing = await error_code(
        client, "updateUser", {"uid": "v", "image": b64("biden-1.jpg")}
    )
    assert missing == 216612


async def test_identify_finds_the_user_with_its_group(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    await _enrol(
        client, "obama", "staff,visitors", b64("obama-1.jpg"), b64("obama-2.jpg")
    )
    await _enrol(client, "biden", "staff", b64("biden-1.jpg"))
    await _enrol(client, "collins", "visitors", b64("collins-1.jpg"))

    body = await call(
        client,
        "identifyUser",
        {
            "group_id": "visitors,staff",
            "image": b64("obama-3.jpg"),
            "user_top_num": 2,
            "face_top_num": 2,
        },
    )
    stranger = await call(
        client, "identifyUser", {"group_id": "staff", "image": b64("einstein-2.jpg")}
    )
    empty = await error_code(
        client, "identifyUser", {"group_id": "none", "image": b64("obama-3.jpg")}
    )

    best, second = body["result"]
    assert (best["uid"], best["group_id"], len(best["scores"])) == (
        "obama",
        "visitors",
        2,
    )
    assert min(best["scores"]) > 80 > max(second["scores"])
    assert stranger["result"][0]["scores"][0] < 80
    assert empty == 216618


# --- concurrency, admission, injected faults ----------------------------------------


async def test_twenty_concurrent_requests_are_all_answered_right(
    client: httpx.AsyncClient, b64: Encoder
) -> None:
    await _enrol(client, "obama", "g", b64("obama-1.jpg"))
    await _enrol(client, "biden", "g", b64("biden-1.jpg"))
    expected = {"obama-2.jpg": "obama", "obama-3.jpg": "obama", "biden-1.jpg": "biden"}
    names = list(expected)

    async def one(i: int) -> tuple[str, dict[str, Any]]:
        name = names[i % len(names)]
        if i % 2:
            return name, await call(client, "detect", {"image": b64(name)})
        return name, await call(
            client, "identifyUser", {"group_id": "g", "image": b64(name)}
        )

    answers = await asyncio.gather(*(one(i) for i in range(20)))

    for name, body in answers:
        assert "error_code" not in body
        if "result_num" in body and body["result"] and "uid" in body["result"][0]:
            assert body["result"][0]["uid"] == expected[name]
        else:
            assert body["result_num"] == 1


class BlockingEngine(FaceEngine):
    """The real engine whose detect waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def detect(self, image: Any, max_faces: int = 1) -> Any:
        self.entered.set()
        assert self.release.wait(30)
        return super().detect(image, max_faces)


async def test_past_max_pending_a_request_is_answered_18(
    tmp_path: Path, b64: Encoder
) -> None:
    engine = BlockingEngine()
    with running_face_server(tmp_path / "f.db", engine=engine, max_pending=1) as server:
        async with httpx.AsyncClient(
            transport=server.transport, base_url=server.base_url
        ) as plain:
            token = (await plain.get(TOKEN_PATH, params=token_params(server))).json()
            params = {"access_token": token["access_token"]}
            first = asyncio.create_task(
                call(plain, "detect", {"image": b64("obama-1.jpg")}, params=params)
            )
            await asyncio.to_thread(engine.entered.wait, 30)
            busy = await error_code(plain, "getGroupList", params=params)
            engine.release.set()
            answered = await first

    assert busy == 18
    assert answered["result_num"] == 1


async def test_injected_faults_answer_their_share_of_face_calls(tmp_path: Path) -> None:
    async def codes(seed: int) -> list[int | None]:
        with running_face_server(
            tmp_path / f"{seed}.db", inject={18: 0.3, 216400: 0.2}, inject_seed=seed
        ) as server:
            async with httpx.AsyncClient(
                transport=server.transport, base_url=server.base_url
            ) as plain:
                token = await plain.get(TOKEN_PATH, params=token_params(server))
                params = {"access_token": token.json()["access_token"]}
                bodies = [
                    await call(plain, "getGroupList", params=params) for _ in range(60)
                ]
        return [body.get("error_code") for body in bodies]

    first, again = await codes(7), await codes(7)

    assert first == again
    assert set(first) == {None, 18, 216400}
    assert 8 <= first.count(18) <= 30


@pytest.mark.parametrize(
    "inject", [{999: 0.1}, {18: 1.5}, {18: 0.6, 2: 0.6}, {True: 0.1}]
)
def test_bad_injection_is_refused(tmp_path: Path, inject: dict[int, float]) -> None:
    with FaceStore(tmp_path / "f.db") as store, pytest.raises(ValueError):
        create_app(store=store, key_pairs={"k": "s"}, inject=inject)


async def test_an_update_at_its_base64_cap_fits_in_the_body_limit(
    client: httpx.AsyncClient,
) -> None:
    cap = _spec.image_rule("updateUser").max_total_base64_length
    text = base64.b64encode(np.random.default_rng(1).bytes(cap // 4 * 3)).decode()
    assert len(text) <= cap

    code = await error_code(client, "updateUser", {"uid": "u", "image": text})

    assert code != 216103


# --- failures of the server itself ----------------------------------------------------


async def test_missing_models_are_216015(
    client: httpx.AsyncClient, b64: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable() -> FaceEngine:
        raise EngineUnavailable("no models here")

    monkeypatch.setattr(app_module, "get_engine", unavailable)
    assert await error_code(client, "detect", {"image": b64("obama-1.jpg")}) == 216015


class BrokenEngine(FaceEngine):
    def detect(self, image: Any, max_faces: int = 1) -> Any:
        raise RuntimeError("a bug")


async def test_a_bug_is_a_500_with_282000(tmp_path: Path, b64: Encoder) -> None:
    with running_face_server(tmp_path / "f.db", engine=BrokenEngine()) as server:
        transport = httpx.ASGITransport(app=server.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url=server.base_url
        ) as plain:
            token = (await plain.get(TOKEN_PATH, params=token_params(server))).json()
            response = await plain.post(
                PATHS["detect"],
                params={"access_token": token["access_token"]},
                data={"image": b64("obama-1.jpg")},
            )

    assert response.status_code == 500
    assert response.json()["error_code"] == 282000
