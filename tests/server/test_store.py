"""Tests of the face library (facekit/server/store.py).

Embeddings are random unit vectors from seeded generators; a digest is the
SHA-256 of the vector's bytes, standing in for the image's.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from facekit.server.errors import ApiError
from facekit.server.store import (
    EMBEDDING_DIM,
    MAX_FACES_PER_USER,
    SCHEMA_VERSION,
    FaceRecord,
    FaceStore,
    Match,
)

SEED = 20240917
PROJECT_ROOT = Path(__file__).resolve().parents[2]
Vectors = npt.NDArray[np.float32]


# -- helpers ---------------------------------------------------------------


def unit_vectors(rng: np.random.Generator, count: int) -> Vectors:
    vectors = rng.standard_normal((count, EMBEDDING_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def with_cosine(rng: np.random.Generator, query: Vectors, cosine: float) -> Vectors:
    """A unit vector whose cosine with ``query`` is ``cosine``."""
    other = rng.standard_normal(EMBEDDING_DIM)
    other -= other.dot(query) * query
    other /= np.linalg.norm(other)
    vector = cosine * query + np.sqrt(1.0 - cosine**2) * other
    unit: Vectors = (vector / np.linalg.norm(vector)).astype(np.float32)
    return unit


def face(vector: Vectors) -> FaceRecord:
    return FaceRecord(hashlib.sha256(vector.tobytes()).hexdigest(), vector)


def random_faces(rng: np.random.Generator, count: int) -> list[FaceRecord]:
    return [face(vector) for vector in unit_vectors(rng, count)]


@contextmanager
def api_error(code: int) -> Iterator[None]:
    with pytest.raises(ApiError) as caught:
        yield
    assert caught.value.error_code == code, caught.value


def snapshot(store: FaceStore) -> tuple[Any, ...]:
    """Everything observable about a store, for before/after comparisons."""
    groups = store.list_groups(0, 10_000)
    members = {g: store.group_users(g, 0, 10_000) for g in groups}
    uids = sorted({uid for users in members.values() for uid, _ in users})
    users = [store.get_user(uid) for uid in uids]
    return store._index_state(), store.face_count(), groups, members, users


def check_tables(path: Path) -> None:
    """The invariants of the schema, read from the file behind the store."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert (
            conn.execute(
                "SELECT uid FROM users WHERE uid NOT IN (SELECT uid FROM memberships)"
            ).fetchall()
            == []
        ), "a user without a group"
        counts = conn.execute(
            "SELECT users.uid, COUNT(face_id) FROM users"
            " LEFT JOIN faces ON faces.uid = users.uid GROUP BY users.uid"
        ).fetchall()
        assert all(1 <= n <= MAX_FACES_PER_USER for _, n in counts), counts
        groups = {g for (g,) in conn.execute("SELECT group_id FROM groups")}
        used = {g for (g,) in conn.execute("SELECT group_id FROM memberships")}
        assert groups == used, "a group row without members, or the reverse"
    finally:
        conn.close()


class FailingConnection:
    """Forwards to a real connection, but fails every statement matching."""

    def __init__(
        self, conn: sqlite3.Connection, marker: str, failure: Callable[[], None]
    ) -> None:
        self._conn = conn
        self._marker = marker
        self._failure = failure

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self._marker in sql:
            self._failure()
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self._marker in sql:
            self._failure()
        return self._conn.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def simulated_crash() -> None:
    raise RuntimeError("simulated crash")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "faces.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[FaceStore]:
    with FaceStore(db_path) as opened:
        yield opened


# -- opening ---------------------------------------------------------------


def test_a_new_file_gets_the_schema_wal_and_full_sync(store: FaceStore) -> None:
    conn = store._conn
    assert conn is not None
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)


def test_an_in_memory_store_works(rng: np.random.Generator) -> None:
    with FaceStore(":memory:") as store:
        store.add_user("u1", "info", ["g1"], random_faces(rng, 2))
        assert store.face_count() == 2
        assert store.get_user("u1").groups == ["g1"]


def test_an_in_memory_store_cannot_be_read_only() -> None:
    with pytest.raises(ValueError):
        FaceStore(":memory:", readonly=True)


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    FaceStore(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with api_error(216300):
        FaceStore(db_path)


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.write_bytes(b"certainly not sqlite" * 100)

    with api_error(216300):
        FaceStore(db_path)


def test_a_database_with_foreign_tables_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()

    with api_error(216300):
        FaceStore(db_path)


def test_a_closed_store_answers_db_error(store: FaceStore) -> None:
    store.close()
    store.close()

    with api_error(216300):
        store.face_count()


def test_a_user_holds_at_most_five_faces_as_the_guide_says() -> None:
    # The reference guide: "每个用户（uid）所能注册的最大人脸数量为5张"; the
    # store reads the number from the spec.
    assert MAX_FACES_PER_USER == 5


# -- face records ----------------------------------------------------------


@pytest.mark.parametrize("digest", ["", "ab" * 31, "AB" * 32, "g" * 64, "a" * 65])
def test_a_face_needs_a_sha256_hex_digest(
    digest: str, rng: np.random.Generator
) -> None:
    with pytest.raises(ValueError):
        FaceRecord(digest, unit_vectors(rng, 1)[0])


@pytest.mark.parametrize(
    "embedding",
    [
        np.ones(EMBEDDING_DIM, np.float32),  # not normalised
        np.full(EMBEDDING_DIM, np.nan, np.float32),
        np.eye(1, EMBEDDING_DIM + 1, dtype=np.float32)[0],
        np.eye(2, EMBEDDING_DIM, dtype=np.float32),
    ],
)
def test_a_face_needs_a_unit_embedding_of_the_right_size(
    embedding: Vectors,
) -> None:
    with pytest.raises(ValueError):
        FaceRecord("0" * 64, embedding)


def test_a_face_keeps_its_own_copy_of_the_embedding(rng: np.random.Generator) -> None:
    vector = unit_vectors(rng, 1)[0]
    record = FaceRecord("0" * 64, vector)
    vector[:] = 0.0

    assert np.linalg.norm(record.embedding) == pytest.approx(1.0, abs=1e-6)
    assert record.embedding.dtype == np.float32
    assert not record.embedding.flags.writeable


def test_a_query_must_be_a_unit_vector(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "", ["g1"], random_faces(rng, 1))

    with pytest.raises(ValueError):
        store.verify("u1", np.ones(EMBEDDING_DIM, np.float32), 1)
    with pytest.raises(ValueError):
        store.identify(["g1"], np.zeros(EMBEDDING_DIM, np.float32), 1, 1)


# -- add_user --------------------------------------------------------------


def test_add_user_creates_the_user_in_every_group(
    store: FaceStore, rng: np.random.Generator
) -> None:
    faces = random_faces(rng, 2)

    store.add_user("u1", "first user", ["g2", "g1", "g2"], faces)

    user = store.get_user("u1")
    assert (user.uid, user.user_info, user.groups) == ("u1", "first user", ["g1", "g2"])
    assert store.face_count() == 2
    assert store.has_digest("u1", faces[0].digest)
    assert not store.has_digest("u2", faces[0].digest)
    assert store.list_groups(0, 10) == ["g1", "g2"]


def test_add_user_appends_faces_and_joins_groups_of_an_existing_user(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "old", ["g1"], random_faces(rng, 2))

    store.add_user("u1", "new", ["g2"], random_faces(rng, 3))

    assert store.get_user("u1").user_info == "new"
    assert store.get_user("u1").groups == ["g1", "g2"]
    assert store.face_count() == MAX_FACES_PER_USER


def test_add_user_without_faces_is_not_enough_images(store: FaceStore) -> None:
    with api_error(216614):
        store.add_user("u1", "", ["g1"], [])

    assert store.face_count() == 0
    assert store.list_groups(0, 10) == []


def test_add_user_without_groups_is_an_invalid_param(
    store: FaceStore, rng: np.random.Generator
) -> None:
    with api_error(216100):
        store.add_user("u1", "", [], random_faces(rng, 1))

    with api_error(216612):
        store.get_user("u1")


def test_add_user_with_a_digest_twice_in_one_call_writes_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    one = random_faces(rng, 1)[0]

    with api_error(216616):
        store.add_user("u1", "", ["g1"], [one, one])

    with api_error(216612):
        store.get_user("u1")
    assert store.face_count() == 0


def test_add_user_with_a_digest_the_user_holds_writes_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    held = random_faces(rng, 2)
    store.add_user("u1", "kept", ["g1"], held)
    before = snapshot(store)

    with api_error(216616):
        store.add_user("u1", "changed", ["g2"], [*random_faces(rng, 1), held[1]])

    assert snapshot(store) == before


def test_another_user_may_hold_the_same_digest(
    store: FaceStore, rng: np.random.Generator
) -> None:
    shared = random_faces(rng, 1)
    store.add_user("u1", "", ["g1"], shared)

    store.add_user("u2", "", ["g1"], shared)

    assert store.face_count() == 2


def test_add_user_beyond_five_faces_writes_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    with api_error(216617):
        store.add_user("u1", "", ["g1"], random_faces(rng, MAX_FACES_PER_USER + 1))
    with api_error(216612):
        store.get_user("u1")

    store.add_user("u2", "kept", ["g1"], random_faces(rng, 3))
    before = snapshot(store)
    with api_error(216617):
        store.add_user("u2", "changed", ["g2"], random_faces(rng, 3))
    assert snapshot(store) == before


# -- update_user -----------------------------------------------------------


def test_update_user_replaces_every_face(
    store: FaceStore, rng: np.random.Generator
) -> None:
    old, new = random_faces(rng, 3), random_faces(rng, 2)
    store.add_user("u1", "info", ["g1"], old)

    store.update_user("u1", new)

    assert store.face_count() == 2
    assert not store.has_digest("u1", old[0].digest)
    assert store.has_digest("u1", new[0].digest)
    assert store.get_user("u1").user_info == "info"
    assert store.verify("u1", old[0].embedding, 1)[0] < 0.5
    assert store.verify("u1", new[1].embedding, 1)[0] == pytest.approx(1.0, abs=1e-5)


def test_update_user_may_reuse_a_digest_it_replaces(
    store: FaceStore, rng: np.random.Generator
) -> None:
    faces = random_faces(rng, 2)
    store.add_user("u1", "", ["g1"], faces)

    store.update_user("u1", faces[:1], user_info="changed")

    assert store.face_count() == 1
    assert store.get_user("u1").user_info == "changed"


def test_update_user_refusals_write_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "kept", ["g1"], random_faces(rng, 2))
    before = snapshot(store)
    one = random_faces(rng, 1)[0]

    with api_error(216612):
        store.update_user("nobody", [one])
    with api_error(216614):
        store.update_user("u1", [])
    with api_error(216616):
        store.update_user("u1", [one, one])
    with api_error(216617):
        store.update_user("u1", random_faces(rng, MAX_FACES_PER_USER + 1))
    with api_error(216612):
        store.update_user("u1", [one], user_info="changed", group_ids=["g2"])
    with api_error(216100):
        store.update_user("u1", [one], group_ids=[])

    assert snapshot(store) == before


def test_update_user_restricted_to_a_group_of_the_user(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "", ["g1", "g2"], random_faces(rng, 1))

    store.update_user("u1", random_faces(rng, 1), group_ids=["g3", "g2"])

    assert store.get_user("u1").groups == ["g1", "g2"]


# -- delete_user -----------------------------------------------------------


def test_delete_user_removes_faces_memberships_and_emptied_groups(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "", ["g1", "only_u1"], random_faces(rng, 3))
    store.add_user("u2", "", ["g1"], random_faces(rng, 1))

    store.delete_user("u1")

    with api_error(216612):
        store.get_user("u1")
    assert store.face_count() == 1
    assert store.list_groups(0, 10) == ["g1"]
    assert store.group_users("g1", 0, 10) == [("u2", "")]
    assert [m.uid for m in store.identify(["g1"], unit_vectors(rng, 1)[0], 5, 1)] == [
        "u2"
    ]
    with api_error(216612):
        store.verify("u1", unit_vectors(rng, 1)[0], 1)


def test_delete_user_of_an_unknown_uid(store: FaceStore) -> None:
    with api_error(216612):
        store.delete_user("nobody")


# -- groups ----------------------------------------------------------------


def test_list_groups_pages_in_group_id_order(
    store: FaceStore, rng: np.random.Generator
) -> None:
    names = ["g3", "g1", "g5", "g2", "g4"]
    for i, name in enumerate(names):
        store.add_user(f"u{i}", "", [name], random_faces(rng, 1))

    assert store.list_groups(0, 2) == ["g1", "g2"]
    assert store.list_groups(2, 2) == ["g3", "g4"]
    assert store.list_groups(4, 2) == ["g5"]
    assert store.list_groups(5, 2) == []
    assert store.list_groups(0, 0) == []
    with api_error(216100):
        store.list_groups(-1, 2)
    with api_error(216100):
        store.list_groups(0, -1)


def test_group_users_pages_in_uid_order(
    store: FaceStore, rng: np.random.Generator
) -> None:
    for uid in ["c", "a", "d", "b"]:
        store.add_user(uid, f"info {uid}", ["g1"], random_faces(rng, 1))
    store.add_user("e", "", ["g2"], random_faces(rng, 1))

    assert store.group_users("g1", 0, 3) == [
        ("a", "info a"),
        ("b", "info b"),
        ("c", "info c"),
    ]
    assert store.group_users("g1", 3, 3) == [("d", "info d")]
    assert store.group_users("unknown", 0, 10) == []
    with api_error(216100):
        store.group_users("g1", -1, 1)


def test_add_group_user(store: FaceStore, rng: np.random.Generator) -> None:
    store.add_user("u1", "", ["g1"], random_faces(rng, 1))

    store.add_group_user(["g2", "g3"], "u1")
    assert store.get_user("u1").groups == ["g1", "g2", "g3"]

    # Some of the groups are new: the user joins those.
    store.add_group_user(["g1", "g4"], "u1", src_group_id="g2")
    assert store.get_user("u1").groups == ["g1", "g2", "g3", "g4"]


def test_add_group_user_refusals_write_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "", ["g1", "g2"], random_faces(rng, 1))
    before = snapshot(store)

    with api_error(216612):
        store.add_group_user(["g3"], "nobody")
    with api_error(216100):
        store.add_group_user(["g1", "g2"], "u1")
    with api_error(216100):
        store.add_group_user(["g3"], "u1", src_group_id="g9")
    with api_error(216100):
        store.add_group_user([], "u1")

    assert snapshot(store) == before


def test_delete_group_user(store: FaceStore, rng: np.random.Generator) -> None:
    store.add_user("u1", "", ["g1", "g2"], random_faces(rng, 1))
    store.add_user("u2", "", ["g1"], random_faces(rng, 1))

    store.delete_group_user("g2", "u1")

    assert store.get_user("u1").groups == ["g1"]
    assert store.list_groups(0, 10) == ["g1"]
    with api_error(216618):
        store.identify(["g2"], unit_vectors(rng, 1)[0], 1, 1)


def test_delete_group_user_refusals_write_nothing(
    store: FaceStore, rng: np.random.Generator
) -> None:
    store.add_user("u1", "", ["g1"], random_faces(rng, 1))
    store.add_user("u2", "", ["g2"], random_faces(rng, 1))
    before = snapshot(store)

    with api_error(216612):
        store.delete_group_user("g1", "nobody")
    with api_error(216613):
        store.delete_group_user("g2", "u1")
    with api_error(216619):
        store.delete_group_user("g1", "u1")

    assert snapshot(store) == before


# -- verify and identify ---------------------------------------------------


def test_verify_returns_the_top_cosines_descending(
    store: FaceStore, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    vectors = [with_cosine(rng, query, c) for c in (0.2, 0.9, 0.5)]
    store.add_user("u1", "", ["g1"], [face(v) for v in vectors])

    assert store.verify("u1", query, 2) == pytest.approx([0.9, 0.5], abs=1e-5)
    assert store.verify("u1", query, 10) == pytest.approx([0.9, 0.5, 0.2], abs=1e-5)
    with api_error(216612):
        store.verify("nobody", query, 1)
    with api_error(216100):
        store.verify("u1", query, 0)


def test_identify_ranks_users_by_their_best_face(
    store: FaceStore, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    store.add_user(
        "alice",
        "Alice",
        ["staff"],
        [face(with_cosine(rng, query, c)) for c in (0.3, 0.99, 0.7)],
    )
    store.add_user("bob", "Bob", ["staff"], [face(with_cosine(rng, query, 0.9))])
    store.add_user(
        "carol",
        "Carol",
        ["staff", "guests"],
        [face(with_cosine(rng, query, c)) for c in (0.8, 0.1)],
    )
    # The best match of all, but in another group.
    store.add_user("dave", "Dave", ["guests"], [face(with_cosine(rng, query, 0.995))])
    for i in range(30):
        store.add_user(f"noise_{i:02}", "", ["staff"], random_faces(rng, 2))

    matches = store.identify(["staff"], query, 3, 2)

    assert [(m.uid, m.user_info) for m in matches] == [
        ("alice", "Alice"),
        ("bob", "Bob"),
        ("carol", "Carol"),
    ]
    assert matches[0].scores == pytest.approx([0.99, 0.7], abs=1e-5)
    assert matches[1].scores == pytest.approx([0.9], abs=1e-5)
    assert matches[2].scores == pytest.approx([0.8, 0.1], abs=1e-5)

    both = store.identify(["staff", "guests", "nobody"], query, 4, 1)
    assert [m.uid for m in both] == ["dave", "alice", "bob", "carol"]
    assert len(store.identify(["staff"], query, 1000, 1)) == 33


def test_identify_breaks_ties_by_uid(
    store: FaceStore, rng: np.random.Generator
) -> None:
    shared = random_faces(rng, 1)
    for uid in ["u3", "u1", "u2"]:
        store.add_user(uid, "", ["g1"], shared)

    matches = store.identify(["g1"], shared[0].embedding, 2, 1)

    assert [m.uid for m in matches] == ["u1", "u2"]


def test_identify_of_groups_without_users(
    store: FaceStore, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    with api_error(216618):
        store.identify(["g1"], query, 1, 1)

    store.add_user("u1", "", ["g1"], random_faces(rng, 1))
    with api_error(216618):
        store.identify(["g2", "g3"], query, 1, 1)
    with api_error(216100):
        store.identify([], query, 1, 1)
    with api_error(216100):
        store.identify(["g1"], query, 0, 1)
    with api_error(216100):
        store.identify(["g1"], query, 1, 0)


def test_search_follows_every_kind_of_write(
    store: FaceStore, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    near = face(with_cosine(rng, query, 0.95))
    store.add_user("u1", "", ["g1"], random_faces(rng, 1))
    store.add_user("u2", "", ["g1"], random_faces(rng, 1))
    assert store.identify(["g1"], query, 1, 1)[0].scores[0] < 0.5

    store.add_user("u2", "", ["g1"], [near])
    assert store.identify(["g1"], query, 1, 1)[0].uid == "u2"

    store.update_user("u2", random_faces(rng, 1))
    assert store.identify(["g1"], query, 1, 1)[0].scores[0] < 0.5

    store.update_user("u1", [near])
    assert store.identify(["g1"], query, 1, 1)[0].uid == "u1"
    with api_error(216618):
        store.identify(["g2"], query, 1, 1)

    store.add_group_user(["g2"], "u1")
    assert [m.uid for m in store.identify(["g2"], query, 5, 1)] == ["u1"]

    store.delete_group_user("g1", "u1")
    assert [m.uid for m in store.identify(["g1"], query, 5, 1)] == ["u2"]

    store.delete_user("u1")
    with api_error(216618):
        store.identify(["g2"], query, 1, 1)


# -- persistence -----------------------------------------------------------


def populate(store: FaceStore, rng: np.random.Generator, users: int) -> None:
    for i in range(users):
        groups = [f"g{i % 3}"] + (["all"] if i % 2 else [])
        count = int(rng.integers(1, MAX_FACES_PER_USER + 1))
        store.add_user(f"u{i:03}", f"info {i}", groups, random_faces(rng, count))


def search_results(
    store: FaceStore, queries: Vectors
) -> list[list[tuple[str, str, list[float]]]]:
    results = []
    for query in queries:
        for groups in (["g0"], ["g1", "all"], ["g0", "g1", "g2"]):
            found: list[Match] = store.identify(groups, query, 10, 3)
            results.append([(m.uid, m.user_info, m.scores) for m in found])
    return results


def assert_same_results(
    got: list[list[tuple[str, str, list[float]]]],
    want: list[list[tuple[str, str, list[float]]]],
) -> None:
    # Exact: a face scores the same bits wherever its row sits in the index.
    assert got == want


def test_a_reopened_store_answers_the_same(
    db_path: Path, rng: np.random.Generator
) -> None:
    queries = unit_vectors(rng, 4)
    with FaceStore(db_path) as store:
        populate(store, rng, 60)
        store.delete_user("u007")
        store.update_user("u008", random_faces(rng, 2))
        store.delete_group_user("g1", "u001")
        # Planted near-duplicates of the queries, so the top matters.
        for i, query in enumerate(queries):
            store.add_user(
                f"near{i}", "", ["g0", "all"], [face(with_cosine(rng, query, 0.97))]
            )
        before = snapshot(store)
        results = search_results(store, queries)

    with FaceStore(db_path) as reopened:
        assert snapshot(reopened) == before
        assert_same_results(search_results(reopened, queries), results)
    check_tables(db_path)


def test_a_write_by_another_connection_reaches_the_index(
    db_path: Path, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    with FaceStore(db_path) as writer, FaceStore(db_path) as reader:
        writer.add_user("u1", "", ["g1"], [face(with_cosine(rng, query, 0.9))])

        assert reader.identify(["g1"], query, 1, 1)[0].uid == "u1"
        assert reader.verify("u1", query, 1) == pytest.approx([0.9], abs=1e-5)

        writer.delete_user("u1")
        with api_error(216618):
            reader.identify(["g1"], query, 1, 1)


# -- failures --------------------------------------------------------------


def test_a_read_only_file_refuses_every_write_and_keeps_the_data(
    db_path: Path, rng: np.random.Generator
) -> None:
    query = unit_vectors(rng, 1)[0]
    with FaceStore(db_path) as store:
        populate(store, rng, 5)
        before = snapshot(store)
    # As root a chmod stops nobody, so the store is also opened with
    # SQLite's mode=ro, which refuses writes whoever runs the tests.
    os.chmod(db_path, 0o444)
    try:
        with FaceStore(db_path, readonly=True) as store:
            assert snapshot(store) == before
            one = random_faces(rng, 1)

            with api_error(216300):
                store.add_user("new", "", ["g0"], one)
            with api_error(216300):
                store.add_user("u001", "", ["g0"], one)
            with api_error(216300):
                store.update_user("u001", one)
            with api_error(216300):
                store.delete_user("u001")
            with api_error(216300):
                store.add_group_user(["g9"], "u001")
            with api_error(216300):
                store.delete_group_user("all", "u001")

            assert snapshot(store) == before
            assert store.identify(["all"], query, 3, 1)
    finally:
        os.chmod(db_path, 0o644)

    with FaceStore(db_path) as store:
        assert snapshot(store) == before
    check_tables(db_path)


def test_a_read_only_empty_file_cannot_get_a_schema(db_path: Path) -> None:
    sqlite3.connect(db_path).close()

    with api_error(216300):
        FaceStore(db_path, readonly=True)


def test_a_full_disk_refuses_the_write_and_keeps_the_data(
    db_path: Path, rng: np.random.Generator
) -> None:
    with FaceStore(db_path) as store:
        populate(store, rng, 3)
        before = snapshot(store)
        conn = store._conn
        assert conn is not None
        # max_page_count makes SQLite hit SQLITE_FULL exactly as a full disk
        # would, without filling one.
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages}")
        big = "x" * 200_000

        with api_error(216300):
            store.add_user("new", big, ["g0"], random_faces(rng, 1))
        with api_error(216300):
            store.update_user("u001", random_faces(rng, 1), user_info=big)

        assert snapshot(store) == before
        conn.execute("PRAGMA max_page_count = 1073741823")
        store.add_user("new", big, ["g0"], random_faces(rng, 1))
        assert store.get_user("new").user_info == big
    check_tables(db_path)


def test_a_lock_held_too_long_by_another_process_is_a_db_error(
    db_path: Path, rng: np.random.Generator
) -> None:
    with FaceStore(db_path, busy_timeout=0.05) as store:
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with api_error(216300):
                store.add_user("u1", "", ["g1"], random_faces(rng, 1))
        finally:
            other.execute("ROLLBACK")
            other.close()

        store.add_user("u1", "", ["g1"], random_faces(rng, 1))
        assert store.face_count() == 1


@pytest.mark.parametrize(
    "marker",
    [
        "INSERT OR IGNORE INTO groups",
        "INSERT OR IGNORE INTO memberships",
        "INSERT INTO faces",
        "COMMIT",
    ],
)
def test_a_crash_inside_add_user_leaves_nothing_behind(
    db_path: Path,
    rng: np.random.Generator,
    monkeypatch: pytest.MonkeyPatch,
    marker: str,
) -> None:
    with FaceStore(db_path) as store:
        store.add_user("old", "kept", ["g1"], random_faces(rng, 1))
        before = snapshot(store)
        assert store._conn is not None
        monkeypatch.setattr(
            store, "_conn", FailingConnection(store._conn, marker, simulated_crash)
        )

        with pytest.raises(RuntimeError, match="simulated crash"):
            store.add_user("new", "", ["g1", "g2"], random_faces(rng, 3))
        with pytest.raises(RuntimeError, match="simulated crash"):
            store.add_user("old", "changed", ["g3"], random_faces(rng, 1))

        monkeypatch.undo()
        assert snapshot(store) == before
        store.add_user("new", "", ["g1"], random_faces(rng, 1))
    check_tables(db_path)


def test_a_crash_inside_update_user_keeps_the_old_faces(
    db_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FaceStore(db_path) as store:
        store.add_user("u1", "kept", ["g1"], random_faces(rng, 2))
        before = snapshot(store)
        assert store._conn is not None
        monkeypatch.setattr(
            store,
            "_conn",
            FailingConnection(store._conn, "INSERT INTO faces", simulated_crash),
        )

        with pytest.raises(RuntimeError, match="simulated crash"):
            store.update_user("u1", random_faces(rng, 1), user_info="changed")

        monkeypatch.undo()
        assert snapshot(store) == before


def test_an_index_failure_after_the_commit_rebuilds_the_index(
    store: FaceStore, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = unit_vectors(rng, 1)[0]
    store.add_user("u0", "", ["g1"], random_faces(rng, 1))

    def out_of_memory(*args: object) -> None:
        raise MemoryError("simulated")

    monkeypatch.setattr(store._index, "set_user", out_of_memory)
    with pytest.raises(MemoryError):
        store.add_user("u1", "", ["g1"], [face(with_cosine(rng, query, 0.9))])
    monkeypatch.undo()

    # The commit stands, and the next search sees it.
    assert store.get_user("u1").groups == ["g1"]
    assert store.identify(["g1"], query, 1, 1)[0].uid == "u1"


KILLED_CHILD = textwrap.dedent(
    """
    import hashlib, os, signal, sys

    import numpy as np

    from facekit.server.store import FaceRecord, FaceStore

    def face(seed):
        vector = np.random.default_rng(seed).standard_normal(128).astype(np.float32)
        vector /= np.linalg.norm(vector)
        return FaceRecord(hashlib.sha256(vector.tobytes()).hexdigest(), vector)

    class Killing:
        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, *args):
            return self._conn.execute(sql, *args)

        def executemany(self, sql, *args):
            if sql.startswith("INSERT INTO faces"):
                os.kill(os.getpid(), signal.SIGKILL)
            return self._conn.executemany(sql, *args)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    store = FaceStore(sys.argv[1])
    store.add_user("kept", "acknowledged", ["g1"], [face(1), face(2)])
    print("acknowledged", flush=True)
    store._conn = Killing(store._conn)
    store.add_user("lost", "half written", ["g1", "g2"], [face(3)])
    """
)


def test_sigkill_keeps_acknowledged_writes_and_drops_half_written_ones(
    db_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, str(db_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )

    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout == "acknowledged\n"
    assert db_path.with_name(db_path.name + "-wal").exists()
    with FaceStore(db_path) as store:
        assert store.get_user("kept").user_info == "acknowledged"
        assert store.face_count() == 2
        assert store.list_groups(0, 10) == ["g1"]
        with api_error(216612):
            store.get_user("lost")
    check_tables(db_path)


# -- threads ---------------------------------------------------------------


def test_concurrent_writers_leave_a_consistent_store(db_path: Path) -> None:
    uids = [f"user_{i}" for i in range(6)]
    groups = [f"group_{i}" for i in range(4)]
    pool = random_faces(np.random.default_rng(SEED), 40)
    threads_count, ops_per_thread = 8, 60
    barrier = threading.Barrier(threads_count)
    failures: list[BaseException] = []
    successes = [0] * threads_count
    store = FaceStore(db_path)

    def work(worker: int) -> None:
        rng = np.random.default_rng(SEED + worker)
        barrier.wait()
        for _ in range(ops_per_thread):
            uid = uids[int(rng.integers(len(uids)))]
            group_pick = [groups[int(i)] for i in rng.choice(len(groups), 2)]
            faces = [pool[int(i)] for i in rng.choice(len(pool), 2, replace=False)]
            operation = int(rng.integers(7))
            try:
                if operation <= 1:
                    store.add_user(uid, f"by {worker}", group_pick, faces)
                elif operation == 2:
                    store.add_group_user(group_pick, uid)
                elif operation == 3:
                    store.delete_group_user(group_pick[0], uid)
                elif operation == 4:
                    store.update_user(uid, faces[:1])
                elif operation == 5:
                    store.identify(group_pick, faces[0].embedding, 3, 2)
                elif rng.integers(4) == 0:
                    store.delete_user(uid)
                else:
                    store.verify(uid, faces[0].embedding, 2)
                successes[worker] += 1
            except ApiError:
                pass
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sum(successes) > threads_count * ops_per_thread // 4
    live = snapshot(store)
    live_results = search_results_over(store, groups, pool)
    store.close()
    with FaceStore(db_path) as reopened:
        assert snapshot(reopened) == live
        assert_same_results(search_results_over(reopened, groups, pool), live_results)
    check_tables(db_path)


def search_results_over(
    store: FaceStore, groups: list[str], pool: list[FaceRecord]
) -> list[list[tuple[str, str, list[float]]]]:
    results = []
    for record in pool[:5]:
        for group_id in groups:
            try:
                found = store.identify([group_id], record.embedding, 10, 5)
            except ApiError as exc:
                assert exc.error_code == 216618
                found = []
            results.append([(m.uid, m.user_info, m.scores) for m in found])
    return results


# -- against a model -------------------------------------------------------

MODEL_POOL = random_faces(np.random.default_rng(SEED + 1), 10)
MODEL_QUERIES = [
    MODEL_POOL[0].embedding,
    *unit_vectors(np.random.default_rng(SEED + 2), 2),
]
MODEL_UIDS = ["u0", "u1", "u2", "u3"]
MODEL_GROUPS = ["g0", "g1", "g2"]

uids_st = st.sampled_from(MODEL_UIDS)
group_st = st.sampled_from(MODEL_GROUPS)
# Each strategy mixes mostly valid arguments, so that the success paths run
# often, with anything at all, so that every refusal runs too.
groups_st = st.lists(group_st, min_size=1, max_size=2) | st.lists(group_st, max_size=3)
pick_st = st.integers(0, len(MODEL_POOL) - 1)
picks_st = st.lists(pick_st, min_size=1, max_size=2, unique=True) | st.lists(
    pick_st, max_size=MAX_FACES_PER_USER + 2
)
info_st = st.sampled_from(["", "info a", "信息 b"])


@dataclass
class ModelUser:
    user_info: str
    groups: set[str]
    faces: list[int] = field(default_factory=list)


class StoreAgainstModel(RuleBasedStateMachine):
    """The store next to a dict that obviously does what the API says."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.path = Path(self.directory.name) / "faces.db"
        self.store = FaceStore(self.path)
        self.users: dict[str, ModelUser] = {}

    def teardown(self) -> None:
        self.store.close()
        self.directory.cleanup()

    @initialize()
    def enrol_two_users(self) -> None:
        self.add_user("u0", "info a", ["g0"], [0])
        self.add_user("u1", "", ["g0", "g1"], [1, 2])

    def attempt(self, code: int | None, call: Callable[[], None]) -> None:
        if code is None:
            call()
        else:
            with api_error(code):
                call()

    @staticmethod
    def faces_code(picks: list[int]) -> int | None:
        if not picks:
            return 216614
        if len(set(picks)) != len(picks):
            return 216616
        if len(picks) > MAX_FACES_PER_USER:
            return 216617
        return None

    @rule(uid=uids_st, info=info_st, groups=groups_st, picks=picks_st)
    def add_user(
        self, uid: str, info: str, groups: list[str], picks: list[int]
    ) -> None:
        user = self.users.get(uid)
        code = self.faces_code(picks)
        if code is None and not groups:
            code = 216100
        if code is None and user is not None:
            if set(user.faces) & set(picks):
                code = 216616
            elif len(user.faces) + len(picks) > MAX_FACES_PER_USER:
                code = 216617

        self.attempt(
            code,
            lambda: self.store.add_user(
                uid, info, groups, [MODEL_POOL[i] for i in picks]
            ),
        )

        if code is None:
            user = self.users.setdefault(uid, ModelUser(info, set()))
            user.user_info = info
            user.groups |= set(groups)
            user.faces += picks

    @rule(
        uid=uids_st,
        picks=picks_st,
        info=st.none() | info_st,
        groups=st.none() | groups_st,
    )
    def update_user(
        self, uid: str, picks: list[int], info: str | None, groups: list[str] | None
    ) -> None:
        user = self.users.get(uid)
        code = self.faces_code(picks)
        if code is None and groups is not None and not groups:
            code = 216100
        if code is None and (
            user is None or (groups is not None and not user.groups & set(groups))
        ):
            code = 216612

        self.attempt(
            code,
            lambda: self.store.update_user(
                uid, [MODEL_POOL[i] for i in picks], user_info=info, group_ids=groups
            ),
        )

        if code is None:
            assert user is not None
            user.faces = list(picks)
            if info is not None:
                user.user_info = info

    @rule(uid=uids_st)
    def delete_user(self, uid: str) -> None:
        code = None if uid in self.users else 216612

        self.attempt(code, lambda: self.store.delete_user(uid))

        self.users.pop(uid, None)

    @rule(uid=uids_st, groups=groups_st, source=st.none() | group_st)
    def add_group_user(self, uid: str, groups: list[str], source: str | None) -> None:
        user = self.users.get(uid)
        not_in_source = (
            user is not None and source is not None and source not in user.groups
        )
        if not groups:
            code: int | None = 216100
        elif user is None:
            code = 216612
        elif not_in_source or set(groups) <= user.groups:
            code = 216100
        else:
            code = None

        self.attempt(code, lambda: self.store.add_group_user(groups, uid, source))

        if code is None:
            assert user is not None
            user.groups |= set(groups)

    @rule(uid=uids_st, group_id=group_st)
    def delete_group_user(self, uid: str, group_id: str) -> None:
        user = self.users.get(uid)
        if user is None:
            code: int | None = 216612
        elif group_id not in user.groups:
            code = 216613
        elif len(user.groups) == 1:
            code = 216619
        else:
            code = None

        self.attempt(code, lambda: self.store.delete_group_user(group_id, uid))

        if code is None:
            assert user is not None
            user.groups.discard(group_id)

    @rule()
    def reopen(self) -> None:
        before = snapshot(self.store)
        self.store.close()
        self.store = FaceStore(self.path)
        assert snapshot(self.store) == before

    @invariant()
    def reads_match(self) -> None:
        for uid in MODEL_UIDS:
            user = self.users.get(uid)
            if user is None:
                with api_error(216612):
                    self.store.get_user(uid)
                continue
            got = self.store.get_user(uid)
            assert (got.user_info, got.groups) == (user.user_info, sorted(user.groups))
            for i, record in enumerate(MODEL_POOL):
                assert self.store.has_digest(uid, record.digest) == (i in user.faces)

        groups = sorted(set().union(*(u.groups for u in self.users.values())))
        assert self.store.list_groups(0, 100) == groups
        assert self.store.list_groups(1, 1) == groups[1:2]
        for group_id in MODEL_GROUPS:
            members = sorted(
                (uid, u.user_info)
                for uid, u in self.users.items()
                if group_id in u.groups
            )
            assert self.store.group_users(group_id, 0, 100) == members
        assert self.store.face_count() == sum(len(u.faces) for u in self.users.values())

    @invariant()
    def searches_match(self) -> None:
        for query in MODEL_QUERIES:
            cosines = {
                uid: sorted(
                    (float(MODEL_POOL[i].embedding @ query) for i in user.faces),
                    reverse=True,
                )
                for uid, user in self.users.items()
            }
            for uid, want in cosines.items():
                assert self.store.verify(uid, query, 2) == pytest.approx(
                    want[:2], abs=1e-5
                )
            for groups in ([g] for g in MODEL_GROUPS):
                self.check_identify(groups, query, cosines)
            self.check_identify(MODEL_GROUPS[:2], query, cosines)

    def check_identify(
        self, groups: list[str], query: Vectors, cosines: dict[str, list[float]]
    ) -> None:
        members = [uid for uid, u in self.users.items() if u.groups & set(groups)]
        if not members:
            with api_error(216618):
                self.store.identify(groups, query, 10, 5)
            return

        found = self.store.identify(groups, query, 10, 5)

        # Users holding the same face tie exactly and go by uid; distinct
        # pool faces are far apart, so float64 ranks them as float32 does.
        ranked = sorted(members, key=lambda uid: (-cosines[uid][0], uid))
        assert [(m.uid, m.user_info) for m in found] == [
            (uid, self.users[uid].user_info) for uid in ranked
        ]
        for match in found:
            assert match.scores == pytest.approx(cosines[match.uid], abs=1e-5)
        top = self.store.identify(groups, query, 2, 1)
        assert [(m.uid, m.scores) for m in top] == [
            (m.uid, m.scores[:1]) for m in found[:2]
        ]


def test_store_matches_a_dict_model() -> None:
    run_state_machine_as_test(
        StoreAgainstModel,
        settings=settings(max_examples=50, stateful_step_count=25, deadline=None),
    )
