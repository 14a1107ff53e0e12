from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DetectRequest")


@_attrs_define
class DetectRequest:
    image: str
    """ A JPEG, PNG or BMP image as standard base64 text. """
    max_face_num: int | Unset = 1
    """ The most faces to return (largest first).  The guide sets no upper
    bound; 10 is facekit's choice, the bound of the API's later version.
     """
    face_fields: str | Unset = UNSET
    """ Attributes to return, comma-separated: age, beauty, expression,
    faceshape, gender, glasses, landmark, race, qualities.
     """

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        max_face_num = self.max_face_num

        face_fields = self.face_fields

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "image": image,
            }
        )
        if max_face_num is not UNSET:
            field_dict["max_face_num"] = max_face_num
        if face_fields is not UNSET:
            field_dict["face_fields"] = face_fields

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = d.pop("image")

        max_face_num = d.pop("max_face_num", UNSET)

        face_fields = d.pop("face_fields", UNSET)

        detect_request = cls(
            image=image,
            max_face_num=max_face_num,
            face_fields=face_fields,
        )

        return detect_request
