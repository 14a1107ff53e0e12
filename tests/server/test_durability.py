"""A server process killed with SIGKILL during bulk enrolment loses nothing.

Three client threads enrol users, each with one to three faces in one or two
groups, through a real server process on a temporary library. When enough
enrolments have been acknowledged the process is killed outright (no
shutdown, no flush), a new one is started on the same file, and:

* every user whose addUser was answered with success is there, in its
  groups, with all its faces;
* no user is partial: every user in the file (acknowledged or caught in
  flight) has exactly the faces and groups its request carried, and none is
  without faces or groups.

Nothing sleeps: the test waits for the line in which the server announces its
URL (it binds its socket before printing it), and for an event the clients
set after enough acknowledgements.
"""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from _children import SERVING, Child, server_command, serving_child

from facekit.server._forms import operations

API_KEY = "durability_key"
SECRET_KEY = "durability_secret"
START_DEADLINE = 120.0
CLIENTS = 3
USERS_PER_CLIENT = 40
KILL_AFTER_ACKNOWLEDGED = 9

pytestmark = pytest.mark.skipif(
    not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX only"
)


@dataclass(frozen=True)
class Enrolment:
    uid: str
    groups: tuple[str, ...]
    images: tuple[str, ...]


def _enrolments(photos: dict[str, bytes]) -> list[list[Enrolment]]:
    encoded = [base64.b64encode(photos[name]).decode() for name in sorted(photos)]
    plans = []
    for client in range(CLIENTS):
        plan = []
        for i in range(USERS_PER_CLIENT):
            n = client * USERS_PER_CLIENT + i
            faces = 1 + n % 3
            images = tuple(encoded[(n + j) % len(encoded)] for j in range(faces))
            groups = ("all", f"team_{n % 4}") if n % 2 else ("all",)
            plan.append(Enrolment(f"user_{n}", groups, images))
        plans.append(plan)
    return plans


def _server(db: Path) -> AbstractContextManager[Child]:
    options = (
        "--api-key",
        API_KEY,
        "--secret-key",
        SECRET_KEY,
        "--log-level",
        "warning",
    )
    return serving_child(server_command(db, *options), ready=SERVING)


def _client(base_url: str) -> httpx.Client:
    token_path = operations()["getAccessToken"].path
    params = {
        "grant_type": "client_credentials",
        "client_id": API_KEY,
        "client_secret": SECRET_KEY,
    }
    token = httpx.get(base_url + token_path, params=params, timeout=30).json()
    return httpx.Client(
        base_url=base_url,
        params={"access_token": token["access_token"]},
        timeout=60,
    )


def _call(client: httpx.Client, operation_id: str, data: dict[str, Any]) -> Any:
    return client.post(operations()[operation_id].path, data=data).json()


class Enroller:
    """Client threads enrolling users until the server goes away."""

    def __init__(self, base_url: str, plans: list[list[Enrolment]]) -> None:
        self.base_url = base_url
        self.plans = plans
        self.acknowledged: list[Enrolment] = []
        self.errors: list[Any] = []
        self.enough = threading.Event()
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(plan,), daemon=True)
            for plan in plans
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(120)
            assert not thread.is_alive()

    def _run(self, plan: list[Enrolment]) -> None:
        try:
            client = _client(self.base_url)
        except httpx.TransportError:
            return
        with client:
            for enrolment in plan:
                data = {
                    "uid": enrolment.uid,
                    "user_info": f"info of {enrolment.uid}",
                    "group_id": ",".join(enrolment.groups),
                    "image": list(enrolment.images),
                }
                try:
                    body = _call(client, "addUser", data)
                except httpx.TransportError:
                    # The server was killed: this request's fate is unknown.
                    return
                with self._lock:
                    if "error_code" in body:
                        self.errors.append(body)
                        continue
                    self.acknowledged.append(enrolment)
                    if len(self.acknowledged) >= KILL_AFTER_ACKNOWLEDGED:
                        self.enough.set()


def test_a_killed_server_keeps_every_acknowledged_user_whole(
    tmp_path: Path, photos: dict[str, bytes]
) -> None:
    db = tmp_path / "library.db"
    plans = _enrolments(photos)
    sent = {enrolment.uid: enrolment for plan in plans for enrolment in plan}

    with _server(db) as server:
        enroller = Enroller(server.url, plans)
        enroller.start()
        assert enroller.enough.wait(START_DEADLINE), server.text()
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(30)
        enroller.join()

    acknowledged = list(enroller.acknowledged)
    assert enroller.errors == []
    assert KILL_AFTER_ACKNOWLEDGED <= len(acknowledged) < len(sent)

    with _server(db) as server, _client(server.url) as client:
        for enrolment in acknowledged:
            user = _call(client, "getUser", {"uid": enrolment.uid})
            assert user["result"]["groups"] == sorted(enrolment.groups)
            scores = _call(
                client,
                "verifyUser",
                {"uid": enrolment.uid, "image": enrolment.images[0], "top_num": 5},
            )
            assert scores["result_num"] == len(enrolment.images)
            assert scores["result"][0] > 99
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) in (0, -signal.SIGTERM)

    # A clean close checkpoints the write-ahead log into the file and removes it.
    assert not db.with_name(db.name + "-wal").exists()

    # The file itself, read after a clean shutdown: nothing half-written.
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        users = [uid for (uid,) in conn.execute("SELECT uid FROM users")]
        faces = dict(conn.execute("SELECT uid, COUNT(*) FROM faces GROUP BY uid"))
        memberships: dict[str, set[str]] = {}
        for uid, group_id in conn.execute("SELECT uid, group_id FROM memberships"):
            memberships.setdefault(uid, set()).add(group_id)
    conn.close()

    assert {e.uid for e in acknowledged} <= set(users) <= set(sent)
    for uid in users:
        assert faces.get(uid) == len(sent[uid].images), uid
        assert memberships.get(uid) == set(sent[uid].groups), uid
