from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateUserRequest")


@_attrs_define
class UpdateUserRequest:
    """Carries its images as `image` (repeated) or `images` (comma-joined).
    The official SDK also sends `user_info` and `group_id`.

    """

    uid: str
    """ A user id; letters, digits and underscores, 1-128 bytes. """
    image: list[str] | Unset = UNSET
    """ One or more base64 images, sent as repeated `image` fields. """
    images: str | Unset = UNSET
    """ Base64 images joined by commas. """
    user_info: str | Unset = UNSET
    """ Free text kept with the user; at most 256 bytes of UTF-8. """
    group_id: str | Unset = UNSET
    """ One group id, or several joined by commas. """

    def to_dict(self) -> dict[str, Any]:
        uid = self.uid

        image: list[str] | Unset = UNSET
        if not isinstance(self.image, Unset):
            image = self.image

        images = self.images

        user_info = self.user_info

        group_id = self.group_id

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
        if user_info is not UNSET:
            field_dict["user_info"] = user_info
        if group_id is not UNSET:
            field_dict["group_id"] = group_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        uid = d.pop("uid")

        image = cast(list[str], d.pop("image", UNSET))

        images = d.pop("images", UNSET)

        user_info = d.pop("user_info", UNSET)

        group_id = d.pop("group_id", UNSET)

        update_user_request = cls(
            uid=uid,
            image=image,
            images=images,
            user_info=user_info,
            group_id=group_id,
        )

        return update_user_request
