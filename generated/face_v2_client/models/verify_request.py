from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="VerifyRequest")


@_attrs_define
class VerifyRequest:
    """Carries its images as `image` (repeated) or `images` (comma-joined).
    The official SDK also sends `group_id`.

    """

    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """
    image: list[str] | Unset = UNSET
    """ One or more base64 images, sent as repeated `image` fields. """
    images: str | Unset = UNSET
    """ Base64 images joined by commas. """
    group_id: str | Unset = UNSET
    """ One group id, or several joined by commas. """
    top_num: int | Unset = 1
    """ How many of the best scores to return.  The guide sets no upper
    bound; facekit's is 5, as a user holds at most 5 faces.
     """

    def to_dict(self) -> dict[str, Any]:
        uid = self.uid

        image: list[str] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = self.image

        images = self.images

        group_id = self.group_id

        top_num = self.top_num

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "uid": uid,
            }
        )
        if image is not UNSET:
            field_dict["image"] = image
        if images is not UNSET:
            field_dict["images"] = images
        if group_id is not UNSET:
            field_dict["group_id"] = group_id
        if top_num is not UNSET:
            field_dict["top_num"] = top_num

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        uid = d.pop("uid")

        image = cast(list[str], d.pop("image", UNSET))

        images = d.pop("images", UNSET)

        group_id = d.pop("group_id", UNSET)

        top_num = d.pop("top_num", UNSET)

        verify_request = cls(
            uid=uid,
            image=image,
            images=images,
            group_id=group_id,
            top_num=top_num,
        )

        return verify_request
