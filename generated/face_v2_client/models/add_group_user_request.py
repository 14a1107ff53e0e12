from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AddGroupUserRequest")


@_attrs_define
class AddGroupUserRequest:
    group_id: str
    """ One group id, or several joined by commas. """
    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """
    src_group_id: str | Unset = UNSET
    """ A group id; letters, digits and underscores, 1-128 bytes. """

    def to_dict(self) -> dict[str, Any]:
        group_id = self.group_id

        uid = self.uid

        src_group_id = self.src_group_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "group_id": group_id,
                "uid": uid,
            }
        )
        if src_group_id is not UNSET:
            field_dict["src_group_id"] = src_group_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        group_id = d.pop("group_id")

        uid = d.pop("uid")

        src_group_id = d.pop("src_group_id", UNSET)

        add_group_user_request = cls(
            group_id=group_id,
            uid=uid,
            src_group_id=src_group_id,
        )

        return add_group_user_request
