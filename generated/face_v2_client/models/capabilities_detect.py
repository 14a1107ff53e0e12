from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.capabilities_detect_face_fields import CapabilitiesDetectFaceFields


T = TypeVar("T", bound="CapabilitiesDetect")


@_attrs_define
class CapabilitiesDetect:
    always: list[str]
    when_estimable: list[str]
    never: list[str]
    face_fields: CapabilitiesDetectFaceFields
    omitted_fields_header: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        always = self.always

        when_estimable = self.when_estimable

        never = self.never

        face_fields = self.face_fields.to_dict()

        omitted_fields_header = self.omitted_fields_header

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "always": always,
                "when_estimable": when_estimable,
                "never": never,
                "face_fields": face_fields,
                "omitted_fields_header": omitted_fields_header,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capabilities_detect_face_fields import (
            CapabilitiesDetectFaceFields,  # noqa: PLC0415
        )

        d = dict(src_dict)
        always = cast(list[str], d.pop("always"))

        when_estimable = cast(list[str], d.pop("when_estimable"))

        never = cast(list[str], d.pop("never"))

        face_fields = CapabilitiesDetectFaceFields.from_dict(d.pop("face_fields"))

        omitted_fields_header = d.pop("omitted_fields_header")

        capabilities_detect = cls(
            always=always,
            when_estimable=when_estimable,
            never=never,
            face_fields=face_fields,
            omitted_fields_header=omitted_fields_header,
        )

        capabilities_detect.additional_properties = d
        return capabilities_detect

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
