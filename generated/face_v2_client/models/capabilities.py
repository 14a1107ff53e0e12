from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.capabilities_detect import CapabilitiesDetect
    from ..models.capabilities_limits import CapabilitiesLimits
    from ..models.capabilities_scores import CapabilitiesScores


T = TypeVar("T", bound="Capabilities")


@_attrs_define
class Capabilities:
    server: str
    version: str
    operations: list[str]
    detect: CapabilitiesDetect
    scores: CapabilitiesScores
    limits: CapabilitiesLimits
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        server = self.server

        version = self.version

        operations = self.operations

        detect = self.detect.to_dict()

        scores = self.scores.to_dict()

        limits = self.limits.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "server": server,
                "version": version,
                "operations": operations,
                "detect": detect,
                "scores": scores,
                "limits": limits,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capabilities_detect import CapabilitiesDetect  # noqa: PLC0415
        from ..models.capabilities_limits import CapabilitiesLimits  # noqa: PLC0415
        from ..models.capabilities_scores import CapabilitiesScores  # noqa: PLC0415

        d = dict(src_dict)
        server = d.pop("server")

        version = d.pop("version")

        operations = cast(list[str], d.pop("operations"))

        detect = CapabilitiesDetect.from_dict(d.pop("detect"))

        scores = CapabilitiesScores.from_dict(d.pop("scores"))

        limits = CapabilitiesLimits.from_dict(d.pop("limits"))

        capabilities = cls(
            server=server,
            version=version,
            operations=operations,
            detect=detect,
            scores=scores,
            limits=limits,
        )

        capabilities.additional_properties = d
        return capabilities

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
