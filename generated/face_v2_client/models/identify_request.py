from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="IdentifyRequest")


@_attrs_define
class IdentifyRequest:
    """Carries its images as `image` (repeated) or `images` (comma-joined)."""

    group_id: str
    """ One group id, or several joined by commas. """
    image: list[str] | Unset = UNSET
    """ One or more base64 images, sent as repeated `image` fields. """
    images: str | Unset = UNSET
    """ Base64 images joined by commas. """
    user_top_num: int | Unset = 1
    """ How many users to return.  The guide sets no upper bound; 20 is
    facekit's choice, the bound of the API's later version.
     """
    face_top_num: int | Unset = 1
    """ How many face scores to return per user.  The guide sets no upper
    bound; a user holds at most 5 faces.
     """

    def to_dict(self) -> dict[str, Any]:
        group_id = self.group_id

        image: list[str] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = self.image

        images = self.images

        user_top_num = self.user_top_num

        face_top_num = self.face_top_num

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "group_id": group_id,
            }
        )
        if image is not UNSET:
            field_dict["image"] = image
        if images is not UNSET:
            field_dict["images"] = images
        if user_top_num is not UNSET:
            field_dict["user_top_num"] = user_top_num
        if face_top_num is not UNSET:
            field_dict["face_top_num"] = face_top_num

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        group_id = d.pop("group_id")

        image = cast(list[str], d.pop("image", UNSET))

        images = d.pop("images", UNSET)

        user_top_num = d.pop("user_top_num", UNSET)

        face_top_num = d.pop("face_top_num", UNSET)

        identify_request = cls(
            group_id=group_id,
            image=image,
            images=images,
            user_top_num=user_top_num,
            face_top_num=face_top_num,
        )

        return identify_request
