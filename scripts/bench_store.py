"""Time the face store's search and start-up on synthetic embeddings.

    python scripts/bench_store.py                      # 1k, 10k, 100k faces
    python scripts/bench_store.py --sizes 1000 50000 --faces-per-user 5

For each size it prints the median ``identify`` time over a group holding
every face and over a group holding 1% of the users, the ratio of the former
to the smallest size's (the baseline measured in the same run), the time to
rebuild the index when the store opens, and the median ``add_user`` time and
the first search after it. Resident memory is measured in a fresh process
that only opens the largest store, so that building the data does not count.

The embeddings are random unit vectors, not faces: search time depends only
on their number and dimension, never on their values.

Filling a store of 100k faces through ``add_user`` would time fsyncs, not the
store, so the files are written with SQLite directly (bench only: the schema
comes from ``FaceStore`` itself, which creates it, and the store is then
reopened so that its index is rebuilt from SQLite as on a real start).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _bench  # noqa: E402

from facekit.server.store import EMBEDDING_DIM, FaceRecord, FaceStore  # noqa: E402

SHARDS = 100  # each user is in "all" and in one of SHARDS groups
CHUNK = 10_000


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    vectors = rng.standard_normal((count, EMBEDDING_DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def write_synthetic(path: Path, faces: int, faces_per_user: int, seed: int) -> None:
    """Fill a new store file with random embeddings, straight into SQLite."""
    FaceStore(path).close()
    rng = np.random.default_rng(seed)
    users = -(-faces // faces_per_user)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO users (uid, user_info) VALUES (?, ?)",
        ((f"user_{u:07}", f"synthetic user {u}") for u in range(users)),
    )
    conn.executemany(
        "INSERT INTO groups (group_id) VALUES (?)",
        [("all",), *((f"shard_{s:03}",) for s in range(SHARDS))],
    )
    conn.executemany(
        "INSERT INTO memberships (uid, group_id) VALUES (?, ?)",
        (
            (f"user_{u:07}", group_id)
            for u in range(users)
            for group_id in ("all", f"shard_{u % SHARDS:03}")
        ),
    )
    # Chunks keep the generator's memory small at 100k faces.
    now = time.time()
    for start in range(0, faces, CHUNK):
        block = unit_vectors(rng, min(CHUNK, faces - start))
        conn.executemany(
            "INSERT INTO faces (uid, digest, embedding, created) VALUES (?, ?, ?, ?)",
            (
                (
                    f"user_{(start + i) // faces_per_user:07}",
                    hashlib.sha256(vector.tobytes()).hexdigest(),
                    vector.astype("<f4").tobytes(),
                    now,
                )
                for i, vector in enumerate(block)
            ),
        )
    conn.execute("COMMIT")
    conn.close()


def identify_ms(store: FaceStore, group_id: str, queries: np.ndarray) -> float:
    """Median time of one identify per query, after a few untimed ones."""
    for query in queries[:3]:
        store.identify([group_id], query, 5, 1)
    times = []
    for query in queries:
        started = time.perf_counter()
        store.identify([group_id], query, 5, 1)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def measure_rss(path: Path) -> None:
    """Child mode: print RSS before and after opening the store at ``path``."""
    before = _bench.memory_kib()["VmRSS"]
    store = FaceStore(path)
    query = unit_vectors(np.random.default_rng(1), 1)[0]
    store.identify(["all"], query, 5, 1)
    after = _bench.memory_kib()
    print(
        f"{store.face_count()} {before} {after['VmRSS']} {after['VmHWM']}", flush=True
    )
    store.close()


def memory_of_fresh_process(path: Path) -> tuple[int, int, int, int]:
    """:func:`measure_rss` in a fresh process: faces, VmRSS before and after
    opening the store at ``path``, and VmHWM, in KiB."""
    child = subprocess.run(
        [sys.executable, __file__, "--measure-rss", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    faces, before, after, peak = (int(x) for x in child.stdout.split())
    return faces, before, after, peak


def bench(sizes: list[int], faces_per_user: int, queries: int) -> None:
    rng = np.random.default_rng(42)
    probes = unit_vectors(rng, queries)
    print(f"synthetic embeddings: random unit vectors, dimension {EMBEDDING_DIM}")
    print(f"{faces_per_user} face(s) per user; each user in 'all' and 1 of {SHARDS}")
    print(
        f"{'faces':>8} {'identify all':>13} {'ratio':>6} {'identify 1%':>12}"
        f" {'open+rebuild':>13} {'add_user':>9} {'1st search':>11}"
    )

    baseline = None
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            path = Path(directory) / f"faces_{size}.db"
            write_synthetic(path, size, faces_per_user, seed=size)

            opens = []
            for _ in range(3):
                started = time.perf_counter()
                store = FaceStore(path)
                opens.append(time.perf_counter() - started)
                store.close()
            open_ms = statistics.median(opens) * 1e3

            store = FaceStore(path)
            all_ms = identify_ms(store, "all", probes)
            shard_ms = identify_ms(store, "shard_007", probes)
            baseline = baseline or all_ms

            # A write invalidates the cached view of its groups, so the first
            # search after it pays for rebuilding that view.
            writes, first_searches = [], []
            for n, vector in enumerate(unit_vectors(rng, queries)):
                record = FaceRecord(
                    hashlib.sha256(vector.tobytes()).hexdigest(), vector
                )
                started = time.perf_counter()
                store.add_user(f"bench_{n}", "", ["all"], [record])
                writes.append(time.perf_counter() - started)
                started = time.perf_counter()
                store.identify(["all"], vector, 5, 1)
                first_searches.append(time.perf_counter() - started)
            store.close()

            print(
                f"{size:>8} {all_ms:>10.2f} ms {all_ms / baseline:>5.1f}x"
                f" {shard_ms:>9.2f} ms {open_ms:>10.1f} ms"
                f" {statistics.median(writes) * 1e3:>6.2f} ms"
                f" {statistics.median(first_searches) * 1e3:>8.2f} ms"
            )

        largest = Path(directory) / f"faces_{sizes[-1]}.db"
        faces, before, after, peak = memory_of_fresh_process(largest)
        print(
            f"RSS of a fresh process holding {faces} faces: {after / 1024:.0f} MiB"
            f" (VmRSS; {before / 1024:.0f} MiB before opening the store,"
            f" peak VmHWM {peak / 1024:.0f} MiB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000]
    )
    parser.add_argument("--faces-per-user", type=int, default=1)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--measure-rss", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_rss is not None:
        measure_rss(args.measure_rss)
    else:
        bench(sorted(args.sizes), args.faces_per_user, args.queries)


if __name__ == "__main__":
    main()
