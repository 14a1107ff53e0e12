"""The face library of the local server: users, groups and face embeddings.

SQLite is the truth. Every write is one ``BEGIN IMMEDIATE`` transaction, so a
crash at any point leaves either the whole change or none of it. An in-memory
:class:`_Index` mirrors the embeddings and group memberships for search; it is
rebuilt from SQLite when the store opens and changed only after a commit has
succeeded, from the state the transaction itself read back.

Choices worth knowing:

- ``synchronous=FULL`` with WAL: a killed process loses nothing with NORMAL
  either, but FULL also keeps an acknowledged write through a power cut, and
  enrolment is rare enough that one fsync per commit (well under a
  millisecond on an SSD) costs nothing that matters.
- A group exists exactly while it has a member: a trigger deletes the
  ``groups`` row with its last membership, also when a user is deleted and
  the membership goes by cascade.
- One connection behind one lock, held from ``BEGIN`` until the index has
  taken the committed change, so no call ever sees SQLite and the index
  disagree. Searches hold the lock too; that caps throughput at one search
  at a time, which a local test server can afford.
- Another process writing the same file is noticed through
  ``PRAGMA data_version`` before each search, and the index is rebuilt.

Errors are :class:`~facekit.server.errors.ApiError` with the API's codes:

- 216100 invalid param (empty group list, negative paging, ``already add``,
  a user that is not in ``src_group_id``)
- 216300 db error (any ``sqlite3.Error``: read-only file, full disk, lock
  held by another process beyond ``busy_timeout``, corrupt or newer schema)
- 216612 user not exist, 216613 user not found (not a member of the group)
- 216614 not enough images, 216616 image exist, 216617 fail to add user
  (more than :data:`MAX_FACES_PER_USER` faces), 216618 no user in group,
  216619 user must be in one group at least

Embeddings come from the engine, not from clients, so a malformed one
(wrong shape, not finite, not unit length) is a bug and raises ``ValueError``.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Final

import numpy as np
import numpy.typing as npt

from facekit import _spec
from facekit.server.errors import ApiError, api_error

__all__ = [
    "EMBEDDING_DIM",
    "MAX_FACES_PER_USER",
    "SCHEMA_VERSION",
    "FaceRecord",
    "FaceStore",
    "Match",
    "UserRecord",
]

logger = logging.getLogger(__name__)

# From the spec (x-library-rules), so the facade, the server's request checks
# and the store cannot disagree; it is 5.
MAX_FACES_PER_USER: Final[int] = _spec.library_rules()["max_faces_per_user"]
EMBEDDING_DIM: Final = 128
SCHEMA_VERSION: Final = 1

# How far from 1.0 the norm of an "L2-normalised" float32 vector may drift.
_UNIT_TOLERANCE: Final = 1e-3
_DIGEST = re.compile(r"[0-9a-f]{64}")
# Cached search views (one per set of groups searched together); small because
# the common case is one group per request.
_MAX_VIEWS: Final = 64
_LOAD_CHUNK: Final = 4096

# Statements rather than one script: executescript() would commit on its own,
# and the schema must be created in the same transaction that checks the file.
_SCHEMA: Final = (
    """
    CREATE TABLE users (
        uid TEXT PRIMARY KEY,
        user_info TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE groups (
        group_id TEXT PRIMARY KEY
    )
    """,
    """
    CREATE TABLE memberships (
        uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
        group_id TEXT NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
        PRIMARY KEY (uid, group_id)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX memberships_by_group ON memberships (group_id, uid)",
    """
    CREATE TABLE faces (
        face_id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL REFERENCES users (uid) ON DELETE CASCADE,
        digest TEXT NOT NULL,
        embedding BLOB NOT NULL,
        created REAL NOT NULL,
        UNIQUE (uid, digest)
    )
    """,
    # A group lives exactly as long as it has a member; a trigger keeps that
    # true for memberships removed by the cascade of a user's deletion too.
    """
    CREATE TRIGGER memberships_drop_empty_group AFTER DELETE ON memberships
    WHEN NOT EXISTS (SELECT 1 FROM memberships WHERE group_id = OLD.group_id)
    BEGIN
        DELETE FROM groups WHERE group_id = OLD.group_id;
    END
    """,
)

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class FaceRecord:
    """One enrolled face: the SHA-256 hex of its image and its embedding.

    ``eq=False`` because comparing numpy arrays with ``==`` has no single
    truth value. The embedding is kept as a read-only float32 copy so that the
    caller changing its array later cannot change what gets stored.
    """

    digest: str
    embedding: Vector

    def __post_init__(self) -> None:
        if not isinstance(self.digest, str) or not _DIGEST.fullmatch(self.digest):
            raise ValueError("digest must be 64 lowercase hex characters (SHA-256)")
        object.__setattr__(self, "embedding", _unit_vector(self.embedding))


@dataclass(frozen=True)
class UserRecord:
    uid: str
    user_info: str
    groups: list[str]


@dataclass(frozen=True)
class Match:
    uid: str
    user_info: str
    scores: list[float]


def _unit_vector(value: npt.ArrayLike) -> Vector:
    vector = np.array(value, dtype=np.float32, copy=True)
    if vector.shape != (EMBEDDING_DIM,):
        raise ValueError(
            f"an embedding has shape ({EMBEDDING_DIM},), not {vector.shape}"
        )
    if not np.isfinite(vector).all():
        raise ValueError("an embedding must be finite")
    norm = float(np.linalg.norm(vector))
    if abs(norm - 1.0) > _UNIT_TOLERANCE:
        raise ValueError(f"an embedding must be L2-normalised (norm is {norm:.6g})")
    vector.flags.writeable = False
    return vector


def _cosines(matrix: Vector, query: Vector) -> Vector:
    """One matrix-vector product: the cosines of unit rows with a unit query.

    einsum rather than ``matrix @ query``: BLAS gemv gives a row a result that
    moves in the last bit with the row's position and the thread split, so
    the same face could score differently, and equal faces tie differently,
    once a reload has moved the rows. einsum runs the same loop for every
    row. It is single-threaded too, which at 100k faces beat OpenBLAS's
    threads on a busy machine (about 3 ms against 4 to 10 ms).
    """
    scores: Vector = np.einsum("ij,j->i", matrix, query)
    return scores


def _group_list(group_ids: Iterable[str]) -> list[str]:
    """The group ids in order, each once; 216100 when there are none."""
    groups = list(dict.fromkeys(group_ids))
    if not groups:
        raise api_error(216100, "group_id is empty")
    return groups


def _check_faces(faces: Sequence[FaceRecord]) -> None:
    if not faces:
        raise api_error(216614)
    if len({face.digest for face in faces}) != len(faces):
        raise _image_exists()
    if len(faces) > MAX_FACES_PER_USER:
        raise _too_many_faces()


def _image_exists() -> ApiError:
    # The service's words, as in the spec's addUser example, rather than the
    # table's "image existed"; "already add" of add_group_user is the other
    # message the spec's examples give instead of the table's.
    return ApiError(216616, "image exist")


def _too_many_faces() -> ApiError:
    return api_error(216617, f"a user holds at most {MAX_FACES_PER_USER} faces")


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise api_error(216100, f"{name} must be at least 1")


def _check_paging(start: int, num: int) -> None:
    if start < 0 or num < 0:
        raise api_error(216100, "start and num must not be negative")


@dataclass(frozen=True)
class _UserState:
    """What a transaction left behind for one user, read back before commit."""

    uid: str
    groups: tuple[str, ...]
    embeddings: Vector  # (faces, EMBEDDING_DIM)


@dataclass(frozen=True)
class _View:
    """The faces of the users of some groups: their rows and owners' codes."""

    rows: npt.NDArray[np.intp]
    owners: npt.NDArray[np.int32]
    codes: npt.NDArray[np.intp]  # the users, each once


@dataclass
class _Write:
    """An open write transaction and the index changes due after its commit."""

    conn: sqlite3.Connection
    index_changes: list[Callable[[], None]] = field(default_factory=list)

    def then(self, change: Callable[[], None]) -> None:
        self.index_changes.append(change)


class _Index:
    """All embeddings in one growable matrix, and who is in which group.

    One matrix rather than one per group: a user in several groups costs one
    copy of their faces, and a search over a group either multiplies the
    whole matrix and keeps the group's rows (large groups) or gathers the
    group's rows first (small groups); both are one matrix-vector product.
    Users have small integer codes so that row ownership is a numpy array.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._matrix: Vector = np.zeros((capacity, EMBEDDING_DIM), np.float32)
        # Code of the user owning each row, -1 for a free row.
        self._owner = np.full(capacity, -1, np.int32)
        # Rows at or past this one have never been used.
        self._high = 0
        self._free_rows: list[int] = []
        self._codes: dict[str, int] = {}
        self._uid_of: list[str | None] = []
        self._groups_of: list[tuple[str, ...]] = []
        self._free_codes: list[int] = []
        self._members: dict[str, set[int]] = {}
        self._views: dict[frozenset[str], _View] = {}

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> _Index:
        """Build the index from SQLite; the caller holds a read transaction."""
        (count,) = conn.execute("SELECT COUNT(*) FROM faces").fetchone()
        # Headroom so the first enrolments after a start do not copy the matrix.
        index = cls(capacity=max(64, count + count // 4))

        # Rows are read in chunks straight into the matrix: joining all blobs
        # first would briefly hold the embeddings twice.
        cursor = conn.execute("SELECT uid, embedding FROM faces ORDER BY face_id")
        row = 0
        while chunk := cursor.fetchmany(_LOAD_CHUNK):
            blob = b"".join(embedding for _, embedding in chunk)
            if len(blob) != len(chunk) * EMBEDDING_DIM * 4:
                raise api_error(216300, "an embedding has the wrong size")
            block = np.frombuffer(blob, dtype="<f4").reshape(len(chunk), EMBEDDING_DIM)
            end = row + len(chunk)
            index._matrix[row:end] = block
            index._owner[row:end] = [index._code(uid) for uid, _ in chunk]
            row = end
        index._high = row

        # Group names are shared between users instead of one string per row.
        names: dict[str, str] = {}
        groups: dict[str, list[str]] = {}
        for uid, group_id in conn.execute(
            "SELECT uid, group_id FROM memberships ORDER BY uid, group_id"
        ):
            groups.setdefault(uid, []).append(names.setdefault(group_id, group_id))
        for uid, user_groups in groups.items():
            code = index._code(uid)
            index._groups_of[code] = tuple(user_groups)
            for group_id in user_groups:
                index._members.setdefault(group_id, set()).add(code)
        return index

    def set_user(self, state: _UserState) -> None:
        code = self._code(state.uid)
        touched = set(self._groups_of[code]) | set(state.groups)
        self._release_rows(code)
        rows = self._allocate_rows(len(state.embeddings))
        self._matrix[rows] = state.embeddings
        self._owner[rows] = code
        self._regroup(code, state.groups)
        self._invalidate(touched)

    def set_groups(self, uid: str, groups: tuple[str, ...]) -> None:
        code = self._codes[uid]
        touched = set(self._groups_of[code]) | set(groups)
        self._regroup(code, groups)
        self._invalidate(touched)

    def drop_user(self, uid: str) -> None:
        code = self._codes.pop(uid)
        touched = set(self._groups_of[code])
        self._release_rows(code)
        self._regroup(code, ())
        self._uid_of[code] = None
        self._free_codes.append(code)
        self._invalidate(touched)

    def verify(self, uid: str, query: Vector, top_num: int) -> list[float] | None:
        code = self._codes.get(uid)
        if code is None:
            return None
        scores = _cosines(self._matrix[self._rows_of(code)], query)
        return [float(score) for score in np.sort(scores)[::-1][:top_num]]

    def search(
        self, group_ids: Iterable[str], query: Vector, user_top: int, face_top: int
    ) -> list[tuple[str, list[float]]]:
        view = self._view(frozenset(group_ids))
        if view is None:
            return []

        # Past half the library, one product over everything is cheaper than
        # copying the group's rows out first.
        if 2 * len(view.rows) >= self._high:
            scores = _cosines(self._matrix[: self._high], query)[view.rows]
        else:
            scores = _cosines(self._matrix[view.rows], query)
        # Best face per user, indexed by user code; unbuffered maximum.at is
        # cheaper than sorting rows by owner to use reduceat.
        best_by_code = np.full(len(self._uid_of), -np.inf, np.float32)
        np.maximum.at(best_by_code, view.owners, scores)
        best = best_by_code[view.codes]

        # Take every user tied with the k-th best so that ties are broken by
        # uid, not by row order, which differs between a live and a reopened
        # store.
        users = len(best)
        take = min(user_top, users)
        if take < users:
            kth = np.partition(best, users - take)[users - take]
            candidates = view.codes[best >= kth]
        else:
            candidates = view.codes
        ranked = sorted(
            candidates.tolist(),
            key=lambda code: (-float(best_by_code[code]), self._uid_of[code]),
        )[:take]

        # One pass over the view collects the faces of the chosen users.
        chosen = np.zeros(len(self._uid_of), dtype=bool)
        chosen[ranked] = True
        hits = np.flatnonzero(chosen[view.owners])
        faces: dict[int, list[float]] = {code: [] for code in ranked}
        for code, score in zip(
            view.owners[hits].tolist(), scores[hits].tolist(), strict=True
        ):
            faces[code].append(score)

        matches = []
        for code in ranked:
            uid = self._uid_of[code]
            assert uid is not None
            matches.append((uid, sorted(faces[code], reverse=True)[:face_top]))
        return matches

    def state(self) -> dict[str, tuple[tuple[str, ...], list[bytes]]]:
        """Everything the index holds, in an order-free form (for tests)."""
        return {
            uid: (
                self._groups_of[code],
                sorted(self._matrix[row].tobytes() for row in self._rows_of(code)),
            )
            for uid, code in self._codes.items()
        }

    def _code(self, uid: str) -> int:
        code = self._codes.get(uid)
        if code is not None:
            return code
        if self._free_codes:
            code = self._free_codes.pop()
            self._uid_of[code] = uid
            self._groups_of[code] = ()
        else:
            code = len(self._uid_of)
            self._uid_of.append(uid)
            self._groups_of.append(())
        self._codes[uid] = code
        return code

    def _rows_of(self, code: int) -> npt.NDArray[np.intp]:
        # A scan rather than a stored list per user: it costs tens of
        # microseconds at 100k faces and saves a Python list per user.
        return np.flatnonzero(self._owner[: self._high] == code)

    def _release_rows(self, code: int) -> None:
        rows = self._rows_of(code)
        self._owner[rows] = -1
        self._matrix[rows] = 0.0
        self._free_rows.extend(rows.tolist())

    def _allocate_rows(self, count: int) -> list[int]:
        reused = min(count, len(self._free_rows))
        rows = [self._free_rows.pop() for _ in range(reused)]
        fresh = count - reused
        if self._high + fresh > len(self._owner):
            self._grow(max(2 * len(self._owner), self._high + fresh))
        rows.extend(range(self._high, self._high + fresh))
        self._high += fresh
        return rows

    def _grow(self, capacity: int) -> None:
        matrix = np.zeros((capacity, EMBEDDING_DIM), np.float32)
        matrix[: self._high] = self._matrix[: self._high]
        owner = np.full(capacity, -1, np.int32)
        owner[: self._high] = self._owner[: self._high]
        self._matrix, self._owner = matrix, owner

    def _regroup(self, code: int, groups: tuple[str, ...]) -> None:
        old, new = set(self._groups_of[code]), set(groups)
        for group_id in old - new:
            members = self._members[group_id]
            members.discard(code)
            if not members:
                del self._members[group_id]
        for group_id in new - old:
            self._members.setdefault(group_id, set()).add(code)
        self._groups_of[code] = tuple(sorted(new))

    def _invalidate(self, group_ids: set[str]) -> None:
        for key in [key for key in self._views if not key.isdisjoint(group_ids)]:
            del self._views[key]

    def _view(self, group_ids: frozenset[str]) -> _View | None:
        view = self._views.get(group_ids)
        if view is not None:
            return view

        codes: set[int] = set()
        for group_id in group_ids:
            codes |= self._members.get(group_id, set())
        if not codes:
            return None

        # One flag per user code plus a False sentinel at the end, which the
        # owner -1 of free rows indexes.
        wanted = np.zeros(len(self._uid_of) + 1, dtype=bool)
        wanted[np.fromiter(codes, dtype=np.intp, count=len(codes))] = True
        owners = self._owner[: self._high]
        rows = np.flatnonzero(wanted[owners])
        if not len(rows):
            return None
        # Users are taken from the rows, not the memberships, so that a user
        # without faces (which the writes never leave) could not rank at -inf.
        holding = np.zeros(len(wanted), dtype=bool)
        holding[owners[rows]] = True
        view = _View(rows=rows, owners=owners[rows], codes=np.flatnonzero(holding))

        if len(self._views) >= _MAX_VIEWS:
            del self._views[next(iter(self._views))]
        self._views[group_ids] = view
        return view


class FaceStore:
    """Users, their groups and their face embeddings, in one SQLite file.

    Safe to call from many threads: one connection serves every call, behind
    one lock. ``readonly=True`` opens the file with SQLite's ``mode=ro`` so
    that every write fails with 216300 (and the data stays as it was).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        busy_timeout: float = 5.0,
    ) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        target = os.fspath(path)
        if readonly and target == ":memory:":
            raise ValueError("an in-memory store cannot be read-only")

        try:
            self._conn = _connect(target, readonly=readonly, busy_timeout=busy_timeout)
            self._migrate(self._conn)
            self._index, self._data_version = self._load(self._conn)
        except sqlite3.Error as exc:
            self.close()
            raise _db_error(exc) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> FaceStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes ------------------------------------------------------------

    def add_user(
        self,
        uid: str,
        user_info: str,
        group_ids: list[str],
        faces: list[FaceRecord],
    ) -> None:
        """Enrol a new user, or add faces and groups to an existing one.

        For an existing user the faces are appended, ``user_info`` replaced
        and the groups joined; the call is refused whole if the user would
        hold more than :data:`MAX_FACES_PER_USER` faces or already holds one
        of the digests.
        """
        _check_faces(faces)
        groups = _group_list(group_ids)

        with self._transaction() as write:
            conn = write.conn
            row = conn.execute("SELECT 1 FROM users WHERE uid = ?", (uid,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO users (uid, user_info) VALUES (?, ?)", (uid, user_info)
                )
            else:
                held = {
                    digest
                    for (digest,) in conn.execute(
                        "SELECT digest FROM faces WHERE uid = ?", (uid,)
                    )
                }
                if not held.isdisjoint(face.digest for face in faces):
                    raise _image_exists()
                if len(held) + len(faces) > MAX_FACES_PER_USER:
                    raise _too_many_faces()
                conn.execute(
                    "UPDATE users SET user_info = ? WHERE uid = ?", (user_info, uid)
                )
            _join(conn, uid, groups)
            _insert_faces(conn, uid, faces)
            write.then(partial(self._index.set_user, _read_state(conn, uid)))

    def update_user(
        self,
        uid: str,
        faces: list[FaceRecord],
        *,
        user_info: str | None = None,
        group_ids: list[str] | None = None,
    ) -> None:
        """Replace all faces of an existing user, and its ``user_info`` if given.

        ``group_ids`` does not move the user: it only restricts the update to
        a user who is a member of at least one of those groups (216612
        otherwise), as the cloud's ``group_id`` argument of update does.
        """
        _check_faces(faces)
        groups = None if group_ids is None else _group_list(group_ids)

        with self._transaction() as write:
            conn = write.conn
            current = _groups_of(conn, uid)
            if not current or (groups is not None and current.isdisjoint(groups)):
                raise api_error(216612)
            conn.execute("DELETE FROM faces WHERE uid = ?", (uid,))
            _insert_faces(conn, uid, faces)
            if user_info is not None:
                conn.execute(
                    "UPDATE users SET user_info = ? WHERE uid = ?", (user_info, uid)
                )
            write.then(partial(self._index.set_user, _read_state(conn, uid)))

    def delete_user(self, uid: str) -> None:
        """Remove a user with its faces and memberships; emptied groups go too."""
        with self._transaction() as write:
            conn = write.conn
            deleted = conn.execute("DELETE FROM users WHERE uid = ?", (uid,)).rowcount
            if deleted == 0:
                raise api_error(216612)
            write.then(partial(self._index.drop_user, uid))

    def add_group_user(
        self, group_ids: list[str], uid: str, src_group_id: str | None = None
    ) -> None:
        """Put an existing user into more groups.

        A user already in every target group is refused with 216100
        ``already add``; one in some of them joins the others. With
        ``src_group_id`` the user must be a member of it (216100 otherwise).
        """
        groups = _group_list(group_ids)

        with self._transaction() as write:
            conn = write.conn
            current = _groups_of(conn, uid)
            if not current:
                raise api_error(216612)
            if src_group_id is not None and src_group_id not in current:
                raise api_error(216100, "uid is not in src_group_id")
            missing = [group_id for group_id in groups if group_id not in current]
            if not missing:
                raise ApiError(216100, "already add")
            _join(conn, uid, missing)
            groups_after = tuple(sorted(current.union(missing)))
            write.then(partial(self._index.set_groups, uid, groups_after))

    def delete_group_user(self, group_id: str, uid: str) -> None:
        """Take a user out of one group; its last group cannot be left."""
        with self._transaction() as write:
            conn = write.conn
            current = _groups_of(conn, uid)
            if not current:
                raise api_error(216612)
            if group_id not in current:
                raise api_error(216613)
            if len(current) == 1:
                raise api_error(216619)
            conn.execute(
                "DELETE FROM memberships WHERE uid = ? AND group_id = ?",
                (uid, group_id),
            )
            groups_after = tuple(sorted(current - {group_id}))
            write.then(partial(self._index.set_groups, uid, groups_after))

    # -- reads -------------------------------------------------------------

    def get_user(self, uid: str) -> UserRecord:
        with self._guard() as conn:
            # One statement, so the user and its groups come from one snapshot
            # even while another process writes.
            rows = conn.execute(
                "SELECT users.user_info, memberships.group_id FROM users"
                " LEFT JOIN memberships ON memberships.uid = users.uid"
                " WHERE users.uid = ? ORDER BY memberships.group_id",
                (uid,),
            ).fetchall()
        if not rows:
            raise api_error(216612)
        groups = [group_id for _, group_id in rows if group_id is not None]
        return UserRecord(uid=uid, user_info=rows[0][0], groups=groups)

    def list_groups(self, start: int, num: int) -> list[str]:
        _check_paging(start, num)
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT group_id FROM groups ORDER BY group_id LIMIT ? OFFSET ?",
                (num, start),
            ).fetchall()
        return [group_id for (group_id,) in rows]

    def group_users(self, group_id: str, start: int, num: int) -> list[tuple[str, str]]:
        """Members of a group by uid; an unknown group is simply empty."""
        _check_paging(start, num)
        with self._guard() as conn:
            rows = conn.execute(
                "SELECT users.uid, users.user_info FROM memberships"
                " JOIN users ON users.uid = memberships.uid"
                " WHERE memberships.group_id = ?"
                " ORDER BY users.uid LIMIT ? OFFSET ?",
                (group_id, num, start),
            ).fetchall()
        return [(uid, user_info) for uid, user_info in rows]

    def has_digest(self, uid: str, digest: str) -> bool:
        with self._guard() as conn:
            row = conn.execute(
                "SELECT 1 FROM faces WHERE uid = ? AND digest = ?", (uid, digest)
            ).fetchone()
        return row is not None

    def face_count(self) -> int:
        with self._guard() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM faces").fetchone()
        return int(count)

    # -- search ------------------------------------------------------------

    def verify(self, uid: str, query: npt.ArrayLike, top_num: int) -> list[float]:
        """Cosines of the user's faces against ``query``, best first."""
        vector = _unit_vector(query)
        _check_positive("top_num", top_num)
        with self._guard() as conn:
            self._refresh_if_changed(conn)
            scores = self._index.verify(uid, vector, top_num)
        if scores is None:
            raise api_error(216612)
        return scores

    def identify(
        self,
        group_ids: list[str],
        query: npt.ArrayLike,
        user_top_num: int,
        face_top_num: int,
    ) -> list[Match]:
        """The users of the groups nearest to ``query``, best first.

        Users are ranked by their best face's cosine, ties by uid; each
        carries its ``face_top_num`` best cosines. Cosines are raw (they may
        pass 1.0 by a rounding error); mapping them to scores is the caller's.
        """
        vector = _unit_vector(query)
        groups = _group_list(group_ids)
        _check_positive("user_top_num", user_top_num)
        _check_positive("face_top_num", face_top_num)

        with self._guard() as conn:
            self._refresh_if_changed(conn)
            found = self._index.search(groups, vector, user_top_num, face_top_num)
            if not found:
                raise api_error(216618)
            placeholders = ",".join("?" * len(found))
            infos = dict(
                conn.execute(
                    f"SELECT uid, user_info FROM users WHERE uid IN ({placeholders})",
                    [uid for uid, _ in found],
                ).fetchall()
            )
        # A user deleted by another process since the index was refreshed is
        # left out rather than reported with no user_info.
        return [
            Match(uid=uid, user_info=infos[uid], scores=scores)
            for uid, scores in found
            if uid in infos
        ]

    # -- plumbing ------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock, and turn any SQLite failure into a 216300."""
        with self._lock:
            if self._conn is None:
                raise api_error(216300, "the store is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise _db_error(exc) from exc

    @contextmanager
    def _transaction(self) -> Iterator[_Write]:
        """One write transaction: committed whole, or rolled back whole.

        IMMEDIATE takes the write lock up front, so a second process makes us
        wait in the busy handler instead of failing halfway through. The
        index changes registered with :meth:`_Write.then` run after the
        commit and before the lock is released, so no other call sees SQLite
        and the index disagree.
        """
        with self._guard() as conn:
            write = _Write(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield write
                conn.execute("COMMIT")
            except BaseException:
                # A no-op when SQLite has already rolled back by itself
                # (for example after SQLITE_FULL).
                conn.rollback()
                raise

            try:
                for change in write.index_changes:
                    change()
            except BaseException:
                # The commit stands. Rather than search a half-changed index,
                # rebuild it from SQLite before the next search.
                self._data_version = -1
                raise

    def _refresh_if_changed(self, conn: sqlite3.Connection) -> None:
        # data_version moves only when another connection commits, so this
        # costs one pragma per search in the usual single-process case.
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        if version != self._data_version:
            logger.debug("face store changed by another connection; reloading")
            self._index, self._data_version = self._load(conn)

    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise api_error(
                216300,
                f"schema version {version} is newer than the supported "
                f"{SCHEMA_VERSION}",
            )
        # TODO: when a second schema version exists, migrate step by step
        # here instead of only creating version 1 in an empty file.
        conn.execute("BEGIN IMMEDIATE")
        try:
            (tables,) = conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()
            if tables:
                raise api_error(216300, "the file holds tables but no face schema")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.rollback()
            raise

    @staticmethod
    def _load(conn: sqlite3.Connection) -> tuple[_Index, int]:
        started = time.perf_counter()
        # One read transaction, so faces, memberships and the version number
        # all come from the same snapshot.
        conn.execute("BEGIN")
        try:
            index = _Index.load(conn)
            (version,) = conn.execute("PRAGMA data_version").fetchone()
        finally:
            conn.rollback()
        logger.debug(
            "face index loaded in %.1f ms", (time.perf_counter() - started) * 1e3
        )
        return index, int(version)

    def _index_state(self) -> dict[str, tuple[tuple[str, ...], list[bytes]]]:
        """The index's content, order-free, to compare with a reloaded one."""
        with self._guard():
            return self._index.state()


def _connect(target: str, *, readonly: bool, busy_timeout: float) -> sqlite3.Connection:
    if readonly:
        quoted = urllib.parse.quote(os.path.abspath(target))
        target, uri = f"file:{quoted}?mode=ro", True
    else:
        uri = False
    # isolation_level=None: the module must not open transactions behind our
    # back; every transaction here is an explicit BEGIN. timeout is SQLite's
    # busy_timeout: how long a call waits for another process's write lock.
    conn = sqlite3.connect(
        target,
        timeout=busy_timeout,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            # An in-memory database answers "memory"; it has no file to
            # journal, so that is fine.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _db_error(exc: sqlite3.Error) -> ApiError:
    logger.error("face store: SQLite failed: %s", exc)
    return api_error(216300, str(exc))


def _groups_of(conn: sqlite3.Connection, uid: str) -> set[str]:
    """The user's groups; empty exactly when the user does not exist."""
    return {
        group_id
        for (group_id,) in conn.execute(
            "SELECT group_id FROM memberships WHERE uid = ?", (uid,)
        )
    }


def _join(conn: sqlite3.Connection, uid: str, group_ids: list[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO groups (group_id) VALUES (?)",
        [(group_id,) for group_id in group_ids],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO memberships (uid, group_id) VALUES (?, ?)",
        [(uid, group_id) for group_id in group_ids],
    )


def _insert_faces(
    conn: sqlite3.Connection, uid: str, faces: Sequence[FaceRecord]
) -> None:
    created = time.time()
    conn.executemany(
        "INSERT INTO faces (uid, digest, embedding, created) VALUES (?, ?, ?, ?)",
        [
            (uid, face.digest, face.embedding.astype("<f4").tobytes(), created)
            for face in faces
        ],
    )


def _read_state(conn: sqlite3.Connection, uid: str) -> _UserState:
    blobs = [
        blob
        for (blob,) in conn.execute(
            "SELECT embedding FROM faces WHERE uid = ? ORDER BY face_id", (uid,)
        )
    ]
    embeddings = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(
        len(blobs), EMBEDDING_DIM
    )
    return _UserState(
        uid=uid,
        groups=tuple(sorted(_groups_of(conn, uid))),
        embeddings=embeddings.astype(np.float32),
    )
