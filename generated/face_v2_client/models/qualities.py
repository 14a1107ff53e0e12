from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.face_type import FaceType
    from ..models.occlusion import Occlusion


T = TypeVar("T", bound="Qualities")


@_attrs_define
class Qualities:
    """Each member is present when it was computed.  The local server
    gives blur (0 sharp - 1 blurred), illumination (mean grey level
    0-255) and completeness (share of the face box inside the image).

    """

    occlusion: Occlusion | Unset = UNSET
    blur: float | Unset = UNSET
    illumination: float | Unset = UNSET
    completeness: float | Unset = UNSET
    type_: FaceType | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        occlusion: dict[str, Any] | Unset = UNSET
        if not isinstance(self.occlusion, Unset):
            occlusion = self.occlusion.to_dict()

        blur = self.blur

        illumination = self.illumination

        completeness = self.completeness

        type_: dict[str, Any] | Unset = UNSET
        if not isinstance(self.type_, Unset):
            type_ = self.type_.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if occlusion is not UNSET:
            field_dict["occlusion"] = occlusion
        if blur is not UNSET:
            field_dict["blur"] = blur
        if illumination is not UNSET:
            field_dict["illumination"] = illumination
        if completeness is not UNSET:
            field_dict["completeness"] = completeness
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.face_type import FaceType  # noqa: PLC0415
        from ..models.occlusion import Occlusion  # noqa: PLC0415

        d = dict(src_dict)
        _occlusion = d.pop("occlusion", UNSET)
        occlusion: Occlusion | Unset
        if isinstance(_occlusion, Unset):
            occlusion = UNSET
        else:
            occlusion = Occlusion.from_dict(_occlusion)

        blur = d.pop("blur", UNSET)

        illumination = d.pop("illumination", UNSET)

        completeness = d.pop("completeness", UNSET)

        _type_ = d.pop("type", UNSET)
        type_: FaceType | Unset
        if isinstance(_type_, Unset):
            type_ = UNSET
        else:
            type_ = FaceType.from_dict(_type_)

        qualities = cls(
            occlusion=occlusion,
            blur=blur,
            illumination=illumination,
            completeness=completeness,
            type_=type_,
        )

        qualities.additional_properties = d
        return qualities

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
