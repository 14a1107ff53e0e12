"""Faults the local face server survives.

* Sixteen clients writing the same users at once over HTTP lose no update:
  every answer is the one a model of each client's own writes predicts, the
  final library is what the acknowledged answers imply, and the file
  reopened from disk holds exactly what the live server held.
* A read-only library file and a full disk (SQLite's ``max_page_count``,
  which fails a write with SQLITE_FULL exactly as a full disk does) answer
  216300 ``db error`` over HTTP, and leave the file intact with every
  acknowledged write in it.
* SIGKILL while many writers commit small changes: every acknowledged change
  is in the file afterwards. ``test_durability.py`` kills the real server
  during enrolment, where most of the time goes to the face models; here a
  model-free engine makes each request little more than its commit, so the
  kill lands among commits, and membership flips would show an answer sent
  before its commit.
* Fault injection answers exactly the share of face calls its seed draws,
  with the spec's error body.

The face engine is :class:`StubEngine` throughout: the faults are in HTTP,
SQLite and the process, not in the models.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import numpy as np
import pytest
from _children import serving_child
from _faultkit import (
    AsyncCountingTransport,
    CountingTransport,
    Recorder,
    StubEngine,
    tiny_png,
)

import facekit
from facekit import _spec
from facekit.server import create_app
from facekit.server.errors import ApiError
from facekit.server.store import FaceStore
from facekit.server.testing import (
    make_key_pair,
    running_face_server,
    start_server_in_thread,
    token_params,
)

TESTS_DIR = Path(__file__).resolve().parents[1]
DEADLINE = 60.0
UIDS = [f"u{i}" for i in range(8)]
SPEC_CODES = frozenset(_spec.error_codes())


def library(store: FaceStore) -> dict[str, Any]:
    """Everything a client can read of the library, and the search index."""
    groups = store.list_groups(0, 1000)
    users = sorted({uid for g in groups for uid, _ in store.group_users(g, 0, 1000)})
    return {
        "groups": {g: store.group_users(g, 0, 1000) for g in groups},
        "users": {uid: store.get_user(uid) for uid in users},
        "faces": store.face_count(),
        "index": store._index_state(),
    }


def integrity(db: Path) -> str:
    """SQLite's own check of the file and of its foreign keys."""
    conn = sqlite3.connect(db)
    try:
        (result,) = conn.execute("PRAGMA integrity_check").fetchone()
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        conn.close()
    return f"{result}, {len(violations)} foreign key violations"


def digest(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


def client_of(
    base_url: str, api_key: str, secret_key: str, recorder: Recorder, **options: Any
) -> facekit.FaceClient:
    options.setdefault("plugins", [])
    return facekit.FaceClient(
        api_key,
        secret_key,
        base_url=base_url,
        transport=CountingTransport(recorder),
        **options,
    )


def assert_clean_answers(recorder: Recorder) -> None:
    """HTTP 200 every time, spec codes only, and SQLite's words nowhere."""
    for exchange in recorder.exchanges:
        assert exchange.status == 200, exchange
        assert exchange.error_code is None or exchange.error_code in SPEC_CODES
        assert b"locked" not in exchange.body.lower(), exchange.body
        assert b"traceback" not in exchange.body.lower(), exchange.body


# -- many writers on the same users ----------------------------------------------------

WRITERS = 16
OPS_PER_WRITER = 30


class Writer:
    """One client that owns group ``w<n>`` and writes shared users.

    Only this writer changes its group's memberships, so it knows whether
    each user is a member of it, and hence the exact answer of every
    addGroupUser (216100 ``already add`` for a member) and deleteGroupUser
    (216613 for a non-member): a lost update shows as a wrong answer.
    """

    def __init__(self, index: int, infos: dict[str, set[str]]) -> None:
        self.index = index
        self.group = f"w{index}"
        self.member = dict.fromkeys(UIDS, False)
        self.infos = infos
        self.problems: list[str] = []
        self._rng = np.random.default_rng(index)

    async def run(self, client: facekit.AsyncFaceClient) -> None:
        for step in range(OPS_PER_WRITER):
            uid = UIDS[int(self._rng.integers(len(UIDS)))]
            operation = int(self._rng.integers(5))
            image = tiny_png(1_000 * self.index + step)
            info = f"by {self.group} step {step}"
            outcome: int | str = "ok"
            groups: list[str] = []
            try:
                if operation == 0:
                    await client.add_group_user(["all", self.group], uid)
                elif operation == 1:
                    await client.delete_group_user(self.group, uid)
                elif operation == 2:
                    await client.update_user(uid, image, user_info=info)
                elif operation == 3:
                    await client.add_user(uid, info, self.group, image)
                else:
                    groups = (await client.get_user(uid)).result.groups
            except facekit.APIError as exc:
                outcome = exc.error_code
            self._check(operation, uid, info, outcome, groups)

    def _check(
        self, operation: int, uid: str, info: str, outcome: int | str, groups: list[str]
    ) -> None:
        expected: set[int | str]
        if operation == 0:
            expected = {216100} if self.member[uid] else {"ok"}
            self.member[uid] = True
        elif operation == 1:
            expected = {"ok"} if self.member[uid] else {216613}
            self.member[uid] = False
        elif operation == 2:
            expected = {"ok"}
        elif operation == 3:
            # More than five faces refuses the whole call; others' updates
            # and additions decide how many the user holds.
            expected = {"ok", 216617}
            if outcome == "ok":
                self.member[uid] = True
        else:
            expected = {"ok"}
            if outcome == "ok" and (
                "all" not in groups or (self.group in groups) != self.member[uid]
            ):
                self.problems.append(f"{self.group} read {uid} in {groups}")
        if outcome not in expected:
            self.problems.append(f"{self.group} op {operation} on {uid}: {outcome}")
        if outcome == "ok" and operation in (2, 3):
            self.infos[uid].add(info)


async def test_sixteen_writers_on_the_same_users_lose_no_update(tmp_path: Path) -> None:
    db = tmp_path / "faces.db"
    recorder = Recorder()
    infos: dict[str, set[str]] = {uid: set() for uid in UIDS}
    writers = [Writer(i, infos) for i in range(WRITERS)]

    with running_face_server(db, http=True, engine=StubEngine()) as server:

        def client() -> facekit.AsyncFaceClient:
            transport = AsyncCountingTransport(recorder, httpx.AsyncHTTPTransport())
            return facekit.AsyncFaceClient(
                server.api_key,
                server.secret_key,
                base_url=server.base_url,
                transport=transport,
                plugins=[],
            )

        async with client() as setup:
            for n, uid in enumerate(UIDS):
                await setup.add_user(uid, "initial", "all", tiny_png(-1 - n))

        clients = [client() for _ in writers]
        try:
            await asyncio.gather(
                *(w.run(c) for w, c in zip(writers, clients, strict=True))
            )
        finally:
            for c in clients:
                await c.aclose()

        live = library(server.store)

    assert [p for w in writers for p in w.problems] == []
    assert_clean_answers(recorder)
    assert len(recorder.face_requests) == len(UIDS) + WRITERS * OPS_PER_WRITER
    for uid in UIDS:
        user = live["users"][uid]
        owners = {w.group for w in writers if w.member[uid]}
        assert set(user.groups) == {"all"} | owners, uid
        # The last write that committed was acknowledged to someone.
        assert user.user_info in (infos[uid] or {"initial"}), uid
        _, embeddings = live["index"][uid]
        assert 1 <= len(embeddings) <= 5, uid

    # The file, reopened, holds what the live server held, index included.
    assert integrity(db) == "ok, 0 foreign key violations"
    with FaceStore(db) as reopened:
        assert library(reopened) == live


# -- a read-only file and a full disk --------------------------------------------------


def test_a_read_only_library_answers_216300_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "faces.db"
    engine = StubEngine()
    recorder = Recorder()
    with running_face_server(db, http=True, engine=engine) as server:
        with client_of(
            server.base_url, server.api_key, server.secret_key, recorder
        ) as c:
            c.add_user("u1", "one", ["g1", "g2"], [tiny_png(1), tiny_png(2)])
            c.add_user("u2", "two", "g1", tiny_png(3))
        before = library(server.store)

    api_key, secret_key = make_key_pair()
    recorder = Recorder()
    slept: list[float] = []
    retry = facekit.RetryPlugin(3, sleep=slept.append)
    with FaceStore(db, readonly=True) as store:
        app = create_app(store=store, engine=engine, key_pairs={api_key: secret_key})
        with (
            start_server_in_thread(app) as base_url,
            client_of(base_url, api_key, secret_key, recorder, plugins=[retry]) as c,
        ):
            writes: dict[str, Callable[[], object]] = {
                "addUser new": lambda: c.add_user("u3", "three", "g1", tiny_png(4)),
                "addUser more": lambda: c.add_user("u1", "one", "g3", tiny_png(5)),
                "updateUser": lambda: c.update_user("u1", tiny_png(6)),
                "deleteUser": lambda: c.delete_user("u2"),
                "addGroupUser": lambda: c.add_group_user("g3", "u2"),
                "deleteGroupUser": lambda: c.delete_group_user("g2", "u1"),
            }
            for name, write in writes.items():
                with pytest.raises(facekit.ServiceError) as raised:
                    write()
                assert raised.value.error_code == 216300, name
                assert raised.value.error_msg.startswith("db error"), name

            # Reading and searching go on.
            assert c.get_user("u1").result.groups == ["g1", "g2"]
            found = c.identify_user("g1", tiny_png(3))
            assert found.result[0].uid == "u2"
            assert library(store) == before

    # 216300 may pass (a lock released), so it is retried, a bounded number of times.
    assert recorder.codes().count(216300) == 3 * len(writes)
    assert len(slept) == 2 * len(writes)
    assert_clean_answers(recorder)
    assert integrity(db) == "ok, 0 foreign key violations"
    with FaceStore(db) as reopened:
        assert library(reopened) == before


class FullDiskStore(FaceStore):
    """A store whose file may grow a few pages only: SQLITE_FULL, as a full disk."""

    def leave_room(self, pages: int) -> None:
        with self._guard() as conn:
            (count,) = conn.execute("PRAGMA page_count").fetchone()
            conn.execute(f"PRAGMA max_page_count = {count + pages}")


def test_a_full_disk_answers_216300_and_keeps_every_acknowledged_write(
    tmp_path: Path,
) -> None:
    db = tmp_path / "faces.db"
    api_key, secret_key = make_key_pair()
    recorder = Recorder()
    acknowledged: list[tuple[str, list[bytes]]] = []
    refused: str | None = None

    with closing(FullDiskStore(db)) as store:
        app = create_app(
            store=store, engine=StubEngine(), key_pairs={api_key: secret_key}
        )
        with (
            start_server_in_thread(app) as base_url,
            client_of(base_url, api_key, secret_key, recorder) as c,
        ):
            c.add_user("base", "kept", "g1", tiny_png(0))
            store.leave_room(4)
            for i in range(200):
                uid = f"user{i}"
                images = [tiny_png(10_000 + 5 * i + j) for j in range(5)]
                try:
                    c.add_user(uid, "x" * 250, ["g1", f"team{i}"], images)
                except facekit.ServiceError as exc:
                    assert exc.error_code == 216300
                    assert exc.error_msg.startswith("db error")
                    refused = uid
                    break
                acknowledged.append((uid, images))
            assert refused is not None, "the page limit was never reached"

            # Still full for the next write; reads go on.
            with pytest.raises(facekit.ServiceError):
                c.add_user("late", "x" * 250, "g1", [tiny_png(-i) for i in range(1, 6)])
            assert c.get_user("base").result.user_info == "kept"
            live = library(store)

    assert acknowledged
    assert_clean_answers(recorder)
    assert integrity(db) == "ok, 0 foreign key violations"
    with FaceStore(db) as reopened:
        assert library(reopened) == live
        for uid, images in acknowledged:
            user = reopened.get_user(uid)
            assert user.groups == sorted(["g1", f"team{uid[4:]}"])
            assert user.user_info == "x" * 250
            assert all(reopened.has_digest(uid, digest(image)) for image in images)
        assert refused not in live["users"]
        # The disk has room again: writes go through.
        reopened.delete_user("base")


# -- fault injection -------------------------------------------------------------------


def _error_schema() -> dict[str, Any]:
    document = _spec.load()
    return {"components": document["components"], "$ref": "#/components/schemas/Error"}


async def test_injected_18_answers_exactly_the_share_its_seed_draws(
    tmp_path: Path,
) -> None:
    seed, calls = 11, 200
    draws = random.Random(seed)
    expected = [18 if draws.random() < 0.5 else None for _ in range(calls)]
    path = "/rest/2.0/face/v2/faceset/group/getlist"

    with running_face_server(
        tmp_path / "f.db", inject={18: 0.5}, inject_seed=seed
    ) as server:
        async with httpx.AsyncClient(
            transport=server.transport, base_url=server.base_url
        ) as http:
            bodies = []
            for i in range(calls):
                # Token requests draw nothing: only face operations do.
                if i % 50 == 0:
                    token = await http.get(
                        "/oauth/2.0/token", params=token_params(server)
                    )
                    params = {"access_token": token.json()["access_token"]}
                response = await http.post(path, params=params)
                assert response.status_code == 200
                bodies.append(response.json())

    codes = [body.get("error_code") for body in bodies]
    assert codes == expected
    # The share is what a fair coin gives: within four standard deviations.
    assert abs(codes.count(18) - calls * 0.5) <= 4 * (calls * 0.25) ** 0.5
    message = _spec.error_codes()[18].message
    for body in bodies:
        if "error_code" in body:
            jsonschema.validate(body, _error_schema())
            assert body["error_msg"].startswith(message)
            assert isinstance(body["log_id"], int)
        else:
            assert body["result"] == []


# -- SIGKILL among many small commits --------------------------------------------------

CHILD = """
import sys, threading
sys.path.insert(0, sys.argv[4])
from _faultkit import StubEngine
from facekit.server.testing import running_face_server

with running_face_server(
    sys.argv[1], http=True, key_pair=(sys.argv[2], sys.argv[3]), engine=StubEngine()
) as server:
    print("serving", server.base_url, flush=True)
    threading.Event().wait()
"""
KILLERS = 8
KILL_AFTER = 240


class Flipper:
    """A thread that flips memberships of the shared users in its own group.

    ``member`` holds what the acknowledged answers say; ``pending`` the
    change in flight when the server died, whose fate is unknown.
    """

    def __init__(
        self, index: int, client: facekit.FaceClient, acked: Callable[[], None]
    ) -> None:
        self.group = f"k{index}"
        self.member = dict.fromkeys(UIDS, False)
        self.pending: tuple[str, bool] | None = None
        self.enrolled: list[tuple[str, bytes]] = []
        self.pending_user: tuple[str, bytes] | None = None
        self.problems: list[BaseException] = []
        self._client = client
        self._acked = acked
        self._index = index

    def run(self) -> None:
        rng = random.Random(self._index)
        try:
            for step in range(10_000):
                if step % 6 == 5:
                    uid, image = (
                        f"{self.group}_{step}",
                        tiny_png(50_000 * self._index + step),
                    )
                    self.pending_user = (uid, image)
                    self._client.add_user(uid, "new", self.group, image)
                    self.enrolled.append((uid, image))
                    self.pending_user = None
                else:
                    uid = rng.choice(UIDS)
                    joined = not self.member[uid]
                    self.pending = (uid, joined)
                    if joined:
                        self._client.add_group_user(self.group, uid)
                    else:
                        self._client.delete_group_user(self.group, uid)
                    self.member[uid] = joined
                    self.pending = None
                self._acked()
        except facekit.TransportError:
            return  # the server was killed
        except BaseException as exc:
            self.problems.append(exc)
            self._acked()  # wake the test: this thread has stopped


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX only")
def test_sigkill_among_many_small_commits_keeps_every_acknowledged_change(
    tmp_path: Path,
) -> None:
    db = tmp_path / "faces.db"
    api_key, secret_key = make_key_pair()
    count, lock, enough = 0, threading.Lock(), threading.Event()
    flippers: list[Flipper] = []

    def acked() -> None:
        nonlocal count
        with lock:
            count += 1
            if count >= KILL_AFTER or any(f.problems for f in flippers):
                enough.set()

    child = [sys.executable, "-c", CHILD, str(db), api_key, secret_key, str(TESTS_DIR)]
    with serving_child(child, ready="serving ") as server:
        clients = [
            facekit.FaceClient(api_key, secret_key, base_url=server.url, plugins=[])
            for _ in range(KILLERS)
        ]
        try:
            for n, uid in enumerate(UIDS):
                clients[0].add_user(uid, "initial", "all", tiny_png(-1 - n))
            flippers.extend(Flipper(i, c, acked) for i, c in enumerate(clients))
            threads = [threading.Thread(target=f.run) for f in flippers]
            for thread in threads:
                thread.start()
            assert enough.wait(DEADLINE)
            os.kill(server.process.pid, signal.SIGKILL)
            for thread in threads:
                thread.join(DEADLINE)
            assert not any(thread.is_alive() for thread in threads)
        finally:
            for c in clients:
                c.close()

    assert [p for f in flippers for p in f.problems] == []
    assert integrity(db) == "ok, 0 foreign key violations"
    with FaceStore(db) as store:
        for flipper in flippers:
            for uid in UIDS:
                groups = store.get_user(uid).groups
                assert "all" in groups
                if flipper.pending is not None and flipper.pending[0] == uid:
                    continue  # in flight: either way is right
                assert (flipper.group in groups) == flipper.member[uid], (
                    uid,
                    flipper.group,
                )
            for uid, image in flipper.enrolled:
                assert store.get_user(uid).groups == [flipper.group]
                assert store.has_digest(uid, digest(image))
            if flipper.pending_user is not None:
                uid, image = flipper.pending_user
                # Absent, or there whole.
                try:
                    user = store.get_user(uid)
                except ApiError:
                    continue
                assert user.groups == [flipper.group]
                assert store.has_digest(uid, digest(image))
        enrolled = {uid for f in flippers for uid, _ in f.enrolled}
        pending = {f.pending_user[0] for f in flippers if f.pending_user is not None}
        listed = {
            uid
            for g in store.list_groups(0, 1000)
            for uid, _ in store.group_users(g, 0, 1000)
        }
        assert enrolled <= listed <= enrolled | pending | set(UIDS)
