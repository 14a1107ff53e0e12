from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="PageRequest")


@_attrs_define
class PageRequest:
    start: int | Unset = UNSET
    """ Index of the first item. """
    num: int | Unset = UNSET
    """ How many items to return. """

    def to_dict(self) -> dict[str, Any]:
        start = self.start

        num = self.num

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if start is not UNSET:
            field_dict["start"] = start
        if num is not UNSET:
            field_dict["num"] = num

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        start = d.pop("start", UNSET)

        num = d.pop("num", UNSET)

        page_request = cls(
            start=start,
            num=num,
        )

        return page_request
