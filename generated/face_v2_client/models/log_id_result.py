from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="LogIdResult")


@_attrs_define
class LogIdResult:
    log_id: int
    """ Identifies the request in the service's logs. """

    def to_dict(self) -> dict[str, Any]:
        log_id = self.log_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "log_id": log_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        log_id = d.pop("log_id")

        log_id_result = cls(
            log_id=log_id,
        )

        return log_id_result
