from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Occlusion")


@_attrs_define
class Occlusion:
    left_eye: float
    right_eye: float
    nose: float
    mouth: float
    left_cheek: float
    right_cheek: float
    chin: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        left_eye = self.left_eye

        right_eye = self.right_eye

        nose = self.nose

        mouth = self.mouth

        left_cheek = self.left_cheek

        right_cheek = self.right_cheek

        chin = self.chin

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "left_eye": left_eye,
                "right_eye": right_eye,
                "nose": nose,
                "mouth": mouth,
                "left_cheek": left_cheek,
                "right_cheek": right_cheek,
                "chin": chin,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        left_eye = d.pop("left_eye")

        right_eye = d.pop("right_eye")

        nose = d.pop("nose")

        mouth = d.pop("mouth")

        left_cheek = d.pop("left_cheek")

        right_cheek = d.pop("right_cheek")

        chin = d.pop("chin")

        occlusion = cls(
            left_eye=left_eye,
            right_eye=right_eye,
            nose=nose,
            mouth=mouth,
            left_cheek=left_cheek,
            right_cheek=right_cheek,
            chin=chin,
        )

        occlusion.additional_properties = d
        return occlusion

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
