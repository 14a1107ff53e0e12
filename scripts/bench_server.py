"""Time the local face server: detect, identify against large galleries, memory.

    python scripts/bench_server.py
    python scripts/bench_server.py --sizes 1000 10000 --runs 20

1. detect of one face in a 640x480 JPEG (``facekit/samples/obama-1.jpg``,
   800x640, cropped around its face), median of ``--runs``: the engine alone
   (the calls the detect handler makes, in this process) and end to end
   through the HTTP application in-process (``httpx.ASGITransport``: form
   parsing, token check, worker thread, JSON), with and without
   ``face_fields=landmark,qualities``. Target: 40 ms or less end to end.
   Ratios are against the engine's decode + detect measured in the same run.
2. identify against galleries of 1k, 10k and 100k faces. The galleries are
   synthetic: random unit vectors written by ``scripts/bench_store.py``
   (imported, not copied), since search time depends on their number, not
   their values. Per size: the store's search alone (``bench_store``'s own
   measure), and ``POST /identify`` through the HTTP application with the
   photo above as the query (decode, detect and embed it, then search), next
   to the engine's decode + detect + embed of that photo in the same run.
3. Memory with the largest gallery: a fresh ``python -m facekit.server``
   process on that library, after one identify (models loaded, index
   built), its VmRSS and VmHWM from ``/proc``; next to the same server on an
   empty library and ``bench_store``'s store-only process. Target: 200 MB or
   less with 100k faces.

The search is numpy (BLAS); the header says which OPENBLAS variables are set,
since some of them slow a current numpy down (see the environment notes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _bench  # noqa: E402
import bench_store  # noqa: E402

from facekit.server.app import create_app  # noqa: E402
from facekit.server.engine import get_engine  # noqa: E402
from facekit.server.store import FaceStore  # noqa: E402

PHOTO = ROOT / "facekit" / "samples" / "obama-1.jpg"
IN_PROCESS_URL = "http://facekit.test"
DETECT_PATH = _bench.operation_paths()["detect"]
IDENTIFY_PATH = _bench.operation_paths()["identifyUser"]
TOKEN_PATH = _bench.operation_paths()["getAccessToken"]
API_KEY, SECRET_KEY = "bench0123456789abcdef012", "bench-secret-0123456789abcdef012"
DETECT_TARGET_MS = 40.0
RSS_TARGET_MIB = 200.0


def photo_640x480() -> bytes:
    """The sample photo cropped to 640x480 around its face, as a JPEG."""
    image = cv2.imread(str(PHOTO))
    height, width = image.shape[:2]
    face = get_engine().detect(image, 1)[0]
    middle_x = face.left + face.width / 2
    middle_y = face.top + face.height / 2
    left = int(min(max(0, middle_x - 320), width - 640))
    top = int(min(max(0, middle_y - 240), height - 480))
    cropped = image[top : top + 480, left : left + 640]
    ok, encoded = cv2.imencode(".jpg", cropped, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok and cropped.shape[:2] == (480, 640)
    return bytes(encoded.tobytes())


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def form(**fields: str) -> bytes:
    """A form body, encoded once: httpx's ``data=`` quotes in Python, a few
    milliseconds for an image, which is the client's time, not the server's."""
    return urlencode(fields).encode("ascii")


class InProcess:
    """The HTTP application on a library, called through ASGITransport."""

    def __init__(self, db: Path) -> None:
        self.store = FaceStore(db)
        app = create_app(store=self.store, key_pairs={API_KEY: SECRET_KEY})
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=IN_PROCESS_URL, timeout=60
        )
        self.token = ""

    async def start(self) -> None:
        answer = await self.client.get(
            TOKEN_PATH, params=_bench.token_params(API_KEY, SECRET_KEY)
        )
        self.token = answer.json()["access_token"]

    async def post(self, path: str, form: bytes) -> dict[str, Any]:
        answer = await self.client.post(
            path,
            params={"access_token": self.token},
            content=form,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        body: dict[str, Any] = answer.json()
        if "error_code" in body:
            raise RuntimeError(f"{path} answered an error: {body}")
        return body

    async def close(self) -> None:
        await self.client.aclose()
        self.store.close()


# -- 1. detect ----------------------------------------------------------------


def bench_detect(photo: bytes, runs: int, directory: Path) -> list[str]:
    engine = get_engine()

    def decode_detect() -> object:
        return engine.detect(engine.decode(photo), 1)

    def all_fields() -> object:
        image = engine.decode(photo)
        return [
            (engine.landmark4(face), engine.quality(image, face))
            for face in engine.detect(image, 1)
        ]

    image = base64.b64encode(photo).decode("ascii")
    plain_form = form(image=image)
    fields_form = form(image=image, face_fields="landmark,qualities")
    names = (
        "engine: decode + detect",
        "engine: decode + detect + landmark + quality",
        "HTTP in-process: detect",
        "HTTP in-process: detect, face_fields=landmark,qualities",
    )

    async def measure() -> dict[str, list[float]]:
        server = InProcess(directory / "detect.db")
        steps: list[Callable[[], Awaitable[object]]] = [
            _awaitable(decode_detect),
            _awaitable(all_fields),
            lambda: server.post(DETECT_PATH, plain_form),
            lambda: server.post(DETECT_PATH, fields_form),
        ]
        try:
            await server.start()
            # Interleaved, one of each per run, so that a slow spell of the
            # machine (it is shared) hits every row alike.
            return await interleaved(dict(zip(names, steps, strict=True)), runs)
        finally:
            await server.close()

    rows = asyncio.run(measure())
    base = statistics.median(rows[names[0]])
    table = []
    for name, values in rows.items():
        median = statistics.median(values)
        target = ""
        if name.startswith("HTTP"):
            verdict = "met" if median <= DETECT_TARGET_MS else "MISSED"
            target = f"<= {DETECT_TARGET_MS:.0f} ms: {verdict}"
        table.append(
            [
                name,
                str(len(values)),
                f"{median:.1f}",
                f"{p90(values):.1f}",
                f"{median / base:.2f}x",
                target,
            ]
        )
    return [
        "",
        "== detect: one face, 640x480 JPEG (obama-1.jpg cropped), in this process ==",
        _bench.table(
            [
                ("what", "<"),
                ("runs", ">"),
                ("median ms", ">"),
                ("p90 ms", ">"),
                ("vs engine", ">"),
                ("target", "<"),
            ],
            table,
        ),
    ]


def _awaitable(function: Callable[[], object]) -> Callable[[], Awaitable[object]]:
    async def call() -> object:
        return function()

    return call


async def interleaved(
    steps: dict[str, Callable[[], Awaitable[object]]], runs: int
) -> dict[str, list[float]]:
    """Milliseconds of each step, by name: every step once per run, in turn."""
    for step in steps.values():  # untimed: first-call work
        await step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(runs):
        for name, step in steps.items():
            started = time.perf_counter()
            await step()
            times[name].append((time.perf_counter() - started) * 1e3)
    return times


# -- 2. identify --------------------------------------------------------------


def bench_identify(
    photo: bytes, sizes: list[int], queries: int, directory: Path
) -> tuple[list[str], Path]:
    engine = get_engine()
    sizes = sorted(sizes)

    def embed() -> object:
        image = engine.decode(photo)
        return engine.embed(image, engine.detect(image, 1)[0])

    query = form(
        group_id="all",
        image=base64.b64encode(photo).decode("ascii"),
        user_top_num="5",
    )
    probes = bench_store.unit_vectors(np.random.default_rng(42), queries)

    paths, written, searched = {}, {}, {}
    for size in sizes:
        paths[size] = directory / f"faces_{size}.db"
        started = time.perf_counter()
        bench_store.write_synthetic(paths[size], size, 1, seed=size)
        written[size] = time.perf_counter() - started
        with FaceStore(paths[size]) as store:
            searched[size] = bench_store.identify_ms(store, "all", probes)

    async def measure() -> dict[str, list[float]]:
        servers = {size: InProcess(paths[size]) for size in sizes}
        steps: dict[str, Callable[[], Awaitable[object]]] = {"embed": _awaitable(embed)}
        for size, server in servers.items():
            steps[str(size)] = functools.partial(server.post, IDENTIFY_PATH, query)
        try:
            for server in servers.values():
                await server.start()
            return await interleaved(steps, queries)
        finally:
            for server in servers.values():
                await server.close()

    times = asyncio.run(measure())
    embed_ms = statistics.median(times["embed"])
    first = sizes[0]
    rows = []
    for size in sizes:
        http_ms = statistics.median(times[str(size)])
        rows.append(
            [
                f"{size:,}",
                f"{written[size]:.1f}",
                f"{searched[size]:.2f}",
                f"{searched[size] / searched[first]:.1f}x",
                f"{http_ms:.1f}",
                f"{http_ms / statistics.median(times[str(first)]):.2f}x",
                f"{http_ms - embed_ms:+.1f}",
            ]
        )
    for size in sizes[:-1]:  # only the largest is kept, for the memory part
        paths[size].unlink()
    return [
        "",
        f"== identify: synthetic galleries (random unit vectors), group 'all' "
        f"holding every face, {queries} queries, interleaved ==",
        f"engine decode + detect + embed of the query photo: {embed_ms:.1f} ms "
        "(median, interleaved with the HTTP calls)",
        _bench.table(
            [
                ("faces", ">"),
                ("write s", ">"),
                ("store search ms", ">"),
                ("vs 1st", ">"),
                ("HTTP identify ms", ">"),
                ("vs 1st", ">"),
                ("HTTP - embed ms", ">"),
            ],
            rows,
        ),
    ], paths[sizes[-1]]


# -- 3. memory ----------------------------------------------------------------


def server_memory(db: Path, photo: bytes) -> tuple[int, float, float]:
    """A server process on ``db`` after one identify: faces, VmRSS, VmHWM."""
    children = _bench.Children()
    try:
        base_url, pid = children.start(
            _bench.server_command("127.0.0.1", db, API_KEY, SECRET_KEY),
            _bench.READY,
            timeout=120,
        )
        with httpx.Client(base_url=base_url, timeout=60) as client:
            token = client.get(
                TOKEN_PATH, params=_bench.token_params(API_KEY, SECRET_KEY)
            ).json()["access_token"]
            answer = client.post(
                IDENTIFY_PATH,
                params={"access_token": token},
                data={
                    "group_id": "all",
                    "image": base64.b64encode(photo).decode("ascii"),
                },
            ).json()
        with FaceStore(db) as store:
            faces = store.face_count()
        # An empty library answers 216618 (no user in group); that is fine.
        if "error_code" in answer and faces:
            raise RuntimeError(f"identify answered an error: {answer}")
        memory = _bench.memory_kib(pid)
        return faces, memory["VmRSS"] / 1024, memory["VmHWM"] / 1024
    finally:
        children.stop()


def bench_memory(largest: Path, photo: bytes, directory: Path) -> list[str]:
    empty = directory / "empty.db"
    FaceStore(empty).close()
    rows = []
    for name, db in (("local server, empty library", empty), ("local server", largest)):
        faces, rss, hwm = server_memory(db, photo)
        target = ""
        if faces:
            verdict = "met" if rss <= RSS_TARGET_MIB else "MISSED"
            target = f"<= {RSS_TARGET_MIB:.0f} MB: {verdict}"
        rows.append([name, f"{faces:,}", f"{rss:.0f}", f"{hwm:.0f}", target])

    faces, before, after, peak = bench_store.memory_of_fresh_process(largest)
    rows.append(
        [
            "store only (bench_store --measure-rss)",
            f"{faces:,}",
            f"{after / 1024:.0f}",
            f"{peak / 1024:.0f}",
            f"{before / 1024:.0f} MiB before opening",
        ]
    )
    return [
        "",
        "== memory: a fresh process, after one identify ==",
        _bench.table(
            [
                ("process", "<"),
                ("faces", ">"),
                ("VmRSS MiB", ">"),
                ("VmHWM MiB", ">"),
                ("target / note", "<"),
            ],
            rows,
        ),
    ]


def blas_note() -> str:
    names = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")
    found = [f"{name}={os.environ[name]}" for name in names if name in os.environ]
    note = f"numpy {np.__version__}; " + (
        "set: " + ", ".join(found) if found else "no OPENBLAS variable set"
    )
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return note + " (threadpoolctl not installed)"
    for pool in threadpool_info():
        if pool.get("internal_api") == "openblas":
            note += f"; OpenBLAS {pool.get('version')} {pool.get('architecture')}"
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000]
    )
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()

    lines = _bench.header(
        "facekit local server benchmark",
        libraries=("facekit", "opencv-python-headless", "numpy", "starlette"),
    )
    lines.append(f"blas    : {blas_note()}")
    print("\n".join(lines), flush=True)

    photo = photo_640x480()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        print("\n".join(bench_detect(photo, args.runs, directory)), flush=True)
        identify, largest = bench_identify(photo, args.sizes, args.queries, directory)
        print("\n".join(identify), flush=True)
        if not args.skip_memory:
            print("\n".join(bench_memory(largest, photo, directory)), flush=True)


if __name__ == "__main__":
    main()
