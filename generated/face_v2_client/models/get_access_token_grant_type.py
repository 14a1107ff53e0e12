from typing import Literal

GetAccessTokenGrantType = Literal["client_credentials"]

GET_ACCESS_TOKEN_GRANT_TYPE_VALUES: set[GetAccessTokenGrantType] = {
    "client_credentials",
}


def check_get_access_token_grant_type(value: str) -> GetAccessTokenGrantType:
    if value in GET_ACCESS_TOKEN_GRANT_TYPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {GET_ACCESS_TOKEN_GRANT_TYPE_VALUES!r}"
    )
