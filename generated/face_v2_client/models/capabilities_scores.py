from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CapabilitiesScores")


@_attrs_define
class CapabilitiesScores:
    verified_score: float
    cosine_at_verified_score: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        verified_score = self.verified_score

        cosine_at_verified_score = self.cosine_at_verified_score

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "verified_score": verified_score,
                "cosine_at_verified_score": cosine_at_verified_score,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        verified_score = d.pop("verified_score")

        cosine_at_verified_score = d.pop("cosine_at_verified_score")

        capabilities_scores = cls(
            verified_score=verified_score,
            cosine_at_verified_score=cosine_at_verified_score,
        )

        capabilities_scores.additional_properties = d
        return capabilities_scores

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
