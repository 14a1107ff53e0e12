from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AccessToken")


@_attrs_define
class AccessToken:
    access_token: str
    expires_in: int
    """ Seconds the token stays valid. """
    scope: str
    """ Space-separated permissions; `brain_all_scope` allows the token on every face operation. """
    refresh_token: str | Unset = UNSET
    session_key: str | Unset = UNSET
    session_secret: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        access_token = self.access_token

        expires_in = self.expires_in

        scope = self.scope

        refresh_token = self.refresh_token

        session_key = self.session_key

        session_secret = self.session_secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token": access_token,
                "expires_in": expires_in,
                "scope": scope,
            }
        )
        if refresh_token is not UNSET:
            field_dict["refresh_token"] = refresh_token
        if session_key is not UNSET:
            field_dict["session_key"] = session_key
        if session_secret is not UNSET:
            field_dict["session_secret"] = session_secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        access_token = d.pop("access_token")

        expires_in = d.pop("expires_in")

        scope = d.pop("scope")

        refresh_token = d.pop("refresh_token", UNSET)

        session_key = d.pop("session_key", UNSET)

        session_secret = d.pop("session_secret", UNSET)

        access_token = cls(
            access_token=access_token,
            expires_in=expires_in,
            scope=scope,
            refresh_token=refresh_token,
            session_key=session_key,
            session_secret=session_secret,
        )

        access_token.additional_properties = d
        return access_token

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
