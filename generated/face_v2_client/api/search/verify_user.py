from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.verify_request import VerifyRequest
from ...models.verify_result import VerifyResult
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: VerifyRequest,
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
        "url": "/rest/2.0/face/v2/verify",
        "params": params,
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | VerifyResult | None:
    if response.status_code == 200:

        def _parse_response_200(data: object) -> Error | VerifyResult:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_200_type_0 = Error.from_dict(data)

                return response_200_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_200_type_1 = VerifyResult.from_dict(data)

            return response_200_type_1

        response_200 = _parse_response_200(response.json())

        return response_200

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | VerifyResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: VerifyRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Response[Error | VerifyResult]:
    """Score how well images match one user

     Answers the best `top_num` scores between the faces in the images
    and the user's faces; a score above 80 means verified.  With
    `group_id`, a user in none of those groups gets 216613.

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (VerifyRequest): Carries its images as `image` (repeated) or `images` (comma-joined).
            The official SDK also sends `group_id`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | VerifyResult]
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
    body: VerifyRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Error | VerifyResult | None:
    """Score how well images match one user

     Answers the best `top_num` scores between the faces in the images
    and the user's faces; a score above 80 means verified.  With
    `group_id`, a user in none of those groups gets 216613.

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (VerifyRequest): Carries its images as `image` (repeated) or `images` (comma-joined).
            The official SDK also sends `group_id`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | VerifyResult
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
    body: VerifyRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Response[Error | VerifyResult]:
    """Score how well images match one user

     Answers the best `top_num` scores between the faces in the images
    and the user's faces; a score above 80 means verified.  With
    `group_id`, a user in none of those groups gets 216613.

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (VerifyRequest): Carries its images as `image` (repeated) or `images` (comma-joined).
            The official SDK also sends `group_id`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | VerifyResult]
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
    body: VerifyRequest,
    aip_sdk: str | Unset = UNSET,
    aip_version: str | Unset = UNSET,
) -> Error | VerifyResult | None:
    """Score how well images match one user

     Answers the best `top_num` scores between the faces in the images
    and the user's faces; a score above 80 means verified.  With
    `group_id`, a user in none of those groups gets 216613.

    Args:
        aip_sdk (str | Unset):
        aip_version (str | Unset):
        body (VerifyRequest): Carries its images as `image` (repeated) or `images` (comma-joined).
            The official SDK also sends `group_id`.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | VerifyResult
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            aip_sdk=aip_sdk,
            aip_version=aip_version,
        )
    ).parsed
