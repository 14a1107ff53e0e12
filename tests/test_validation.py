"""The facade refuses exactly what the spec forbids, before any I/O."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from _facade import (
    BMP,
    JPEG,
    OPERATION_AT,
    PNG,
    SPEC_PATH,
    FakeService,
    make_client,
    no_io_client,
    request_schema,
    request_schema_by_name,
    schema,
    spec,
    spec_errors,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

import facekit
from facekit import _requests

MEGA = 1024 * 1024


# -- the spec's verdict, computed from the raw document ------------------------


def spec_accepts(schema_name: str, value: str) -> bool:
    """Whether the raw schema accepts ``value``, with JavaScript's ``$``.

    ``re.fullmatch`` must consume the whole value, so a trailing newline that
    Python's ``$`` would let through fails here as it does in ECMA-262.
    """
    node = schema(schema_name)
    if "pattern" in node and re.fullmatch(node["pattern"], value) is None:
        return False
    if len(value) < node.get("minLength", 0):
        return False
    if "maxLength" in node and len(value) > node["maxLength"]:
        return False
    return not ("x-max-bytes" in node and len(value.encode()) > node["x-max-bytes"])


def facade_accepts(call: Callable[[], object]) -> bool:
    try:
        call()
    except facekit.ValidationError:
        return False
    return True


# Strings that probe each way the old SDK's checks leaked: non-ASCII letters
# and digits that \w and \d match, a trailing newline that $ lets through,
# multi-byte characters counted as characters, and lengths around the limits.
TRICKY = ["\n", "\r", " ", ",", "-", "ü", "中", "é", "ß", "\u0660", "ǅ", "😀", "\x00"]
ids = st.text(alphabet="abcXYZ019_", min_size=0, max_size=140)
strings = st.one_of(
    st.text(max_size=40),
    ids,
    st.builds(lambda core, tail: core + tail, ids, st.sampled_from(["", *TRICKY])),
    st.builds(lambda head, core: head + core, st.sampled_from(TRICKY), ids),
    st.text(alphabet=st.sampled_from(["a", "_", "7", ",", *TRICKY]), max_size=12),
)
user_infos = st.one_of(
    st.text(max_size=300),
    st.text(
        alphabet=st.sampled_from(["a", "中", "ü", "😀", "\n"]),
        min_size=50,
        max_size=260,
    ),
)

FAST = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def client() -> facekit.FaceClient:
    return make_client(FakeService())


@FAST
@given(value=strings)
def test_uid_is_accepted_exactly_when_the_spec_accepts_it(
    client: facekit.FaceClient, value: str
) -> None:
    assert facade_accepts(lambda: client.get_user(value)) == spec_accepts("Uid", value)


@FAST
@given(value=strings)
def test_one_group_id_is_accepted_exactly_when_the_spec_accepts_it(
    client: facekit.FaceClient, value: str
) -> None:
    expected = spec_accepts("GroupId", value)

    assert facade_accepts(lambda: client.get_group_users(value)) == expected
    assert facade_accepts(lambda: client.delete_group_user(value, "uid1")) == expected


@FAST
@given(value=strings)
def test_group_id_lists_are_accepted_exactly_when_the_spec_accepts_them(
    client: facekit.FaceClient, value: str
) -> None:
    expected = spec_accepts("GroupIdList", value)

    assert facade_accepts(lambda: client.add_group_user(value, "uid1")) == expected
    assert facade_accepts(lambda: client.identify_user(value, JPEG)) == expected


@FAST
@given(items=st.lists(strings, max_size=4))
def test_a_python_list_of_group_ids_is_the_comma_joined_list(
    client: facekit.FaceClient, items: list[str]
) -> None:
    expected = spec_accepts("GroupIdList", ",".join(items)) and all(
        spec_accepts("GroupId", item) for item in items
    )

    assert facade_accepts(lambda: client.add_group_user(items, "uid1")) == expected


@FAST
@given(value=user_infos)
def test_user_info_is_accepted_exactly_when_the_spec_accepts_it(
    client: facekit.FaceClient, value: str
) -> None:
    expected = spec_accepts("UserInfo", value)

    assert (
        facade_accepts(lambda: client.add_user("uid1", value, "g1", JPEG)) == expected
    )


# -- explicit boundaries ------------------------------------------------------


def codes_of(call: Callable[[], object]) -> list[tuple[str, str]]:
    with pytest.raises(facekit.ValidationError) as caught:
        call()
    return [(problem.field, problem.code) for problem in caught.value.problems]


def test_uid_length_is_counted_in_bytes() -> None:
    client = no_io_client()
    limit = schema("Uid")["x-max-bytes"]

    _requests.get_user("u" * limit)
    assert codes_of(lambda: client.get_user("u" * (limit + 1))) == [("uid", "SDK107")]
    assert codes_of(lambda: client.get_user("")) == [("uid", "SDK107")]


@pytest.mark.parametrize(
    "uid",
    ["uid1\n", "\nuid1", "ü", "uid\u0660", "a b", "a-b", "a,b", "ǅ", "uid1\r\n"],
)
def test_uid_charset_is_ascii_only_and_whole(uid: str) -> None:
    assert codes_of(lambda: no_io_client().get_user(uid)) == [("uid", "SDK106")]


def test_user_info_counts_utf8_bytes_not_characters() -> None:
    client = no_io_client()

    _requests.add_user("uid1", "中" * 85, "g1", JPEG)  # 255 bytes
    _requests.add_user("uid1", "a" * 256, "g1", JPEG)
    assert codes_of(lambda: client.add_user("uid1", "中" * 86, "g1", JPEG)) == [
        ("user_info", "SDK103")
    ]
    assert codes_of(lambda: client.add_user("uid1", "a" * 257, "g1", JPEG)) == [
        ("user_info", "SDK103")
    ]


def test_user_info_that_cannot_be_utf8_is_refused() -> None:
    assert codes_of(lambda: no_io_client().add_user("uid1", "\ud800", "g1", JPEG)) == [
        ("user_info", "SDK103")
    ]


def test_group_id_limits() -> None:
    client = no_io_client()
    limit = schema("GroupId")["x-max-bytes"]

    _requests.get_group_users("g" * limit)
    _requests.add_group_user(["g" * limit, "h" * limit], "uid1")
    assert codes_of(lambda: client.get_group_users("g" * (limit + 1))) == [
        ("group_id", "SDK105")
    ]
    assert codes_of(lambda: client.get_group_users("g1\n")) == [("group_id", "SDK104")]
    assert codes_of(lambda: client.get_group_users("g1,g2")) == [("group_id", "SDK104")]
    assert codes_of(lambda: client.add_group_user("g1,,g2", "u")) == [
        ("group_id", "SDK105")
    ]
    assert codes_of(lambda: client.add_group_user([], "u")) == [("group_id", "SDK105")]
    assert codes_of(lambda: client.add_group_user(["g1", 7], "u")) == [  # type: ignore[list-item]
        ("group_id", "SDK104")
    ]
    assert codes_of(lambda: client.get_group_users(["g1", "g2"])) == [  # type: ignore[arg-type]
        ("group_id", "SDK105")
    ]


def test_a_list_of_group_ids_goes_out_comma_joined() -> None:
    service = FakeService()

    make_client(service).add_group_user(("g1", "g2"), "uid1", src_group_id="g0")

    assert service.requests[0].content == b"group_id=g1%2Cg2&uid=uid1&src_group_id=g0"


def test_every_problem_of_a_call_is_reported_at_once_and_nothing_is_sent() -> None:
    client = no_io_client()

    with pytest.raises(facekit.ValidationError) as caught:
        client.add_user("bad uid", "中" * 86, "bad group", [b"GIF89a", b""])

    assert isinstance(caught.value, ValueError)
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("uid", "SDK106"),
        ("user_info", "SDK103"),
        ("group_id", "SDK104"),
        ("image[0]", "SDK109"),
        ("image[1]", "SDK102"),
    ]
    assert caught.value.codes == ["SDK106", "SDK103", "SDK104", "SDK109", "SDK102"]
    for field in ("uid", "user_info", "group_id", "image[0]", "image[1]"):
        assert field in str(caught.value)


def test_messages_name_the_rule_but_not_the_value() -> None:
    secret_info = "住所: 東京都" * 20

    with pytest.raises(facekit.ValidationError) as caught:
        no_io_client().add_user("uid1", secret_info, "g1", JPEG)

    assert secret_info not in str(caught.value)
    assert "user_info size error" in str(caught.value)


# -- images -------------------------------------------------------------------


def jpeg_of_base64_length(length: int) -> bytes:
    """A JPEG whose base64 text is exactly ``length`` characters (a multiple of 4)."""
    assert length % 4 == 0
    size = length // 4 * 3
    return JPEG + b"\x00" * (size - len(JPEG))


def cap(operation_id: str) -> int:
    return int(
        spec()["x-image-rules"]["operations"][operation_id]["max_total_base64_length"]
    )


def test_detect_accepts_exactly_its_cap() -> None:
    limit = cap("detect")
    assert limit == 10 * MEGA

    _requests.detect(jpeg_of_base64_length(limit))
    assert codes_of(
        lambda: no_io_client().detect(jpeg_of_base64_length(limit + 4))
    ) == [("image", "SDK100")]


def test_update_user_accepts_twenty_megabytes() -> None:
    limit = cap("updateUser")
    assert limit == 20 * MEGA

    _requests.update_user("uid1", jpeg_of_base64_length(limit))
    assert codes_of(
        lambda: _requests.update_user("uid1", jpeg_of_base64_length(limit + 4))
    ) == [("image", "SDK100")]
    assert codes_of(
        lambda: _requests.add_user("u", "", "g", jpeg_of_base64_length(limit))
    ) == [("image", "SDK100")]


def test_match_counts_the_commas_between_images() -> None:
    limit = cap("match")

    # Five images: four commas and 4k characters of base64 make exactly the cap.
    each = (limit - 4) // 5 // 4 * 4
    last = limit - 4 - 4 * each
    images = [jpeg_of_base64_length(each)] * 4 + [jpeg_of_base64_length(last)]
    _requests.match(images)

    # Two images and one comma: one character over.
    half = limit // 2
    assert codes_of(
        lambda: _requests.match(
            [jpeg_of_base64_length(half), jpeg_of_base64_length(limit - half)]
        )
    ) == [("images", "SDK100")]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.match([JPEG]), "images"),
        (lambda c: c.match([]), "images"),
        (lambda c: c.add_user("u", "", "g", []), "image"),
        (lambda c: c.add_user("u", "", "g", [JPEG] * 6), "image"),
        (lambda c: c.verify_user("u", [JPEG] * 6), "image"),
        (lambda c: c.identify_user("g", []), "image"),
        (lambda c: c.detect([JPEG, PNG]), "image"),
    ],
)
def test_image_counts_follow_the_spec(
    call: Callable[[facekit.FaceClient], object], field: str
) -> None:
    assert (field, "SDK100") in codes_of(lambda: call(no_io_client()))


def test_image_counts_at_the_limits_are_accepted() -> None:
    rules = spec()["x-image-rules"]["operations"]

    _requests.match([JPEG] * rules["match"]["min_images"])
    _requests.add_user(
        "u", "", "g", [JPEG, PNG, BMP, JPEG, PNG][: rules["addUser"]["max_images"]]
    )
    _requests.detect([JPEG])  # type: ignore[arg-type]


# -- integers and face_fields ---------------------------------------------------

INTEGER_FIELDS = [
    ("DetectRequest", "max_face_num", lambda v: _requests.detect(JPEG, max_face_num=v)),
    ("VerifyRequest", "top_num", lambda v: _requests.verify_user("u", JPEG, top_num=v)),
    (
        "IdentifyRequest",
        "user_top_num",
        lambda v: _requests.identify_user("g", JPEG, user_top_num=v),
    ),
    (
        "IdentifyRequest",
        "face_top_num",
        lambda v: _requests.identify_user("g", JPEG, face_top_num=v),
    ),
    ("PageRequest", "start", lambda v: _requests.get_group_list(start=v)),
    ("PageRequest", "num", lambda v: _requests.get_group_list(num=v)),
    ("GroupUsersRequest", "start", lambda v: _requests.get_group_users("g", start=v)),
    ("GroupUsersRequest", "num", lambda v: _requests.get_group_users("g", num=v)),
]


@pytest.mark.parametrize(("request_name", "field", "call"), INTEGER_FIELDS)
def test_integer_ranges_come_from_the_spec(
    request_name: str, field: str, call: Callable[[object], object]
) -> None:
    node = request_schema_by_name(request_name)["properties"][field]
    low, high = node["minimum"], node["maximum"]

    call(low)
    call(high)
    code = node["x-sdk-codes"]["range"]
    for bad in (low - 1, high + 1, True, False, 1.0, "1"):
        assert codes_of(lambda bad=bad: call(bad)) == [(field, code)]


def test_face_fields_are_the_spec_enum_as_a_string_or_a_list() -> None:
    names = schema("FaceFields")["x-comma-list-enum"]
    code = schema("FaceFields")["x-sdk-codes"]["format"]

    for value in (",".join(names), names, tuple(names), "age"):
        body = _requests.detect(JPEG, face_fields=value).kwargs["data"]
        assert body["face_fields"] in (",".join(names), "age")
    for bad in ("age,nose", ["age", "Age"], "", [], "age,", 7):
        assert codes_of(lambda bad=bad: _requests.detect(JPEG, face_fields=bad)) == [
            ("face_fields", code)
        ]


def test_arguments_not_given_are_not_sent() -> None:
    detect = _requests.detect(JPEG).kwargs["data"]
    verify = _requests.verify_user("u", JPEG).kwargs["data"]
    identify = _requests.identify_user("g", JPEG).kwargs["data"]
    page = _requests.get_group_list().kwargs["data"]

    assert set(detect) == {"image"}
    assert set(verify) == {"uid", "image"}
    assert set(identify) == {"group_id", "image"}
    assert page == {}
    assert _requests.detect(JPEG, max_face_num=1).kwargs["data"]["max_face_num"] == 1


# -- schemathesis: the spec's own generated cases -----------------------------


@pytest.fixture(scope="module")
def api() -> Any:
    return schemathesis.openapi.from_path(str(SPEC_PATH), config=schemathesis.Config())


# operation path -> how to turn a form body into a facade call
CALLS: dict[str, Callable[[facekit.FaceClient, dict[str, Any]], object]] = {
    "/rest/2.0/face/v2/faceset/user/get": lambda c, b: c.get_user(b["uid"]),
    "/rest/2.0/face/v2/faceset/user/delete": lambda c, b: c.delete_user(b["uid"]),
    "/rest/2.0/face/v2/faceset/group/getlist": lambda c, b: c.get_group_list(**b),
    "/rest/2.0/face/v2/faceset/group/getusers": lambda c, b: c.get_group_users(
        b["group_id"], start=b.get("start"), num=b.get("num")
    ),
    "/rest/2.0/face/v2/faceset/group/adduser": lambda c, b: c.add_group_user(
        b["group_id"], b["uid"], src_group_id=b.get("src_group_id")
    ),
    "/rest/2.0/face/v2/faceset/group/deleteuser": lambda c, b: c.delete_group_user(
        b["group_id"], b["uid"]
    ),
    # Image operations: the case's fields with a real JPEG in place of its
    # random base64 (the facade takes pictures, not base64 text).
    "/rest/2.0/face/v2/detect": lambda c, b: c.detect(
        JPEG, max_face_num=b.get("max_face_num"), face_fields=b.get("face_fields")
    ),
    "/rest/2.0/face/v2/faceset/user/add": lambda c, b: c.add_user(
        b["uid"], b["user_info"], b["group_id"], JPEG
    ),
    "/rest/2.0/face/v2/verify": lambda c, b: c.verify_user(
        b["uid"], JPEG, top_num=b.get("top_num"), group_id=b.get("group_id")
    ),
    "/rest/2.0/face/v2/identify": lambda c, b: c.identify_user(
        b["group_id"],
        JPEG,
        user_top_num=b.get("user_top_num"),
        face_top_num=b.get("face_top_num"),
    ),
}
IMAGE_FIELDS = {"image", "images"}


def usable_body(path: str, body: object) -> dict[str, Any] | None:
    """The case's body as facade arguments, or ``None`` if it cannot be expressed.

    The facade's arguments are typed keywords: a body that is not an object,
    has keys the operation does not declare, lacks a required field, or
    gives ``None`` for an optional one (which the facade reads as "not
    given") has no equivalent call.
    """
    if not isinstance(body, dict):
        return None
    declared = request_schema(OPERATION_AT[path])
    fields = {k: v for k, v in body.items() if k not in IMAGE_FIELDS}
    if set(fields) - set(declared["properties"]):
        return None
    if set(declared.get("required", [])) - IMAGE_FIELDS - set(fields):
        return None
    if any(
        v is None for k, v in fields.items() if k not in declared.get("required", [])
    ):
        return None
    return fields


def wire_form(fields: dict[str, Any]) -> dict[str, Any]:
    # The facade joins a list of group ids with commas: judge what is sent.
    return {
        k: ",".join(v)
        if isinstance(v, list) and all(isinstance(i, str) for i in v)
        else v
        for k, v in fields.items()
    }


CASES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("path", sorted(CALLS))
def test_schemathesis_positive_cases_are_accepted(api: Any, path: str) -> None:
    client = make_client(FakeService())
    operation = OPERATION_AT[path]

    @CASES
    @given(case=api[path]["POST"].as_strategy())
    def run(case: Any) -> None:
        fields = usable_body(path, case.body if isinstance(case.body, dict) else {})
        assert fields is not None, case.body
        # schemathesis knows maxLength in characters but not the spec's
        # x-max-bytes, so a "positive" user_info can be over 256 bytes: the
        # facade must then refuse it, and accept everything else.
        refused = bool(non_image_errors(operation, fields))
        assert facade_accepts(lambda: CALLS[path](client, fields)) is not refused, (
            case.body
        )

    run()


@pytest.mark.parametrize("path", sorted(CALLS))
def test_schemathesis_negative_cases_are_refused_when_the_spec_refuses_them(
    api: Any, path: str
) -> None:
    client = make_client(FakeService())
    operation = OPERATION_AT[path]
    seen = {"refused": 0}

    @CASES
    @given(case=api[path]["POST"].as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        fields = usable_body(path, case.body)
        if fields is None:
            return
        refused = bool(non_image_errors(operation, wire_form(fields)))
        seen["refused"] += refused
        assert facade_accepts(lambda: CALLS[path](client, fields)) is not refused, (
            case.body
        )

    run()
    assert seen["refused"] > 0


def non_image_errors(operation: str, fields: dict[str, Any]) -> list[str]:
    """The spec's objections to the fields, images left aside."""
    node = dict(request_schema(operation))
    node.pop("x-require-one-of", None)
    properties = {k: v for k, v in node["properties"].items() if k not in IMAGE_FIELDS}
    node["properties"] = properties
    node["required"] = [k for k in node.get("required", []) if k not in IMAGE_FIELDS]
    return spec_errors(node, fields)
