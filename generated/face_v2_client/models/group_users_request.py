from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="GroupUsersRequest")


@_attrs_define
class GroupUsersRequest:
    group_id: str
    """ A group id; letters, digits and underscores, 1-128 bytes. """
    start: int | Unset = UNSET
    """ Index of the first item. """
    num: int | Unset = UNSET
    """ How many items to return. """

    def to_dict(self) -> dict[str, Any]:
        group_id = self.group_id

        start = self.start

        num = self.num

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "group_id": group_id,
            }
        )
        if start is not UNSET:
            field_dict["start"] = start
        if num is not UNSET:
            field_dict["num"] = num

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        group_id = d.pop("group_id")

        start = d.pop("start", UNSET)

        num = d.pop("num", UNSET)

        group_users_request = cls(
            group_id=group_id,
            start=start,
            num=num,
        )

        return group_users_request
