from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.group_member import GroupMember


T = TypeVar("T", bound="GroupUsersResult")


@_attrs_define
class GroupUsersResult:
    log_id: int
    """ Identifies the request in the service's logs. """
    result_num: int
    result: list[GroupMember]

    def to_dict(self) -> dict[str, Any]:
        log_id = self.log_id

        result_num = self.result_num

        result = []
        for result_item_data in self.result:
            result_item = result_item_data.to_dict()
            result.append(result_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "log_id": log_id,
                "result_num": result_num,
                "result": result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.group_member import GroupMember  # noqa: PLC0415

        d = dict(src_dict)
        log_id = d.pop("log_id")

        result_num = d.pop("result_num")

        result = []
        _result = d.pop("result")
        for result_item_data in _result:
            result_item = GroupMember.from_dict(result_item_data)

            result.append(result_item)

        group_users_result = cls(
            log_id=log_id,
            result_num=result_num,
            result=result,
        )

        return group_users_result
