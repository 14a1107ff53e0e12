"""facekit.compat.AipFace against the reference document, method by method.

The responses served are the document's examples (its JSON with the trailing
commas and ``...`` elisions removed; verify's example spells the array
``results`` where the document's own table and the service say ``result``,
and the spec follows the table).
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from facekit._errors import TransportError
from facekit.compat import AipFace

APP_ID, API_KEY, SECRET_KEY = "8574074", "ak_compat_0123456789", "sk_compat_9876543210"
BASE = "http://testserver"
TOKEN_PATH = "/oauth/2.0/token"
FACE = "/rest/2.0/face/v2"

# Only the first bytes of an image are sniffed before upload.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 32
BMP = b"BM" + b"\x03" * 32


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# -- the reference document's example answers ------------------------------------

DETECT_OK: dict[str, Any] = {
    "result_num": 1,
    "result": [
        {
            "location": {"left": 90, "top": 92, "width": 111, "height": 99},
            "face_probability": 1,
            "rotation_angle": 6,
            "yaw": 11.61234664917,
            "pitch": -0.30852827429771,
            "roll": 8.8044967651367,
            "landmark": [{"x": 105, "y": 110}],
            "landmark72": [{"x": 88, "y": 109}],
            "gender": "male",
            "gender_probability": 0.99358034133911,
            "glasses": 0,
            "glasses_probability": 0.99991309642792,
            "race": "yellow",
            "race_probability": 0.99960690736771,
            "qualities": {
                "occlusion": {
                    "left_eye": 0.000085282314103097,
                    "right_eye": 0.00001094374601962,
                    "nose": 3.2677664307812e-7,
                    "mouth": 2.6582130940866e-10,
                    "left_cheek": 8.752236624332e-8,
                    "right_cheek": 1.0212766454742e-7,
                    "chin": 4.2632994357028e-10,
                },
                "blur": 4.5613666312237e-41,
                "illumination": 0,
                "completeness": 0,
                "type": {"human": 0.98398965597153, "cartoon": 0.016010366380215},
            },
        }
    ],
    "log_id": 2418894422,
}
MATCH_OK: dict[str, Any] = {
    "log_id": 73473737,
    "result_num": 3,
    "result": [
        {"index_i": 0, "index_j": 1, "score": 80.4},
        {"index_i": 0, "index_j": 2, "score": 89.1},
        {"index_i": 1, "index_j": 2, "score": 87.5},
    ],
}
LOG_ID_OK: dict[str, Any] = {"log_id": 73473737}
IMAGE_EXISTS: dict[str, Any] = {
    "error_code": 216616,
    "log_id": 674786177,
    "error_msg": "image exist",
}
USER_NOT_EXIST: dict[str, Any] = {
    "error_code": 216612,
    "log_id": 1137508902,
    "error_msg": "user not exist",
}
VERIFY_OK: dict[str, Any] = {
    "result": [93.86580657959, 92.237548828125],
    "result_num": 2,
    "log_id": 1629483134,
}
IDENTIFY_OK: dict[str, Any] = {
    "log_id": 73473737,
    "result_num": 1,
    "result": [{"uid": "u333333", "user_info": "Test User", "scores": [99.3, 83.4]}],
}
GET_USER_OK: dict[str, Any] = {
    "result": {
        "uid": "testuser2",
        "user_info": "registed user info ...",
        "groups": ["grp1", "grp2", "grp3"],
    },
    "log_id": 2979357502,
}
GROUP_LIST_OK: dict[str, Any] = {
    "result_num": 2,
    "result": ["grp1", "grp2"],
    "log_id": 3314921889,
}
GROUP_USERS_OK: dict[str, Any] = {
    "log_id": 3314921889,
    "result_num": 2,
    "result": [
        {"uid": "uid1", "user_info": "user info 1"},
        {"uid": "uid2", "user_info": "user info 2"},
    ],
}
ALREADY_ADDED: dict[str, Any] = {
    "error_code": 216100,
    "log_id": 3111284097,
    "error_msg": "already add",
}
LAST_GROUP: dict[str, Any] = {
    "error_code": 216619,
    "log_id": 815967402,
    "error_msg": "user must be in one group at least",
}


class FakeCloud:
    """Serves a token and one canned body per path; records each call's form."""

    def __init__(self) -> None:
        self.bodies: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, list[str]]]] = []
        self.requests: list[httpx.Request] = []
        self.fail: Callable[[httpx.Request], None] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            return httpx.Response(
                200,
                json={
                    "access_token": "24.token.2592000.1485516651.282335-8574074",
                    "expires_in": 2592000,
                    "scope": "public brain_all_scope vis-faceverify_faceverify",
                },
            )
        if self.fail is not None:
            self.fail(request)
        self.requests.append(request)
        form = parse_qs(request.content.decode("ascii"), keep_blank_values=True)
        self.calls.append((request.url.path, form))
        return httpx.Response(200, json=self.bodies[request.url.path])

    @property
    def form(self) -> dict[str, list[str]]:
        return self.calls[-1][1]

    @property
    def path(self) -> str:
        return self.calls[-1][0]


def sent_images(form: dict[str, list[str]]) -> list[str]:
    """The base64 images of a form, sent as repeated ``image`` or as ``images``."""
    joined = [text for value in form.get("images", []) for text in value.split(",")]
    return form.get("image", []) + joined


def single(form: dict[str, list[str]], name: str) -> str:
    (value,) = form[name]
    return value


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud()


@pytest.fixture
def aip(cloud: FakeCloud) -> AipFace:
    return AipFace(
        APP_ID,
        API_KEY,
        SECRET_KEY,
        base_url=BASE,
        _transport=httpx.MockTransport(cloud),
    )


# -- the interface is the document's --------------------------------------------

DOCUMENTED_SIGNATURES = {
    "detect": ["image", "options"],
    "match": ["images", "options"],
    "addUser": ["uid", "user_info", "group_id", "images", "options"],
    "updateUser": ["uid", "images", "options"],
    "deleteUser": ["uid", "options"],
    "verifyUser": ["uid", "images", "options"],
    "identifyUser": ["group_id", "images", "options"],
    "getUser": ["uid", "options"],
    "getGroupList": ["options"],
    "getGroupUsers": ["group_id", "options"],
    "addGroupUser": ["group_id", "uid", "options"],
    "deleteGroupUser": ["group_id", "uid", "options"],
    "setConnectionTimeoutInMillis": ["ms"],
    "setSocketTimeoutInMillis": ["ms"],
}


@pytest.mark.parametrize(("name", "arguments"), DOCUMENTED_SIGNATURES.items())
def test_methods_take_the_documented_arguments(name: str, arguments: list[str]) -> None:
    parameters = inspect.signature(getattr(AipFace, name)).parameters
    assert list(parameters)[1:] == arguments
    if "options" in parameters:
        assert parameters["options"].default is None


def test_constructor_takes_the_documented_arguments() -> None:
    parameters = inspect.signature(AipFace).parameters
    assert list(parameters)[:3] == ["app_id", "api_key", "secret_key"]
    assert all(p.kind is p.KEYWORD_ONLY for p in list(parameters.values())[3:])


# -- each method against the document's examples ---------------------------------


def test_detect(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/detect"] = DETECT_OK

    result = aip.detect(JPEG)

    assert result == DETECT_OK
    assert cloud.path == f"{FACE}/detect"
    assert single(cloud.form, "image") == b64(JPEG)


def test_detect_with_options(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/detect"] = DETECT_OK
    options = {"max_face_num": 1, "face_fields": "age,beauty,expression,faceshape"}

    result = aip.detect(JPEG, options)

    assert result == DETECT_OK
    assert single(cloud.form, "max_face_num") == "1"
    assert single(cloud.form, "face_fields") == "age,beauty,expression,faceshape"


def test_match(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/match"] = MATCH_OK

    result = aip.match([JPEG, PNG, BMP])

    assert result == MATCH_OK
    assert cloud.path == f"{FACE}/match"
    assert sent_images(cloud.form) == [b64(JPEG), b64(PNG), b64(BMP)]


def test_add_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/add"] = LOG_ID_OK

    result = aip.addUser("uid1", "test_user_info", "group1", [JPEG])

    assert result == LOG_ID_OK
    assert cloud.path == f"{FACE}/faceset/user/add"
    assert single(cloud.form, "uid") == "uid1"
    assert single(cloud.form, "user_info") == "test_user_info"
    assert single(cloud.form, "group_id") == "group1"
    assert sent_images(cloud.form) == [b64(JPEG)]


def test_add_user_error(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/add"] = IMAGE_EXISTS

    assert aip.addUser("uid1", "test_user_info", "group1", [JPEG]) == IMAGE_EXISTS


def test_add_user_to_several_groups(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/add"] = LOG_ID_OK

    aip.addUser("uid1", "info", ["group1", "group2"], [JPEG, PNG])

    assert single(cloud.form, "group_id") == "group1,group2"
    assert sent_images(cloud.form) == [b64(JPEG), b64(PNG)]


def test_update_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/update"] = LOG_ID_OK

    result = aip.updateUser("uid1", [PNG])

    assert result == LOG_ID_OK
    assert cloud.path == f"{FACE}/faceset/user/update"
    assert single(cloud.form, "uid") == "uid1"
    assert sent_images(cloud.form) == [b64(PNG)]


def test_update_user_error(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/update"] = USER_NOT_EXIST

    assert aip.updateUser("uid1", [PNG]) == USER_NOT_EXIST


def test_update_user_options(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/update"] = LOG_ID_OK

    aip.updateUser("uid1", [PNG], {"user_info": "new info", "group_id": "group2"})

    assert single(cloud.form, "user_info") == "new info"
    assert single(cloud.form, "group_id") == "group2"


def test_delete_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/delete"] = LOG_ID_OK

    assert aip.deleteUser("uid1") == LOG_ID_OK
    assert cloud.path == f"{FACE}/faceset/user/delete"
    assert cloud.form == {"uid": ["uid1"]}


def test_delete_user_error(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/delete"] = USER_NOT_EXIST

    assert aip.deleteUser("uid1") == USER_NOT_EXIST


def test_verify_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/verify"] = VERIFY_OK

    result = aip.verifyUser("uid1", [JPEG], {"top_num": 1})

    assert result == VERIFY_OK
    assert cloud.path == f"{FACE}/verify"
    assert single(cloud.form, "uid") == "uid1"
    assert single(cloud.form, "top_num") == "1"
    assert sent_images(cloud.form) == [b64(JPEG)]


def test_identify_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/identify"] = IDENTIFY_OK

    result = aip.identifyUser("group1", [JPEG], {"user_top_num": 1, "face_top_num": 1})

    assert result == IDENTIFY_OK
    assert cloud.path == f"{FACE}/identify"
    assert single(cloud.form, "group_id") == "group1"
    assert single(cloud.form, "user_top_num") == "1"
    assert single(cloud.form, "face_top_num") == "1"
    assert sent_images(cloud.form) == [b64(JPEG)]


def test_get_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/get"] = GET_USER_OK

    assert aip.getUser("uid1") == GET_USER_OK
    assert cloud.path == f"{FACE}/faceset/user/get"
    assert cloud.form == {"uid": ["uid1"]}


def test_get_group_list(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/getlist"] = GROUP_LIST_OK

    assert aip.getGroupList({"start": 1, "num": 100}) == GROUP_LIST_OK
    assert cloud.path == f"{FACE}/faceset/group/getlist"
    assert single(cloud.form, "start") == "1"
    assert single(cloud.form, "num") == "100"


def test_get_group_list_without_options(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/getlist"] = GROUP_LIST_OK

    assert aip.getGroupList() == GROUP_LIST_OK


def test_get_group_users(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/getusers"] = GROUP_USERS_OK

    assert aip.getGroupUsers("group1", {"start": 1, "num": 100}) == GROUP_USERS_OK
    assert cloud.path == f"{FACE}/faceset/group/getusers"
    assert single(cloud.form, "group_id") == "group1"
    assert single(cloud.form, "start") == "1"
    assert single(cloud.form, "num") == "100"


def test_add_group_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/adduser"] = LOG_ID_OK

    assert aip.addGroupUser("group1", "uid1") == LOG_ID_OK
    assert cloud.path == f"{FACE}/faceset/group/adduser"
    assert single(cloud.form, "group_id") == "group1"
    assert single(cloud.form, "uid") == "uid1"
    assert "src_group_id" not in cloud.form


def test_add_group_user_error(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/adduser"] = ALREADY_ADDED

    assert aip.addGroupUser("group1", "uid1") == ALREADY_ADDED


def test_add_group_user_from_a_source_group(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/adduser"] = LOG_ID_OK

    aip.addGroupUser("group2", "uid1", {"src_group_id": "group1"})

    assert single(cloud.form, "src_group_id") == "group1"


def test_delete_group_user(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/deleteuser"] = LOG_ID_OK

    assert aip.deleteGroupUser("group1", "uid1") == LOG_ID_OK
    assert cloud.path == f"{FACE}/faceset/group/deleteuser"
    assert cloud.form == {"group_id": ["group1"], "uid": ["uid1"]}


def test_delete_group_user_error(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/deleteuser"] = LAST_GROUP

    assert aip.deleteGroupUser("group1", "uid1") == LAST_GROUP


def test_requests_carry_the_access_token(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/get"] = GET_USER_OK

    aip.getUser("uid1")

    token = "24.token.2592000.1485516651.282335-8574074"
    assert cloud.requests[0].url.params["access_token"] == token


# -- SDK10x: refused before sending, as error dicts --------------------------------


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (lambda aip: aip.getUser("bad uid!"), "SDK106", "uid format error"),
        (lambda aip: aip.deleteUser("u" * 129), "SDK107", "uid size error"),
        (lambda aip: aip.getGroupUsers("bad-group"), "SDK104", "group_id format error"),
        (
            lambda aip: aip.identifyUser("g" * 129, [JPEG]),
            "SDK105",
            "group_id size error",
        ),
        (
            lambda aip: aip.addUser("uid1", "x" * 257, "group1", [JPEG]),
            "SDK103",
            "user_info size error",
        ),
        (
            lambda aip: aip.addUser("uid1", "信" * 86, "group1", [JPEG]),
            "SDK103",
            "user_info size error",
        ),
        (
            lambda aip: aip.detect(b"GIF89a" + b"\x00" * 16),
            "SDK109",
            "unsupported image format",
        ),
        (lambda aip: aip.verifyUser("uid1\n", [JPEG]), "SDK106", "uid format error"),
    ],
)
def test_refused_arguments_give_sdk_error_dicts(
    cloud: FakeCloud,
    aip: AipFace,
    call: Callable[[AipFace], dict[str, Any]],
    code: str,
    message: str,
) -> None:
    assert call(aip) == {"error_code": code, "error_msg": message}
    assert cloud.calls == []


def test_match_needs_two_images(cloud: FakeCloud, aip: AipFace) -> None:
    assert aip.match([JPEG]) == {
        "error_code": "SDK100",
        "error_msg": "image size error",
    }
    assert cloud.calls == []


def test_out_of_range_option_is_refused_as_the_service_would(
    cloud: FakeCloud, aip: AipFace
) -> None:
    result = aip.detect(JPEG, {"max_face_num": 50})

    assert result == {"error_code": 216100, "error_msg": "invalid param"}
    assert cloud.calls == []


def test_unknown_face_field_is_refused_as_the_service_would(
    cloud: FakeCloud, aip: AipFace
) -> None:
    result = aip.detect(JPEG, {"face_fields": "age,bueaty"})

    assert result == {"error_code": 216100, "error_msg": "invalid param"}
    assert cloud.calls == []


# -- options -------------------------------------------------------------------------


def test_unknown_option_raises_and_sends_nothing(
    cloud: FakeCloud, aip: AipFace
) -> None:
    with pytest.raises(TypeError) as raised:
        aip.detect(JPEG, {"max_face_number": 5})

    message = str(raised.value)
    assert "'max_face_number'" in message
    assert "did you mean 'max_face_number' -> 'max_face_num'" in message
    assert cloud.calls == []


def test_methods_without_options_refuse_any(cloud: FakeCloud, aip: AipFace) -> None:
    with pytest.raises(TypeError, match="takes no options"):
        aip.deleteUser("uid1", {"group_id": "group1"})
    assert cloud.calls == []


def test_numeric_text_options_are_accepted(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/group/getlist"] = GROUP_LIST_OK

    aip.getGroupList({"start": "0", "num": "5"})

    assert single(cloud.form, "start") == "0"
    assert single(cloud.form, "num") == "5"


def test_options_must_be_a_mapping(aip: AipFace) -> None:
    with pytest.raises(TypeError, match="options must be a dict"):
        aip.getGroupList([("start", 1)])  # type: ignore[arg-type]


# -- service errors, timeouts, the token endpoint -------------------------------------


def test_service_error_dict(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/verify"] = USER_NOT_EXIST

    assert aip.verifyUser("uid1", [JPEG]) == USER_NOT_EXIST


def test_service_error_without_log_id(cloud: FakeCloud, aip: AipFace) -> None:
    body = {"error_code": 18, "error_msg": "Open api qps request limit reached"}
    cloud.bodies[f"{FACE}/faceset/user/get"] = body

    assert aip.getUser("uid1") == body
    assert len(cloud.calls) == 1  # no retry: one call is one request, as before


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout])
def test_timeout_gives_sdk108(
    cloud: FakeCloud, aip: AipFace, error: type[httpx.TimeoutException]
) -> None:
    attempts: list[httpx.Request] = []

    def time_out(request: httpx.Request) -> None:
        attempts.append(request)
        raise error("timed out", request=request)

    cloud.fail = time_out

    assert aip.getUser("uid1") == {
        "error_code": "SDK108",
        "error_msg": "connection or read data time out",
    }
    assert len(attempts) == 1  # no retry, as with the official SDK


def test_failures_without_a_documented_code_raise(
    cloud: FakeCloud, aip: AipFace
) -> None:
    def refuse(request: httpx.Request) -> None:
        raise httpx.ConnectError("connection refused", request=request)

    cloud.fail = refuse

    with pytest.raises(TransportError):
        aip.getUser("uid1")


def test_constructed_as_the_document_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEKIT_BASE_URL", raising=False)
    aip = AipFace(APP_ID, API_KEY, SECRET_KEY)
    try:
        assert "https://aip.baidubce.com" in repr(aip)
    finally:
        aip.close()


def test_token_endpoint_error_is_a_dict_not_a_key_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": "invalid_client", "error_description": "unknown client id"}
        return httpx.Response(401, json=body)

    aip = AipFace(
        APP_ID,
        API_KEY,
        SECRET_KEY,
        base_url=BASE,
        _transport=httpx.MockTransport(refuse),
    )

    assert aip.getUser("uid1") == {
        "error_code": "invalid_client",
        "error_msg": "unknown client id",
    }


# -- timeouts ----------------------------------------------------------------------


def test_timeouts_start_at_the_old_sdks_sixty_seconds(
    cloud: FakeCloud, aip: AipFace
) -> None:
    cloud.bodies[f"{FACE}/faceset/user/get"] = GET_USER_OK

    aip.getUser("uid1")

    timeout = cloud.requests[0].extensions["timeout"]
    assert timeout["connect"] == 60.0
    assert timeout["read"] == 60.0


def test_set_timeouts_in_millis(cloud: FakeCloud, aip: AipFace) -> None:
    cloud.bodies[f"{FACE}/faceset/user/get"] = GET_USER_OK

    aip.setConnectionTimeoutInMillis(1500)
    aip.setSocketTimeoutInMillis(2500)
    aip.getUser("uid1")

    timeout = cloud.requests[0].extensions["timeout"]
    assert timeout["connect"] == 1.5
    assert timeout["read"] == 2.5
    assert timeout["write"] == 60.0


def test_bad_timeout_is_refused(aip: AipFace) -> None:
    with pytest.raises(ValueError):
        aip.setSocketTimeoutInMillis(0)


def test_repr_hides_the_secret(aip: AipFace) -> None:
    assert SECRET_KEY not in repr(aip)
