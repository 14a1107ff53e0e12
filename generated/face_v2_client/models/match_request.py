from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="MatchRequest")


@_attrs_define
class MatchRequest:
    images: str
    """ Base64 images joined by commas. """

    def to_dict(self) -> dict[str, Any]:
        images = self.images

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "images": images,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        images = d.pop("images")

        match_request = cls(
            images=images,
        )

        return match_request
