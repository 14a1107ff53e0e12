from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="GroupUserRequest")


@_attrs_define
class GroupUserRequest:
    group_id: str
    """ A group id; letters, digits and underscores, 1-128 bytes. """
    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """

    def to_dict(self) -> dict[str, Any]:
        group_id = self.group_id

        uid = self.uid

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "group_id": group_id,
                "uid": uid,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        group_id = d.pop("group_id")

        uid = d.pop("uid")

        group_user_request = cls(
            group_id=group_id,
            uid=uid,
        )

        return group_user_request
