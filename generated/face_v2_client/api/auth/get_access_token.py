from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.access_token import AccessToken
from ...models.get_access_token_grant_type import (
    GetAccessTokenGrantType,
)
from ...models.token_error import TokenError
from ...types import UNSET, Response


def _get_kwargs(
    *,
    grant_type: GetAccessTokenGrantType,
    client_id: str,
    client_secret: str,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_grant_type: str = grant_type
    params["grant_type"] = json_grant_type

    params["client_id"] = client_id

    params["client_secret"] = client_secret

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/oauth/2.0/token",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AccessToken | TokenError | None:
    if response.status_code == 200:
        response_200 = AccessToken.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = TokenError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = TokenError.from_dict(response.json())

        return response_401

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AccessToken | TokenError]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    grant_type: GetAccessTokenGrantType,
    client_id: str,
    client_secret: str,
) -> Response[AccessToken | TokenError]:
    """Exchange the API key and secret key for an access token

    Args:
        grant_type (GetAccessTokenGrantType):
        client_id (str):
        client_secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessToken | TokenError]
    """

    kwargs = _get_kwargs(
        grant_type=grant_type,
        client_id=client_id,
        client_secret=client_secret,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    grant_type: GetAccessTokenGrantType,
    client_id: str,
    client_secret: str,
) -> AccessToken | TokenError | None:
    """Exchange the API key and secret key for an access token

    Args:
        grant_type (GetAccessTokenGrantType):
        client_id (str):
        client_secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessToken | TokenError
    """

    return sync_detailed(
        client=client,
        grant_type=grant_type,
        client_id=client_id,
        client_secret=client_secret,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    grant_type: GetAccessTokenGrantType,
    client_id: str,
    client_secret: str,
) -> Response[AccessToken | TokenError]:
    """Exchange the API key and secret key for an access token

    Args:
        grant_type (GetAccessTokenGrantType):
        client_id (str):
        client_secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AccessToken | TokenError]
    """

    kwargs = _get_kwargs(
        grant_type=grant_type,
        client_id=client_id,
        client_secret=client_secret,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    grant_type: GetAccessTokenGrantType,
    client_id: str,
    client_secret: str,
) -> AccessToken | TokenError | None:
    """Exchange the API key and secret key for an access token

    Args:
        grant_type (GetAccessTokenGrantType):
        client_id (str):
        client_secret (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AccessToken | TokenError
    """

    return (
        await asyncio_detailed(
            client=client,
            grant_type=grant_type,
            client_id=client_id,
            client_secret=client_secret,
        )
    ).parsed
