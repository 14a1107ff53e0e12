from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.group_user_request import GroupUserRequest
from ...models.log_id_result import LogIdResult
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: GroupUserRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    params["aipSdk"] = aip_sdk

    params["aipVersion"] = aip_version

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/rest/2.0/face/v2/faceset/group/deleteuser",
        "params": params,
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | LogIdResult | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> Error | LogIdResult:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = Error.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = LogIdResult.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | LogIdResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GroupUserRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Response[Error | LogIdResult]:
    """Take a user out of one group

     A user must stay in at least one group (216619).

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (GroupUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LogIdResult]
    """

    kwargs = _get_kwargs(
        body=body,
        aip_sdk=aip_sdk,
        aip_version=aip_version,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: GroupUserRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Error | LogIdResult | None:
    """Take a user out of one group

     A user must stay in at least one group (216619).

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (GroupUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LogIdResult
    """

    return sync_detailed(
        client=client,
        body=body,
        aip_sdk=aip_sdk,
        aip_version=aip_version,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: GroupUserRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Response[Error | LogIdResult]:
    """Take a user out of one group

     A user must stay in at least one group (216619).

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (GroupUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | LogIdResult]
    """

    kwargs = _get_kwargs(
        body=body,
        aip_sdk=aip_sdk,
        aip_version=aip_version,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: GroupUserRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Error | LogIdResult | None:
    """Take a user out of one group

     A user must stay in at least one group (216619).

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (GroupUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | LogIdResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            aip_sdk=aip_sdk,
            aip_version=aip_version,
        )
    ).parsed
