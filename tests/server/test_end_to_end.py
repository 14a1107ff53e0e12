"""The official SDK (baidu-aip 1.6.9) against the server on a loopback port.

The SDK's endpoint URLs are name-mangled class attributes; each test points
an instance at the server by setting them, and then calls the SDK exactly as
its users do, with what it sends on the wire: ``aipSdk``/``aipVersion`` in
the query, images as repeated fields or comma-joined, ``group_id`` lists
joined by commas, the extra fields of updateUser, verifyUser and
addGroupUser, and BCE signatures when the token's scope lacks
``brain_all_scope``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import cv2
import numpy as np
import pytest
from aip import AipFace

from facekit import (
    AsyncFaceClient,
    BadImageError,
    ConflictError,
    FaceClient,
    NotFoundError,
)
from facekit.server._forms import operations
from facekit.server.testing import FaceServer, running_face_server

FACE_OPERATIONS = sorted(
    op_id for op_id, op in operations().items() if op.path.startswith("/rest/")
)
VERIFIED = 80
_FACELESS_PNG = bytes(
    cv2.imencode(".png", np.full((64, 96, 3), 128, dtype=np.uint8))[1].tobytes()
)


def local_sdk(server: FaceServer, *, secret_key: str | None = None) -> AipFace:
    """An AipFace whose every URL points at ``server``."""
    client = AipFace("local-app", server.api_key, secret_key or server.secret_key)
    for operation_id in FACE_OPERATIONS:
        path = operations()[operation_id].path
        setattr(client, f"_AipFace__{operation_id}Url", server.base_url + path)
    token_path = operations()["getAccessToken"].path
    client._AipBase__accessTokenUrl = server.base_url + token_path
    return client


@pytest.fixture
def sdk(face_server_http: FaceServer) -> AipFace:
    return local_sdk(face_server_http)


@pytest.fixture
def signing_server(tmp_path: Path) -> Iterator[FaceServer]:
    """A server whose tokens lack brain_all_scope, so the SDK signs instead."""
    with running_face_server(
        tmp_path / "faces.db", http=True, token_scope="public vis-faceverify"
    ) as server:
        yield server


def _ok(result: dict[str, Any]) -> dict[str, Any]:
    assert "error_code" not in result, result
    return result


def test_the_sdk_calls_the_paths_of_the_spec() -> None:
    for operation_id in FACE_OPERATIONS:
        url = getattr(AipFace, f"_AipFace__{operation_id}Url")
        assert urlparse(url).path == operations()[operation_id].path
    token_url = AipFace._AipBase__accessTokenUrl  # type: ignore[attr-defined]
    assert urlparse(token_url).path == operations()["getAccessToken"].path


def test_detect_and_match(sdk: AipFace, photos: dict[str, bytes]) -> None:
    detected = _ok(
        sdk.detect(
            photos["einstein-1.jpg"],
            {"max_face_num": 3, "face_fields": "age,landmark,qualities"},
        )
    )
    matched = _ok(
        sdk.match([photos["obama-1.jpg"], photos["obama-2.jpg"], photos["biden-1.jpg"]])
    )

    assert detected["result_num"] == 2
    assert len(detected["result"][0]["landmark"]) == 4
    assert "age" not in detected["result"][0]
    scores = {(p["index_i"], p["index_j"]): p["score"] for p in matched["result"]}
    assert scores[(0, 1)] > VERIFIED > max(scores[(0, 2)], scores[(1, 2)])


def test_every_faceset_operation(sdk: AipFace, photos: dict[str, bytes]) -> None:
    # One image as bytes (sent once) and a list (sent as repeated fields).
    _ok(sdk.addUser("obama", "Barack Obama", "staff", photos["obama-1.jpg"]))
    _ok(sdk.addUser("biden", "Joe Biden", ["staff", "guests"], [photos["biden-1.jpg"]]))
    _ok(sdk.updateUser("obama", "44th", "staff", [photos["obama-2.jpg"]]))
    _ok(sdk.addGroupUser("staff", "guests", "obama"))

    user = _ok(sdk.getUser("obama"))["result"]
    groups = _ok(sdk.getGroupList({"start": 0, "num": 10}))["result"]
    members = _ok(sdk.getGroupUsers("guests", {"start": 0, "num": 10}))["result"]
    assert user == {"uid": "obama", "user_info": "44th", "groups": ["guests", "staff"]}
    assert groups == ["guests", "staff"]
    assert [member["uid"] for member in members] == ["biden", "obama"]

    _ok(sdk.deleteGroupUser("guests", "obama"))
    last = sdk.deleteGroupUser("staff", "obama")
    assert last["error_code"] == 216619
    _ok(sdk.deleteUser("biden"))
    assert _ok(sdk.getGroupList())["result"] == ["staff"]
    assert sdk.getUser("biden")["error_code"] == 216612


def test_verify_same_person_above_80_and_others_below(
    sdk: AipFace, photos: dict[str, bytes]
) -> None:
    _ok(sdk.addUser("obama", "o", "g", [photos["obama-1.jpg"], photos["obama-2.jpg"]]))

    same = _ok(sdk.verifyUser("obama", "g", [photos["obama-3.jpg"]], {"top_num": 2}))
    other = _ok(sdk.verifyUser("obama", "g", [photos["biden-1.jpg"]]))
    einstein = _ok(sdk.verifyUser("obama", "g", [photos["einstein-2.jpg"]]))

    assert same["result_num"] == 2 and min(same["result"]) > VERIFIED
    assert other["result"][0] < VERIFIED
    assert einstein["result"][0] < VERIFIED


def test_identify_finds_the_right_user_and_not_a_stranger(
    sdk: AipFace, photos: dict[str, bytes]
) -> None:
    _ok(sdk.addUser("obama", "o", "people", [photos["obama-1.jpg"]]))
    _ok(sdk.addUser("biden", "b", "people", [photos["biden-1.jpg"]]))
    _ok(sdk.addUser("collins", "c", ["people", "crew"], [photos["collins-1.jpg"]]))
    _ok(sdk.addUser("einstein", "e", "scientists", [photos["einstein-1.jpg"]]))

    obama = _ok(sdk.identifyUser("people", [photos["obama-2.jpg"]]))
    einstein = _ok(
        sdk.identifyUser(["people", "scientists"], [photos["einstein-2.jpg"]])
    )
    stranger = _ok(
        sdk.identifyUser("people", [photos["einstein-2.jpg"]], {"user_top_num": 3})
    )

    assert obama["result"][0]["uid"] == "obama"
    assert obama["result"][0]["scores"][0] > VERIFIED
    assert einstein["result"][0]["uid"] == "einstein"
    assert einstein["result"][0]["group_id"] == "scientists"
    assert einstein["result"][0]["scores"][0] > VERIFIED
    assert stranger["result_num"] == 3
    assert all(user["scores"][0] < VERIFIED for user in stranger["result"])


def test_the_sdk_gets_a_new_token_after_110(
    sdk: AipFace, photos: dict[str, bytes]
) -> None:
    _ok(sdk.getGroupList())
    sdk._authObj["access_token"] = "24.unknown.2592000.1.1-1"

    assert _ok(sdk.getGroupList())["result"] == []
    assert sdk._authObj["access_token"] != "24.unknown.2592000.1.1-1"


def test_a_signing_sdk_works_and_a_wrong_secret_is_14(
    signing_server: FaceServer, photos: dict[str, bytes]
) -> None:
    sdk = local_sdk(signing_server)

    _ok(sdk.addUser("obama", "o", "g", [photos["obama-1.jpg"]]))
    verified = _ok(sdk.verifyUser("obama", "g", [photos["obama-2.jpg"]]))
    wrong = local_sdk(signing_server, secret_key="not-the-secret").getGroupList()

    assert sdk._isCloudUser is True
    assert verified["result"][0] > VERIFIED
    assert wrong["error_code"] == 14


def test_sdk_errors_come_back_as_error_dicts(
    sdk: AipFace, photos: dict[str, bytes]
) -> None:
    assert sdk.detect(b"not an image")["error_code"] == 216201
    assert sdk.match([photos["obama-1.jpg"], b"x"])["error_code"] == 216201
    assert (
        sdk.verifyUser("nobody", "g", [photos["obama-1.jpg"]])["error_code"] == 216612
    )
    assert sdk.identifyUser("empty", [photos["obama-1.jpg"]])["error_code"] == 216618


# --- facekit's own clients against the same server ---------------------------------


def test_face_client_over_a_loopback_port(
    face_server_http: FaceServer, faces_dir: Path
) -> None:
    with FaceClient(
        face_server_http.api_key,
        face_server_http.secret_key,
        base_url=face_server_http.base_url,
        plugins=[],
    ) as client:
        client.add_user("obama", "o", ["staff"], [faces_dir / "obama-1.jpg"])
        client.add_user("biden", "b", "staff", faces_dir / "biden-1.jpg")
        verified = client.verify_user("obama", faces_dir / "obama-3.jpg")
        identified = client.identify_user("staff", faces_dir / "obama-2.jpg")
        detected = client.detect(faces_dir / "obama-1.jpg", face_fields=["landmark"])
        with pytest.raises(NotFoundError) as missing:
            client.get_user("nobody")
        with pytest.raises(ConflictError) as duplicate:
            client.add_user("obama", "o", "staff", faces_dir / "obama-1.jpg")

    assert verified.result[0] > VERIFIED
    assert identified.result[0].uid == "obama"
    assert identified.result[0].group_id == "staff"
    assert len(detected.result[0].landmark) == 4
    assert missing.value.error_code == 216612
    assert duplicate.value.error_code == 216616


def test_face_client_signing_always(
    face_server_http: FaceServer, photos: dict[str, bytes]
) -> None:
    with FaceClient(
        face_server_http.api_key,
        face_server_http.secret_key,
        base_url=face_server_http.base_url,
        plugins=[],
        signing="always",
    ) as client:
        client.add_user("einstein", "e", "g", photos["einstein-1.jpg"])
        verified = client.verify_user("einstein", photos["einstein-2.jpg"])

    assert verified.result[0] > VERIFIED


async def test_async_face_client_in_process(
    face_server: FaceServer, photos: dict[str, bytes]
) -> None:
    async with AsyncFaceClient(
        face_server.api_key,
        face_server.secret_key,
        base_url=face_server.base_url,
        transport=face_server.transport,
        plugins=[],
    ) as client:
        matched = await client.match(
            [photos["obama-1.jpg"], photos["obama-2.jpg"], photos["collins-1.jpg"]]
        )
        groups = await client.get_group_list()
        with pytest.raises(BadImageError) as faceless:
            await client.detect(_FACELESS_PNG)

    scores = {(p.index_i, p.index_j): p.score for p in matched.result}
    assert scores[(0, 1)] > VERIFIED > max(scores[(0, 2)], scores[(1, 2)])
    assert groups.result == []
    assert faceless.value.error_code == 216402
