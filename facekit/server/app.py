"""The HTTP layer of the local face server: a small Starlette application.

Routes come from the spec (``spec/face-v2.yaml``): ``GET /oauth/2.0/token``
and the twelve ``POST /rest/2.0/face/v2/...`` operations, plus
``GET /facekit/capabilities`` (a local-only path of the spec) that says what this server
computes and what it leaves out.

Every face operation runs the same steps before its handler sees the form:

1. authenticate: ``access_token`` in the query (110 unknown, 111 expired),
   else a ``bce-auth-v1`` ``Authorization`` header (14), else 100;
2. check the declared query parameters and draw an injected fault, if any;
3. admit the request, or answer 18 when too many are already waiting;
4. read the body (refused with 216103 past the spec's ``max_body_bytes``,
   see :class:`BodyLimit`), parse it and check it against the request
   schema (:mod:`facekit.server._forms`).

A handler then calls the engine and the store in a worker thread and formats
the spec's success body. Every :class:`~facekit.server.errors.ApiError`,
wherever it is raised, becomes ``{"error_code", "error_msg", "log_id"}``
with HTTP 200 in one exception handler, as the API does. Unknown paths and
methods keep their HTTP status (404, 405 with ``Allow``) and get an error body
with code 3. A bug is a 500 with code 282000, so tests and fuzzers see it.

Workers: the model and library work is CPU-bound and holds the GIL only in
part, so it runs in a small thread pool of the server's own (as many threads
as cores, at most four): the event loop stays free to read and refuse other
requests, and at most that many decoded images are in memory at once. The
pool is a :class:`concurrent.futures.ThreadPoolExecutor` rather than anyio's
limiter because one application may be served by several event loops (an
in-process transport in a test and a uvicorn thread at the same time).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Final, ParamSpec, TypeVar

import anyio.to_thread
import numpy as np
import numpy.typing as npt
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import facekit
from facekit import _injection, _spec
from facekit.server import _forms
from facekit.server._forms import Form, Operation
from facekit.server.engine import (
    MAX_PIXELS,
    SAME_PERSON_COSINE,
    EngineUnavailable,
    Face,
    FaceEngine,
    Quality,
    get_engine,
    similarity_to_score,
)
from facekit.server.errors import ApiError, api_error
from facekit.server.store import FaceRecord, FaceStore
from facekit.server.tokens import (
    DEFAULT_LIFETIME,
    DEFAULT_SCOPE,
    TokenDenied,
    TokenIssuer,
)

__all__ = ["OMITTED_FIELDS_HEADER", "BodyLimit", "capabilities", "create_app"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
Embedding = npt.NDArray[np.float32]

OMITTED_FIELDS_HEADER: Final = "X-Facekit-Omitted-Fields"

# What each face_fields item brings back here, and what it leaves out
# because no model of this server computes it honestly.
_FIELD_OMISSIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "age": ("age",),
    "beauty": ("beauty",),
    "expression": ("expression",),
    "faceshape": ("faceshape",),
    "gender": ("gender",),
    "glasses": ("glasses",),
    "landmark": ("landmark72",),
    "race": ("race",),
    "qualities": ("qualities.occlusion", "qualities.type"),
}
_COMPUTED_FIELDS: Final = ("landmark", "qualities")
if frozenset(_FIELD_OMISSIONS) != _spec.string_rule("FaceFields").allowed_items:
    raise RuntimeError("the spec's face_fields changed: update _FIELD_OMISSIONS")

# Enough for a burst from a handful of clients (the tests send 20 at once);
# past it a request is answered with 18 at once, which clients retry, rather
# than holding another body of up to 20 MB while it waits.
_DEFAULT_MAX_PENDING: Final = 32
# Bodies smaller than this are parsed on the event loop; larger ones (images)
# in a thread, since unescaping megabytes of base64 takes a while.
_INLINE_PARSE_BYTES: Final = 64 * 1024
_SCORE_DIGITS: Final = 4
_TOKEN_CREDENTIALS: Final = ("client_id", "client_secret")


def create_app(
    *,
    store: FaceStore,
    engine: FaceEngine | None = None,
    key_pairs: Mapping[str, str],
    token_lifetime: int = DEFAULT_LIFETIME,
    token_scope: str = DEFAULT_SCOPE,
    clock: Callable[[], float] = time.time,
    max_skew_seconds: int = 300,
    inject: Mapping[int, float] | None = None,
    inject_seed: int | None = None,
    workers: int | None = None,
    max_pending: int = _DEFAULT_MAX_PENDING,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The local face server as an ASGI application.

    ``store`` is the face library (the caller opens and closes it);
    ``engine`` defaults to the process-wide :func:`get_engine`, loaded on the
    first face operation. ``key_pairs`` maps API keys to secret keys.
    ``inject`` answers that share of face operations with that error code
    (``{18: 0.2}``), drawn from ``random.Random(inject_seed)``.
    ``on_shutdown`` runs at the end of the ASGI lifespan, after the work
    still running has finished (``serve`` closes the store there).
    """
    server = _FaceServer(
        store=store,
        engine=engine,
        issuer=TokenIssuer(
            key_pairs,
            lifetime=token_lifetime,
            scope=token_scope,
            clock=clock,
            max_skew_seconds=max_skew_seconds,
        ),
        faults=_Faults(inject or {}, inject_seed),
        workers=workers or min(4, os.cpu_count() or 2),
        max_pending=max_pending,
        on_shutdown=on_shutdown,
    )
    return Starlette(
        routes=server.routes(),
        middleware=[Middleware(BodyLimit, max_bytes=_spec.max_body_bytes())],
        exception_handlers={
            ApiError: _api_error_response,
            HTTPException: _http_error_response,
            Exception: _server_error_response,
        },
        lifespan=server.lifespan,
    )


class BodyLimit:
    """Refuse bodies longer than ``max_bytes`` before they are read whole.

    A ``Content-Length`` over the limit is answered at once, without reading
    a byte. A body without one (chunked) is counted as it streams in, and
    the read that passes the limit raises 216103, which the application's
    handler answers; what the client still sends is discarded by the server.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = _error_body(self._too_long())
            await response(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_long()
            return message

        await self.app(scope, limited_receive, send)

    def _too_long(self) -> ApiError:
        return api_error(216103, f"the body is longer than {self.max_bytes} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # h11 refuses a malformed Content-Length before the app runs;
            # an in-process caller gets its body counted instead.
            return int(value) if value.isdigit() else None
    return None


class _Faults:
    """Injected errors: each face call draws one number against the rates."""

    def __init__(self, rates: Mapping[int, float], seed: int | None) -> None:
        self._rates = _injection.check_rates(rates)
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> None:
        if not self._rates:
            return
        with self._lock:
            draw = self._random.random()
        for code, rate in self._rates.items():
            if draw < rate:
                raise api_error(code, "injected by the server's fault injection")
            draw -= rate


class _FaceServer:
    """The handlers and the plumbing they share; one per application."""

    def __init__(
        self,
        *,
        store: FaceStore,
        engine: FaceEngine | None,
        issuer: TokenIssuer,
        faults: _Faults,
        workers: int,
        max_pending: int,
        on_shutdown: Callable[[], None] | None,
    ) -> None:
        if workers < 1 or max_pending < 1:
            raise ValueError("workers and max_pending must be at least 1")
        self._store = store
        self._given_engine = engine
        self._issuer = issuer
        self._faults = faults
        self._workers = workers
        self._max_pending = max_pending
        self._pending = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._on_shutdown = on_shutdown

    def routes(self) -> list[Route]:
        handlers: dict[str, Callable[[Form], Awaitable[Response]]] = {
            "detect": self.detect,
            "match": self.match,
            "addUser": self.add_user,
            "updateUser": self.update_user,
            "deleteUser": self.delete_user,
            "verifyUser": self.verify_user,
            "identifyUser": self.identify_user,
            "getUser": self.get_user,
            "getGroupList": self.get_group_list,
            "getGroupUsers": self.get_group_users,
            "addGroupUser": self.add_group_user,
            "deleteGroupUser": self.delete_group_user,
        }
        # Not face operations: no authentication, no form.
        plain: dict[str, Callable[[Request], Awaitable[Response]]] = {
            "getAccessToken": self.token,
            "getCapabilities": self.capabilities,
        }
        operations = _forms.operations()
        if set(operations) != {*handlers, *plain}:
            raise RuntimeError("the spec's operations changed: update the routes")

        routes = []
        for operation_id, endpoint in plain.items():
            operation = operations[operation_id]
            routes.append(Route(operation.path, endpoint, methods=[operation.method]))
        for operation_id, handler in handlers.items():
            operation = operations[operation_id]
            routes.append(
                Route(
                    operation.path,
                    self._face_endpoint(operation, handler),
                    methods=[operation.method],
                    name=operation_id,
                )
            )
        return routes

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        # Let running work finish before whoever owns the store closes it.
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            await anyio.to_thread.run_sync(executor.shutdown)
        if self._on_shutdown is not None:
            self._on_shutdown()

    # -- the token endpoint and the capabilities answer ----------------------

    async def token(self, request: Request) -> Response:
        params = request.query_params
        if params.get("grant_type") != "client_credentials":
            return _token_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported",
            )
        limits = _forms.operations()["getAccessToken"].query_max_lengths
        for name in _TOKEN_CREDENTIALS:
            value = params.get(name)
            if not value or len(value) > limits[name]:
                return _token_error(
                    400, "invalid_request", f"{name} is missing or invalid"
                )

        try:
            issued = self._issuer.issue(params["client_id"], params["client_secret"])
        except TokenDenied as exc:
            return _token_error(401, exc.error, exc.description)

        body = {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "scope": issued.scope,
        }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def capabilities(self, request: Request) -> Response:
        return JSONResponse(capabilities())

    # -- the face operations: parse (done by the endpoint), call, format ----

    async def detect(self, form: Form) -> Response:
        requested = form.ids("face_fields") or []
        faces = await self._offload(
            self._detect,
            form.images[0],
            form.integer("max_face_num"),
            landmark="landmark" in requested,
            qualities="qualities" in requested,
        )
        result = [_face_body(face, points, quality) for face, points, quality in faces]
        omitted = [name for field in requested for name in _FIELD_OMISSIONS[field]]
        headers = {OMITTED_FIELDS_HEADER: ",".join(dict.fromkeys(omitted))}
        return _reply(
            {"result_num": len(result), "result": result}, headers if omitted else None
        )

    async def match(self, form: Form) -> Response:
        embeddings = await self._offload(self._embed_each, form.images)
        found = [
            (i, vector) for i, vector in enumerate(embeddings) if vector is not None
        ]
        pairs = [
            {"index_i": i, "index_j": j, "score": _score(float(a @ b))}
            for n, (i, a) in enumerate(found)
            for j, b in found[n + 1 :]
        ]
        return _reply({"result_num": len(pairs), "result": pairs})

    async def add_user(self, form: Form) -> Response:
        await self._offload(
            self._add_user,
            form.text("uid"),
            form.text("user_info"),
            _required(form.ids("group_id")),
            form.images,
        )
        return _reply({})

    async def update_user(self, form: Form) -> Response:
        await self._offload(
            self._update_user,
            form.text("uid"),
            form.images,
            user_info=form.optional_text("user_info"),
            group_ids=form.ids("group_id"),
        )
        return _reply({})

    async def delete_user(self, form: Form) -> Response:
        await self._offload(self._store.delete_user, form.text("uid"))
        return _reply({})

    async def verify_user(self, form: Form) -> Response:
        scores = await self._offload(
            self._verify,
            form.text("uid"),
            form.ids("group_id"),
            form.images,
            form.integer("top_num"),
        )
        return _reply({"result_num": len(scores), "result": scores})

    async def identify_user(self, form: Form) -> Response:
        users = await self._offload(
            self._identify,
            _required(form.ids("group_id")),
            form.images,
            form.integer("user_top_num"),
            form.integer("face_top_num"),
        )
        return _reply({"result_num": len(users), "result": users})

    async def get_user(self, form: Form) -> Response:
        user = await self._offload(self._store.get_user, form.text("uid"))
        record = {"uid": user.uid, "user_info": user.user_info, "groups": user.groups}
        return _reply({"result": record})

    async def get_group_list(self, form: Form) -> Response:
        groups = await self._offload(
            self._store.list_groups, form.integer("start"), form.integer("num")
        )
        return _reply({"result_num": len(groups), "result": groups})

    async def get_group_users(self, form: Form) -> Response:
        members = await self._offload(
            self._store.group_users,
            form.text("group_id"),
            form.integer("start"),
            form.integer("num"),
        )
        result = [{"uid": uid, "user_info": info} for uid, info in members]
        return _reply({"result_num": len(result), "result": result})

    async def add_group_user(self, form: Form) -> Response:
        await self._offload(
            self._store.add_group_user,
            _required(form.ids("group_id")),
            form.text("uid"),
            form.optional_text("src_group_id"),
        )
        return _reply({})

    async def delete_group_user(self, form: Form) -> Response:
        await self._offload(
            self._store.delete_group_user, form.text("group_id"), form.text("uid")
        )
        return _reply({})

    # -- work done in the worker threads -------------------------------------

    def _detect(
        self, text: str, max_faces: int, *, landmark: bool, qualities: bool
    ) -> list[tuple[Face, list[tuple[int, int]] | None, Quality | None]]:
        engine = self._engine()
        image = engine.decode(_forms.decode_image(text))
        faces = engine.detect(image, max_faces)
        if not faces:
            raise api_error(216402)
        return [
            (
                face,
                engine.landmark4(face) if landmark else None,
                engine.quality(image, face) if qualities else None,
            )
            for face in faces
        ]

    def _embed(self, data: bytes) -> Embedding | None:
        """The embedding of the image's largest face; None if it has none."""
        engine = self._engine()
        image = engine.decode(data)
        faces = engine.detect(image, 1)
        return engine.embed(image, faces[0]) if faces else None

    def _embed_each(self, texts: tuple[str, ...]) -> list[Embedding | None]:
        # One image at a time, so one decoded image at most is held.
        return [self._embed(_forms.decode_image(text)) for text in texts]

    def _queries(self, texts: tuple[str, ...]) -> list[Embedding]:
        """Embeddings of the images that hold a face; 216402 if none does."""
        queries = [vector for vector in self._embed_each(texts) if vector is not None]
        if not queries:
            raise api_error(216402)
        return queries

    def _records(self, texts: tuple[str, ...]) -> list[FaceRecord]:
        """One face per image, the largest; an image without one is refused."""
        records = []
        for text in texts:
            data = _forms.decode_image(text)
            embedding = self._embed(data)
            if embedding is None:
                raise api_error(216402)
            # Only enrolment needs the digest: the library refuses an image
            # its user already holds.
            records.append(FaceRecord(hashlib.sha256(data).hexdigest(), embedding))
        return records

    def _add_user(
        self, uid: str, user_info: str, group_ids: list[str], texts: tuple[str, ...]
    ) -> None:
        self._store.add_user(uid, user_info, group_ids, self._records(texts))

    def _update_user(
        self,
        uid: str,
        texts: tuple[str, ...],
        *,
        user_info: str | None,
        group_ids: list[str] | None,
    ) -> None:
        records = self._records(texts)
        self._store.update_user(uid, records, user_info=user_info, group_ids=group_ids)

    def _verify(
        self,
        uid: str,
        group_ids: list[str] | None,
        texts: tuple[str, ...],
        top_num: int,
    ) -> list[float]:
        # The official SDK sends the user's group: a user outside every group
        # named is not found there, as the cloud answers.
        if group_ids is not None and set(self._store.get_user(uid).groups).isdisjoint(
            group_ids
        ):
            raise api_error(216613)
        cosines = [
            cosine
            for query in self._queries(texts)
            for cosine in self._store.verify(uid, query, top_num)
        ]
        return [_score(cosine) for cosine in sorted(cosines, reverse=True)[:top_num]]

    def _identify(
        self,
        group_ids: list[str],
        texts: tuple[str, ...],
        user_top_num: int,
        face_top_num: int,
    ) -> list[dict[str, Any]]:
        # Several query images: a user's scores are its best against any.
        found: dict[str, tuple[str, list[float]]] = {}
        for query in self._queries(texts):
            for match in self._store.identify(
                group_ids, query, user_top_num, face_top_num
            ):
                _, cosines = found.setdefault(match.uid, (match.user_info, []))
                cosines.extend(match.scores)
        ranked = sorted(found.items(), key=lambda item: (-max(item[1][1]), item[0]))

        users = []
        for uid, (user_info, cosines) in ranked[:user_top_num]:
            user: dict[str, Any] = {"uid": uid, "user_info": user_info}
            group_id = self._first_group(uid, group_ids)
            if group_id is not None:
                user["group_id"] = group_id
            top = sorted(cosines, reverse=True)[:face_top_num]
            user["scores"] = [_score(cosine) for cosine in top]
            users.append(user)
        return users

    def _first_group(self, uid: str, group_ids: list[str]) -> str | None:
        """The first group searched that holds the user (gone: None)."""
        try:
            groups = set(self._store.get_user(uid).groups)
        except ApiError:
            return None
        return next((group_id for group_id in group_ids if group_id in groups), None)

    def _engine(self) -> FaceEngine:
        if self._given_engine is not None:
            return self._given_engine
        try:
            return get_engine()
        except EngineUnavailable as exc:
            logger.error("face engine unavailable: %s", exc)
            raise api_error(216015, "the face models are unavailable") from exc

    # -- plumbing ------------------------------------------------------------

    def _face_endpoint(
        self, operation: Operation, handler: Callable[[Form], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self._authenticate(request)
            _forms.check_query(operation, request.query_params.multi_items())
            self._faults.draw()
            with self._admitted():
                form = await _read_form(request, operation)
                return await handler(form)

        return endpoint

    def _authenticate(self, request: Request) -> None:
        token = request.query_params.get("access_token")
        authorization = request.headers.get("authorization")
        if token:
            self._issuer.check(token)
        elif authorization:
            self._issuer.check_signature(
                authorization=authorization,
                method=request.method,
                path=request.scope["path"],
                params=request.query_params.multi_items(),
                headers=request.headers,
            )
        else:
            raise api_error(100, "no access_token and no Authorization header")

    @contextmanager
    def _admitted(self) -> Iterator[None]:
        with self._lock:
            if self._pending >= self._max_pending:
                raise api_error(18, "the local server is busy; retry shortly")
            self._pending += 1
        try:
            yield
        finally:
            with self._lock:
                self._pending -= 1

    async def _offload(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(function, *args, **kwargs)
        return await loop.run_in_executor(self._pool(), call)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self._workers, thread_name_prefix="facekit-worker"
                )
            return self._executor


async def _read_form(request: Request, operation: Operation) -> Form:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = media_type == "application/x-www-form-urlencoded"
    # A body of another type is refused unread when its length is declared;
    # an empty one (getGroupList from the official SDK) is an empty form.
    if not is_form and request.headers.get("content-length", "0") != "0":
        raise _not_a_form()
    body = await request.body()
    if body and not is_form:
        raise _not_a_form()

    def parse() -> Form:
        return _forms.check_form(operation, _forms.parse_body(body))

    if len(body) < _INLINE_PARSE_BYTES:
        return parse()
    return await anyio.to_thread.run_sync(parse)


def _not_a_form() -> ApiError:
    return api_error(216100, "the body must be application/x-www-form-urlencoded")


def _required(ids: list[str] | None) -> list[str]:
    # The form check has made sure a required field is there.
    assert ids is not None
    return ids


def _score(cosine: float) -> float:
    return round(similarity_to_score(cosine), _SCORE_DIGITS)


def _face_body(
    face: Face, points: list[tuple[int, int]] | None, quality: Quality | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "location": {
            "left": round(face.left),
            "top": round(face.top),
            "width": round(face.width),
            "height": round(face.height),
        },
        "face_probability": round(face.probability, _SCORE_DIGITS),
        "rotation_angle": face.rotation_angle,
    }
    # An angle the engine could not estimate soundly is left out, not zeroed.
    for name, angle in (("yaw", face.yaw), ("pitch", face.pitch), ("roll", face.roll)):
        if angle is not None:
            body[name] = round(angle, _SCORE_DIGITS)
    if points is not None:
        body["landmark"] = [{"x": x, "y": y} for x, y in points]
    if quality is not None:
        body["qualities"] = {
            "blur": round(quality.blur, _SCORE_DIGITS),
            "illumination": round(quality.illumination, _SCORE_DIGITS),
            "completeness": round(quality.completeness, _SCORE_DIGITS),
        }
    return body


def capabilities() -> dict[str, Any]:
    """What this server computes and what it leaves out (``getCapabilities``)."""
    operations = _forms.operations()
    return {
        "server": "facekit local face server",
        "version": facekit.__version__,
        "operations": sorted(operations),
        "detect": {
            "always": ["location", "face_probability", "rotation_angle", "roll"],
            "when_estimable": ["yaw"],
            "never": ["pitch"],
            "face_fields": {
                field: {"computed": field in _COMPUTED_FIELDS, "omitted": list(omitted)}
                for field, omitted in _FIELD_OMISSIONS.items()
            },
            "omitted_fields_header": OMITTED_FIELDS_HEADER,
        },
        "scores": {
            "verified_score": _spec.library_rules()["verified_score"],
            "cosine_at_verified_score": SAME_PERSON_COSINE,
        },
        "limits": {
            "max_body_bytes": _spec.max_body_bytes(),
            "max_pixels": MAX_PIXELS,
            "max_faces_per_user": _spec.library_rules()["max_faces_per_user"],
        },
    }


def _reply(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse({**body, "log_id": _log_id()}, headers=headers or None)


def _log_id() -> int:
    return secrets.randbits(63)


def _error_body(exc: ApiError, status_code: int = 200, **kwargs: Any) -> Response:
    body = {
        "error_code": exc.error_code,
        "error_msg": exc.error_msg,
        "log_id": _log_id(),
    }
    return JSONResponse(body, status_code=status_code, **kwargs)


def _token_error(status_code: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description}
    return JSONResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store"}
    )


async def _api_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error_body(exc)


async def _http_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = 3 if exc.status_code in (404, 405) else 216100
    return _error_body(api_error(code), exc.status_code, headers=exc.headers)


async def _server_error_response(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answer, so the server
    # logs it with its traceback; nothing to log here.
    return _error_body(api_error(282000), 500)
