from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="GroupListResult")


@_attrs_define
class GroupListResult:
    log_id: int
    """ Identifies the request in the service's logs. """
    result_num: int
    result: list[str]

    def to_dict(self) -> dict[str, Any]:
        log_id = self.log_id

        result_num = self.result_num

        result = self.result

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
        d = dict(src_dict)
        log_id = d.pop("log_id")

        result_num = d.pop("result_num")

        result = cast(list[str], d.pop("result"))

        group_list_result = cls(
            log_id=log_id,
            result_num=result_num,
            result=result,
        )

        return group_list_result
