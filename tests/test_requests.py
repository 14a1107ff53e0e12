"""Request building and answer parsing: what goes out obeys the spec, what
comes back becomes a typed result or the documented exception."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _facade import (
    BMP,
    JPEG,
    OPERATIONS,
    PNG,
    TOKEN,
    FakeService,
    decode_form,
    make_client,
    request_schema,
    request_schema_by_name,
    schema,
    spec,
    spec_errors,
    success_example,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import facekit
from facekit import _requests

# -- answers -------------------------------------------------------------------

# The class each kind of x-error-codes documents (see the spec's comment).
CLASS_OF_KIND: dict[str, type[facekit.APIError]] = {
    "auth": facekit.AuthenticationError,
    "permission": facekit.PermissionDeniedError,
    "rate_limit": facekit.RateLimitError,
    "invalid": facekit.InvalidRequestError,
    "bad_image": facekit.BadImageError,
    "not_found": facekit.NotFoundError,
    "conflict": facekit.ConflictError,
    "service": facekit.ServiceError,
}
SERVICE_CODES = [row for row in spec()["x-error-codes"] if isinstance(row["code"], int)]


def answer(content: bytes | str, status: int = 200, **headers: str) -> httpx.Response:
    body = content.encode() if isinstance(content, str) else content
    return httpx.Response(status, content=body, headers=headers)


@pytest.mark.parametrize("row", SERVICE_CODES, ids=lambda row: str(row["code"]))
def test_every_service_error_code_maps_to_its_documented_class(
    row: dict[str, Any],
) -> None:
    expected = CLASS_OF_KIND[row["kind"]]
    if row["kind"] == "rate_limit" and not row["retryable"]:
        expected = facekit.QuotaExceededError
    body = answer(f'{{"error_code": {row["code"]}, "error_msg": "m", "log_id": 77}}')

    with pytest.raises(facekit.APIError) as caught:
        _requests.GET_USER.parse(body)

    assert type(caught.value) is expected
    assert caught.value.error_code == row["code"]
    assert caught.value.error_msg == "m"
    assert caught.value.log_id == 77
    assert caught.value.retryable is row["retryable"]


def test_quotas_are_never_plain_rate_limits() -> None:
    for code in (17, 19):
        with pytest.raises(facekit.QuotaExceededError):
            _requests.GET_USER.parse(
                answer(f'{{"error_code": {code}, "error_msg": "q"}}')
            )


def test_unknown_codes_are_api_errors() -> None:
    with pytest.raises(facekit.APIError) as caught:
        _requests.GET_USER.parse(answer('{"error_code": 999999, "error_msg": "new"}'))

    assert type(caught.value) is facekit.APIError
    assert not caught.value.retryable


def test_an_error_body_without_a_message_is_still_an_error() -> None:
    # The generated union would parse this as a LogIdResult: it has a log_id.
    with pytest.raises(facekit.NotFoundError) as caught:
        _requests.DELETE_USER.parse(answer('{"error_code": "216612", "log_id": 5}'))

    assert caught.value.error_code == 216612
    assert caught.value.log_id == 5


@pytest.mark.parametrize(
    "response",
    [
        answer("<html><body>502 Bad Gateway</body></html>", 502),
        answer('{"log_id": 1}', 500),
        answer("<html>maintenance</html>"),
        answer(""),
        answer('{"log_id": 1, "result": {"uid": "u'),
        answer("[1, 2, 3]"),
        answer('"just a string"'),
        answer("null"),
        answer(b"\xff\xfe\x00garbage"),
        answer('{"log_id": 1}'),
        answer('{"result": {"uid": "u", "user_info": "i", "groups": []}}'),
    ],
    ids=[
        "html-502",
        "json-500",
        "html-200",
        "empty",
        "truncated",
        "array",
        "string",
        "null",
        "binary",
        "missing-result",
        "missing-log-id",
    ],
)
def test_bodies_that_are_not_the_spec_json_are_response_format_errors(
    response: httpx.Response,
) -> None:
    with pytest.raises(facekit.ResponseFormatError) as caught:
        _requests.GET_USER.parse(response)

    error = caught.value
    assert isinstance(error, facekit.TransportError)
    assert error.status_code == response.status_code
    assert len(error.body_excerpt) <= 130
    # Not a traceback from json: nothing chained, nothing shown as context.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_format_error_excerpts_are_short_and_redacted() -> None:
    body = '{"oops": "https://x/?access_token=' + TOKEN + '"}' + " " * 500

    with pytest.raises(facekit.ResponseFormatError) as caught:
        _requests.GET_USER.parse(answer(body, 503))

    assert TOKEN not in str(caught.value)
    assert caught.value.body_excerpt.endswith("...")


def test_every_operation_of_the_spec_has_a_parser() -> None:
    assert set(_requests.OPERATIONS) == set(OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_the_spec_success_examples_parse_to_typed_results(operation_id: str) -> None:
    example = success_example(operation_id)
    operation = _requests.OPERATIONS[operation_id]

    result = operation.parse(answer(json.dumps(example)))

    assert isinstance(result, operation.result_type)
    assert result.to_dict() == example


# -- requests: everything sent validates against the spec ---------------------


def spec_range(request: str, field: str) -> st.SearchStrategy[int]:
    node = request_schema_by_name(request)["properties"][field]
    return st.integers(node["minimum"], node["maximum"])


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


uids = st.from_regex(r"[A-Za-z0-9_]{1,128}", fullmatch=True)
group_ids = st.from_regex(r"[A-Za-z0-9_]{1,128}", fullmatch=True)
group_lists = st.lists(group_ids, min_size=1, max_size=3) | group_ids
# At most 64 characters of at most 4 bytes each: always within 256 bytes.
user_infos = st.text(max_size=64)
pictures = st.sampled_from([JPEG, PNG, BMP])
picture_lists = st.lists(pictures, min_size=1, max_size=5)
face_fields = st.lists(
    st.sampled_from(schema("FaceFields")["x-comma-list-enum"]), min_size=1, max_size=4
)

CALLS: dict[str, st.SearchStrategy[Callable[[facekit.FaceClient], object]]] = {
    "detect": st.builds(
        lambda image, n, fields: (
            lambda c: c.detect(image, max_face_num=n, face_fields=fields)
        ),
        pictures,
        optional(spec_range("DetectRequest", "max_face_num")),
        optional(face_fields | face_fields.map(",".join)),
    ),
    "match": st.builds(
        lambda images: lambda c: c.match(images),
        st.lists(pictures, min_size=2, max_size=6),
    ),
    "addUser": st.builds(
        lambda uid, info, groups, images: (
            lambda c: c.add_user(uid, info, groups, images)
        ),
        uids,
        user_infos,
        group_lists,
        picture_lists | pictures,
    ),
    "updateUser": st.builds(
        lambda uid, images, info, groups: (
            lambda c: c.update_user(uid, images, user_info=info, group_id=groups)
        ),
        uids,
        picture_lists,
        optional(user_infos),
        optional(group_lists),
    ),
    "deleteUser": st.builds(lambda uid: lambda c: c.delete_user(uid), uids),
    "verifyUser": st.builds(
        lambda uid, images, top, groups: (
            lambda c: c.verify_user(uid, images, top_num=top, group_id=groups)
        ),
        uids,
        picture_lists,
        optional(spec_range("VerifyRequest", "top_num")),
        optional(group_lists),
    ),
    "identifyUser": st.builds(
        lambda groups, images, users, faces: (
            lambda c: c.identify_user(
                groups, images, user_top_num=users, face_top_num=faces
            )
        ),
        group_lists,
        picture_lists,
        optional(spec_range("IdentifyRequest", "user_top_num")),
        optional(spec_range("IdentifyRequest", "face_top_num")),
    ),
    "getUser": st.builds(lambda uid: lambda c: c.get_user(uid), uids),
    "getGroupList": st.builds(
        lambda start, num: lambda c: c.get_group_list(start=start, num=num),
        optional(spec_range("PageRequest", "start")),
        optional(spec_range("PageRequest", "num")),
    ),
    "getGroupUsers": st.builds(
        lambda group, start, num: (
            lambda c: c.get_group_users(group, start=start, num=num)
        ),
        group_ids,
        optional(spec_range("GroupUsersRequest", "start")),
        optional(spec_range("GroupUsersRequest", "num")),
    ),
    "addGroupUser": st.builds(
        lambda groups, uid, source: (
            lambda c: c.add_group_user(groups, uid, src_group_id=source)
        ),
        group_lists,
        uids,
        optional(group_ids),
    ),
    "deleteGroupUser": st.builds(
        lambda group, uid: lambda c: c.delete_group_user(group, uid), group_ids, uids
    ),
}


@pytest.mark.parametrize("operation_id", sorted(CALLS))
def test_every_request_sent_validates_against_the_spec(operation_id: str) -> None:
    service = FakeService()
    client = make_client(service)
    node = request_schema(operation_id)

    @settings(
        max_examples=30,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(call=CALLS[operation_id])
    def run(call: Callable[[facekit.FaceClient], object]) -> None:
        service.requests.clear()

        call(client)

        (request,) = service.requests
        assert request.method == "POST"
        assert request.url.path == OPERATIONS[operation_id][0]
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = decode_form(operation_id, request.content)
        assert spec_errors(node, form) == [], form

    run()


def test_images_go_out_as_repeated_image_fields_or_comma_joined_images() -> None:
    service = FakeService()
    client = make_client(service)
    texts = [base64.b64encode(data).decode() for data in (JPEG, PNG)]

    client.add_user("u", "i", "g", [JPEG, PNG])
    client.match([JPEG, PNG])
    client.detect(PNG)

    add, match, detect = (
        decode_form(op, r.content)
        for op, r in zip(("addUser", "match", "detect"), service.requests, strict=True)
    )
    assert add["image"] == texts
    assert match["images"] == ",".join(texts)
    assert detect["image"] == texts[1]
