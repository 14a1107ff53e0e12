from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CapabilitiesLimits")


@_attrs_define
class CapabilitiesLimits:
    max_body_bytes: int
    max_pixels: int
    max_faces_per_user: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        max_body_bytes = self.max_body_bytes

        max_pixels = self.max_pixels

        max_faces_per_user = self.max_faces_per_user

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "max_body_bytes": max_body_bytes,
                "max_pixels": max_pixels,
                "max_faces_per_user": max_faces_per_user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_body_bytes = d.pop("max_body_bytes")

        max_pixels = d.pop("max_pixels")

        max_faces_per_user = d.pop("max_faces_per_user")

        capabilities_limits = cls(
            max_body_bytes=max_body_bytes,
            max_pixels=max_pixels,
            max_faces_per_user=max_faces_per_user,
        )

        capabilities_limits.additional_properties = d
        return capabilities_limits

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
