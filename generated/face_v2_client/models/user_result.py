from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.user_info_record import UserInfoRecord


T = TypeVar("T", bound="UserResult")


@_attrs_define
class UserResult:
    log_id: int
    """ Identifies the request in the service's logs. """
    result: UserInfoRecord

    def to_dict(self) -> dict[str, Any]:
        log_id = self.log_id

        result = self.result.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "log_id": log_id,
                "result": result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.user_info_record import UserInfoRecord  # noqa: PLC0415

        d = dict(src_dict)
        log_id = d.pop("log_id")

        result = UserInfoRecord.from_dict(d.pop("result"))

        user_result = cls(
            log_id=log_id,
            result=result,
        )

        return user_result
