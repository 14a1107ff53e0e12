from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UidRequest")


@_attrs_define
class UidRequest:
    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """

    def to_dict(self) -> dict[str, Any]:
        uid = self.uid

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "uid": uid,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        uid = d.pop("uid")

        uid_request = cls(
            uid=uid,
        )

        return uid_request
