"""Fixtures shared by the tests of the local face server's HTTP layer."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from facekit.server.testing import (  # noqa: F401 (fixtures users import like this)
    FaceServer,
    face_server,
    face_server_http,
    token_params,
)

PHOTOS = (
    "biden-1.jpg",
    "collins-1.jpg",
    "einstein-1.jpg",
    "einstein-2.jpg",
    "obama-1.jpg",
    "obama-2.jpg",
    "obama-3.jpg",
)

Encoder = Callable[[str], str]


@pytest.fixture(scope="session")
def photos(faces_dir: Path) -> dict[str, bytes]:
    """The real photographs' bytes by file name."""
    return {name: (faces_dir / name).read_bytes() for name in PHOTOS}


@pytest.fixture(scope="session")
def b64(photos: dict[str, bytes]) -> Encoder:
    """A photograph's base64 text, by file name."""
    encoded = {name: base64.b64encode(data).decode() for name, data in photos.items()}
    return encoded.__getitem__


@pytest.fixture(scope="session")
def faceless_jpeg() -> bytes:
    """A real JPEG of a smooth gradient, without any face in it."""
    ramp = np.tile(np.linspace(0, 255, 160, dtype=np.uint8), (120, 1))
    image = cv2.merge([ramp, ramp[::-1], np.full_like(ramp, 90)])
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return bytes(encoded.tobytes())


@pytest.fixture
def server(face_server: FaceServer) -> FaceServer:  # noqa: F811
    """The in-process server of :mod:`facekit.server.testing`, as users get it."""
    return face_server


@pytest.fixture
async def client(server: FaceServer) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client whose requests carry a valid access token."""
    async with httpx.AsyncClient(
        transport=server.transport, base_url=server.base_url
    ) as plain:
        response = await plain.get("/oauth/2.0/token", params=token_params(server))
        token = response.json()["access_token"]
    async with httpx.AsyncClient(
        transport=server.transport,
        base_url=server.base_url,
        params={"access_token": token},
    ) as authed:
        yield authed
