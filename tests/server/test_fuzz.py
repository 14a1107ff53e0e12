"""Schemathesis against the local face server, in-process.

Every operation of the spec, stateless (examples, coverage and fuzzing
phases, positive and negative data) and stateful (the spec's links: token ->
getGroupList, addUser -> getUser / verifyUser / deleteUser). Configured here,
not in a ``schemathesis.toml``, so that nothing else in the repository picks
the configuration up by accident:

* ``negative_data_rejection`` and ``ignored_auth`` are off: the v2 API
  answers every error with HTTP 200 and an error body, which those checks
  read as acceptance. :func:`negative_data_gets_an_error_body` takes their
  place: data the spec forbids must get a body with ``error_code``.
* Auth is a programmatic provider that asks the server's own token endpoint
  for a token with the server's key pair and puts it in ``access_token``.
* Positive cases of the image operations sometimes carry real photographs
  (small copies) instead of random base64, so the success paths, and the
  stateful chains after a successful addUser, are reached too.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import hypothesis
import numpy as np
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection

from facekit import _spec
from facekit.server import create_app
from facekit.server._forms import operations
from facekit.server.store import FaceStore

API_KEY = "fuzz_api_key"
SECRET_KEY = "fuzz_secret_key"
TOKEN_PATH = "/oauth/2.0/token"
FACES = Path(__file__).resolve().parents[2].parent / "shared" / "faces"
# A fixed seed keeps CI reproducible; FACEKIT_FUZZ_SEED and
# FACEKIT_FUZZ_EXAMPLES explore further.
SEED = int(os.environ.get("FACEKIT_FUZZ_SEED", "20240601"))
MAX_EXAMPLES = int(os.environ.get("FACEKIT_FUZZ_EXAMPLES", "30"))
IMAGE_FIELDS = frozenset({"image", "images"})

STORE = FaceStore(":memory:")
APP = create_app(store=STORE, key_pairs={API_KEY: SECRET_KEY})

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES},
        "checks": {
            "negative_data_rejection": {"enabled": False},
            "ignored_auth": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_path(_spec.spec_path(), config=CONFIG)
schema.app = APP


@pytest.fixture(scope="module", autouse=True)
def _close_store() -> Iterator[None]:
    yield
    STORE.close()


# --- auth --------------------------------------------------------------------


async def _get(app: Any, path: str, params: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
        return await client.get(path, params=params)


@schema.auth()
class ServerToken:
    """A token from the server's own endpoint, sent as ``access_token``."""

    def get(self, case: schemathesis.Case, ctx: schemathesis.AuthContext) -> str:
        params = {
            "grant_type": "client_credentials",
            "client_id": API_KEY,
            "client_secret": SECRET_KEY,
        }
        response = asyncio.run(_get(ctx.app, TOKEN_PATH, params))
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def set(
        self, case: schemathesis.Case, data: str, ctx: schemathesis.AuthContext
    ) -> None:
        if case.operation.path != TOKEN_PATH:
            case.query = {**(case.query or {}), "access_token": data}


# --- real photographs for positive cases ------------------------------------------


def _small_photo(name: str, side: int = 240) -> str:
    image = cv2.imread(str(FACES / name), cv2.IMREAD_COLOR)
    scale = side / max(image.shape[:2])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(small))
    assert ok
    return base64.b64encode(encoded.tobytes()).decode()


PHOTOS = [_small_photo(name) for name in ("obama-1.jpg", "obama-2.jpg", "biden-1.jpg")]


def _with_photos(
    operation_id: str, body: dict[str, Any], photos: list[str]
) -> dict[str, Any]:
    """The body with real photos in the operation's image field, and only there.

    The generator knows nothing of ``x-require-one-of``, so half its positive
    bodies carry both ``image`` and ``images`` or neither; one field is kept.
    """
    body = {name: value for name, value in body.items() if name not in IMAGE_FIELDS}
    field = operations()[operation_id].fields[_spec.image_rule(operation_id).fields[0]]
    if field.kind == "image_list":
        body[field.name] = ",".join(photos)
    elif field.repeatable:
        body[field.name] = photos
    else:
        body[field.name] = photos[0]
    return body


@schema.hook
def flatmap_case(
    context: schemathesis.HookContext, case: schemathesis.Case
) -> st.SearchStrategy[schemathesis.Case]:
    meta = case.meta
    body = case.body
    operation_id = schema.get_operation_id(case.operation)
    if (
        meta is None
        or meta.generation.mode.is_negative
        or not isinstance(body, dict)
        or operations()[operation_id].image_rule is None
    ):
        return st.just(case)

    def substituted(photos: list[str]) -> schemathesis.Case:
        case.body = _with_photos(operation_id, body, photos)
        return case

    photos = st.lists(st.sampled_from(PHOTOS), min_size=1, max_size=3)
    return st.one_of(st.just(case), photos.map(substituted))


# --- the custom check ------------------------------------------------------------


def negative_data_gets_an_error_body(
    ctx: schemathesis.CheckContext,
    response: schemathesis.Response,
    case: schemathesis.Case,
) -> bool | None:
    """Data the spec forbids gets an error body (the API answers errors with 200).

    When a "negative" case comes back with a success body, schemathesis's own
    rules decide whether the case was really negative as sent (a mutated
    integer may serialise to valid form text, for example): the built-in
    check is asked, and it fails only when the data stayed invalid.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return None
    if response.status_code != 200 or case.operation.path == TOKEN_PATH:
        return None
    body = response.json()
    if isinstance(body, dict) and "error_code" in body:
        return True
    negative_data_rejection(ctx, response, case)
    return True


CHECKS = [negative_data_gets_an_error_body]


# --- stateless -------------------------------------------------------------------


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    case.call_and_validate(additional_checks=CHECKS)


# --- stateful --------------------------------------------------------------------


class FaceLibraryMachine(schema.as_state_machine()):  # type: ignore[misc]
    def validate_response(
        self,
        response: schemathesis.Response,
        case: schemathesis.Case,
        additional_checks: Any = None,
        **kwargs: Any,
    ) -> None:
        super().validate_response(
            response,
            case,
            additional_checks=[*CHECKS, *(additional_checks or [])],
            **kwargs,
        )


TestFaceLibrary = FaceLibraryMachine.TestCase
TestFaceLibrary.settings = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.generate],
)
