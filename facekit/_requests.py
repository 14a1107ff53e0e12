"""Build each operation's request and parse its answer: pure, shared by both clients.

For every operation there is one function here, named like the client method,
that checks the arguments (:class:`facekit._validation.Checker`, every
problem at once), fills the generated request model, and asks the generated
endpoint module for its request keywords (``_get_kwargs``, which does no
I/O).  The result is a :class:`PreparedCall`; the client only sends it.

Optional arguments the caller did not give are not sent.  The generated
models declare the spec's defaults (``max_face_num=1``, ``top_num=1``, ...)
and would send them, so those fields are set to ``UNSET`` instead: the
service applies the same defaults, and what goes on the wire is what the
caller asked for.

Answers are parsed by :meth:`Operation.parse`.  It does what the generated
``_parse_response`` does for the spec's ``oneOf: [Error, Success]`` (error
first, then the success model's ``from_dict``) with three differences that
matter here: the JSON is decoded once and its failures become a
:class:`~facekit.ResponseFormatError` instead of a traceback from ``json``;
any body carrying ``error_code`` is an error, even one without
``error_msg`` (the generated union would hand it to the success model, and
``LogIdResult`` accepts it); and an error body becomes the exception of
:func:`facekit._errors.error_from_body`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

import httpx
from face_v2_client.api.detect import detect as _detect
from face_v2_client.api.faceset import add_group_user as _add_group_user
from face_v2_client.api.faceset import add_user as _add_user
from face_v2_client.api.faceset import delete_group_user as _delete_group_user
from face_v2_client.api.faceset import delete_user as _delete_user
from face_v2_client.api.faceset import get_group_list as _get_group_list
from face_v2_client.api.faceset import get_group_users as _get_group_users
from face_v2_client.api.faceset import get_user as _get_user
from face_v2_client.api.faceset import update_user as _update_user
from face_v2_client.api.match import match as _match
from face_v2_client.api.search import identify_user as _identify_user
from face_v2_client.api.search import verify_user as _verify_user
from face_v2_client.models import (
    AddGroupUserRequest,
    AddUserRequest,
    DetectRequest,
    DetectResult,
    GroupListResult,
    GroupUserRequest,
    GroupUsersRequest,
    GroupUsersResult,
    IdentifyRequest,
    IdentifyResult,
    LogIdResult,
    MatchRequest,
    MatchResult,
    PageRequest,
    UidRequest,
    UpdateUserRequest,
    UserResult,
    VerifyRequest,
    VerifyResult,
)
from face_v2_client.types import UNSET, Unset

from facekit._errors import ResponseFormatError, error_from_body
from facekit._hooks import redact
from facekit._images import ImageInput
from facekit._validation import Checker

__all__ = [
    "OPERATIONS",
    "Model",
    "Operation",
    "PreparedCall",
    "add_group_user",
    "add_user",
    "delete_group_user",
    "delete_user",
    "detect",
    "get_group_list",
    "get_group_users",
    "get_user",
    "identify_user",
    "match",
    "update_user",
    "verify_user",
]


class Model(Protocol):
    """A generated model of a success body, as :class:`Operation` builds it."""

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...


T = TypeVar("T", bound=Model)
V = TypeVar("V")

Images = ImageInput | Sequence[ImageInput]
"""One image, or a list or tuple of them."""

GroupIds = str | Sequence[str]
"""One group id, ids joined by commas, or a list or tuple of ids."""

_EXCERPT_CHARS = 120


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One operation of the spec: its id and the model of its success body."""

    name: str
    result_type: type[T]

    def parse(self, response: httpx.Response) -> T:
        """The typed result of ``response``, or raise what it says went wrong."""
        if response.status_code != 200:
            raise _format_error("unexpected HTTP status", response)
        try:
            body = json.loads(response.content)
        except ValueError:
            # JSONDecodeError and UnicodeDecodeError; the caller needs the
            # body's first bytes, not the decoder's traceback.
            raise _format_error("the body is not JSON", response) from None
        if not isinstance(body, dict):
            raise _format_error("the body is not a JSON object", response)

        if "error_code" in body:
            raise error_from_body(body)

        try:
            return self.result_type.from_dict(body)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _format_error(
                f"the body is not a {self.result_type.__name__}", response
            ) from None


def _format_error(message: str, response: httpx.Response) -> ResponseFormatError:
    text = response.content[:_EXCERPT_CHARS].decode("utf-8", errors="replace")
    if len(response.content) > _EXCERPT_CHARS:
        text += "..."
    return ResponseFormatError(
        message, status_code=response.status_code, body_excerpt=redact(text)
    )


@dataclass(frozen=True, slots=True)
class PreparedCall(Generic[T]):
    """A checked request, ready to send, and the operation that parses its answer.

    ``kwargs`` are the generated endpoint's ``_get_kwargs`` (method, path,
    params, form data, headers); the client joins the path to its base URL.
    """

    operation: Operation[T]
    kwargs: dict[str, Any]


DETECT = Operation("detect", DetectResult)
MATCH = Operation("match", MatchResult)
ADD_USER = Operation("addUser", LogIdResult)
UPDATE_USER = Operation("updateUser", LogIdResult)
DELETE_USER = Operation("deleteUser", LogIdResult)
VERIFY_USER = Operation("verifyUser", VerifyResult)
IDENTIFY_USER = Operation("identifyUser", IdentifyResult)
GET_USER = Operation("getUser", UserResult)
GET_GROUP_LIST = Operation("getGroupList", GroupListResult)
GET_GROUP_USERS = Operation("getGroupUsers", GroupUsersResult)
ADD_GROUP_USER = Operation("addGroupUser", LogIdResult)
DELETE_GROUP_USER = Operation("deleteGroupUser", LogIdResult)

OPERATIONS: Mapping[str, Operation[Any]] = {
    operation.name: operation
    for operation in (
        DETECT,
        MATCH,
        ADD_USER,
        UPDATE_USER,
        DELETE_USER,
        VERIFY_USER,
        IDENTIFY_USER,
        GET_USER,
        GET_GROUP_LIST,
        GET_GROUP_USERS,
        ADD_GROUP_USER,
        DELETE_GROUP_USER,
    )
}
"""Every operation by its ``operationId`` in the spec."""


def _given(value: V | None) -> V | Unset:
    """``UNSET`` for an argument not given, so the model's default stays unsent."""
    return UNSET if value is None else value


def detect(
    image: ImageInput,
    *,
    max_face_num: int | None = None,
    face_fields: str | Sequence[str] | None = None,
) -> PreparedCall[DetectResult]:
    check = Checker()
    images = check.images("detect", image, field="image", joined=False)
    max_face_num = check.integer("DetectRequest", "max_face_num", max_face_num)
    fields = check.face_fields(face_fields)
    check.raise_if_any()

    body = DetectRequest(
        image=images[0], max_face_num=_given(max_face_num), face_fields=_given(fields)
    )
    return PreparedCall(DETECT, _detect._get_kwargs(body=body))


def match(images: Sequence[ImageInput]) -> PreparedCall[MatchResult]:
    check = Checker()
    texts = check.images("match", images, field="images", joined=True)
    check.raise_if_any()

    body = MatchRequest(images=",".join(texts))
    return PreparedCall(MATCH, _match._get_kwargs(body=body))


def add_user(
    uid: str, user_info: str, group_id: GroupIds, image: Images
) -> PreparedCall[LogIdResult]:
    check = Checker()
    uid = check.uid(uid)
    user_info = check.user_info(user_info)
    groups = check.group_id(group_id)
    images = check.images("addUser", image, field="image", joined=False)
    check.raise_if_any()

    body = AddUserRequest(uid=uid, user_info=user_info, group_id=groups, image=images)
    return PreparedCall(ADD_USER, _add_user._get_kwargs(body=body))


def update_user(
    uid: str,
    image: Images,
    *,
    user_info: str | None = None,
    group_id: GroupIds | None = None,
) -> PreparedCall[LogIdResult]:
    check = Checker()
    uid = check.uid(uid)
    images = check.images("updateUser", image, field="image", joined=False)
    info = None if user_info is None else check.user_info(user_info)
    groups = None if group_id is None else check.group_id(group_id)
    check.raise_if_any()

    body = UpdateUserRequest(
        uid=uid, image=images, user_info=_given(info), group_id=_given(groups)
    )
    return PreparedCall(UPDATE_USER, _update_user._get_kwargs(body=body))


def delete_user(uid: str) -> PreparedCall[LogIdResult]:
    check = Checker()
    uid = check.uid(uid)
    check.raise_if_any()

    return PreparedCall(DELETE_USER, _delete_user._get_kwargs(body=UidRequest(uid=uid)))


def verify_user(
    uid: str,
    image: Images,
    *,
    top_num: int | None = None,
    group_id: GroupIds | None = None,
) -> PreparedCall[VerifyResult]:
    check = Checker()
    uid = check.uid(uid)
    images = check.images("verifyUser", image, field="image", joined=False)
    top_num = check.integer("VerifyRequest", "top_num", top_num)
    groups = None if group_id is None else check.group_id(group_id)
    check.raise_if_any()

    body = VerifyRequest(
        uid=uid, image=images, top_num=_given(top_num), group_id=_given(groups)
    )
    return PreparedCall(VERIFY_USER, _verify_user._get_kwargs(body=body))


def identify_user(
    group_id: GroupIds,
    image: Images,
    *,
    user_top_num: int | None = None,
    face_top_num: int | None = None,
) -> PreparedCall[IdentifyResult]:
    check = Checker()
    groups = check.group_id(group_id)
    images = check.images("identifyUser", image, field="image", joined=False)
    user_top_num = check.integer("IdentifyRequest", "user_top_num", user_top_num)
    face_top_num = check.integer("IdentifyRequest", "face_top_num", face_top_num)
    check.raise_if_any()

    body = IdentifyRequest(
        group_id=groups,
        image=images,
        user_top_num=_given(user_top_num),
        face_top_num=_given(face_top_num),
    )
    return PreparedCall(IDENTIFY_USER, _identify_user._get_kwargs(body=body))


def get_user(uid: str) -> PreparedCall[UserResult]:
    check = Checker()
    uid = check.uid(uid)
    check.raise_if_any()

    return PreparedCall(GET_USER, _get_user._get_kwargs(body=UidRequest(uid=uid)))


def get_group_list(
    *, start: int | None = None, num: int | None = None
) -> PreparedCall[GroupListResult]:
    check = Checker()
    start = check.integer("PageRequest", "start", start)
    num = check.integer("PageRequest", "num", num)
    check.raise_if_any()

    body = PageRequest(start=_given(start), num=_given(num))
    return PreparedCall(GET_GROUP_LIST, _get_group_list._get_kwargs(body=body))


def get_group_users(
    group_id: str, *, start: int | None = None, num: int | None = None
) -> PreparedCall[GroupUsersResult]:
    check = Checker()
    group = check.group_id(group_id, single=True)
    start = check.integer("GroupUsersRequest", "start", start)
    num = check.integer("GroupUsersRequest", "num", num)
    check.raise_if_any()

    body = GroupUsersRequest(group_id=group, start=_given(start), num=_given(num))
    return PreparedCall(GET_GROUP_USERS, _get_group_users._get_kwargs(body=body))


def add_group_user(
    group_id: GroupIds, uid: str, *, src_group_id: str | None = None
) -> PreparedCall[LogIdResult]:
    check = Checker()
    groups = check.group_id(group_id)
    uid = check.uid(uid)
    source = (
        None
        if src_group_id is None
        else check.group_id(src_group_id, single=True, field="src_group_id")
    )
    check.raise_if_any()

    body = AddGroupUserRequest(group_id=groups, uid=uid, src_group_id=_given(source))
    return PreparedCall(ADD_GROUP_USER, _add_group_user._get_kwargs(body=body))


def delete_group_user(group_id: str, uid: str) -> PreparedCall[LogIdResult]:
    check = Checker()
    group = check.group_id(group_id, single=True)
    uid = check.uid(uid)
    check.raise_if_any()

    body = GroupUserRequest(group_id=group, uid=uid)
    return PreparedCall(DELETE_GROUP_USER, _delete_group_user._get_kwargs(body=body))
