from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="AddUserRequest")


@_attrs_define
class AddUserRequest:
    """Carries its images as `image` (repeated) or `images` (comma-joined)."""

    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """
    user_info: str
    """ Free text kept with the user; at most 256 bytes of UTF-8. """
    group_id: str
    """ One group id, or several joined by commas. """
    image: list[str] | Unset = UNSET
    """ One or more base64 images, sent as repeated `image` fields. """
    images: str | Unset = UNSET
    """ Base64 images joined by commas. """

    def to_dict(self) -> dict[str, Any]:
        uid = self.uid

        user_info = self.user_info

        group_id = self.group_id

        image: list[str] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = self.image

        images = self.images

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "uid": uid,
                "user_info": user_info,
                "group_id": group_id,
            }
        )
        if image is not UNSET:
            field_dict["image"] = image
        if images is not UNSET:
            field_dict["images"] = images

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        uid = d.pop("uid")

        user_info = d.pop("user_info")

        group_id = d.pop("group_id")

        image = cast(list[str], d.pop("image", UNSET))

        images = d.pop("images", UNSET)

        add_user_request = cls(
            uid=uid,
            user_info=user_info,
            group_id=group_id,
            image=image,
            images=images,
        )

        return add_user_request
