"""Time facekit's clients against the official SDK and bare httpx.

    python scripts/bench_client.py                     # both parts
    python scripts/bench_client.py --part loopback --rounds 3
    python scripts/bench_client.py --part network      # needs root and `ip netns`

Every client calls the same local face server, which runs in a child process
(``python -m facekit.server``), so that ``time.process_time()`` here
counts the client's CPU only. The clients, for each operation (``getGroupList``,
cheap; ``detect`` of ``facekit/samples/obama-1.jpg``, 800x640):

- bare httpx (the baseline): one prebuilt ``httpx.Request`` (same URL, same
  form body, the access token already in the query) sent again and again,
  the answer decoded with ``json.loads``; ``httpx.AsyncClient`` the same way
  with one request per task for the async baseline;
- bare httpx building the request on each call, as a hand-written client
  does (``client.post(url, params=..., data=...)``, the image base64-encoded
  each time): what the prebuilt baseline leaves out;
- ``facekit.FaceClient`` and ``facekit.AsyncFaceClient`` as users call them;
- the official SDK, ``aip.AipFace`` of baidu-aip 1.6.9, its name-mangled URLs
  pointed at the server (it uses one ``requests`` session and fetches a token
  only when the cached one is about to expire: one request per call);
- the server's ceiling: asyncio streams writing prebuilt request bytes on 32
  keep-alive connections, far cheaper per call than any HTTP library here.

Runs are interleaved (each round runs every configuration, in an order that
rotates), repeated, and reported as medians; each ratio is the median over
rounds of (client / bare httpx of the same round, same kind, same number in
flight).

Part 2, a network with real round trips: two network namespaces made here,
joined by a veth pair with addresses in a private /24 that exists only inside
them, the server in one and the client in the other. The delay is netem's
(10 ms each way) if the kernel has it; otherwise a small asyncio TCP relay in
the server's namespace holds every chunk 10 ms before passing it on, each
way, so that a request and its answer cost about 20 ms as with netem. The
output says which. The namespaces are removed at the end, on Ctrl-C too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _bench  # noqa: E402
import httpx  # noqa: E402

PHOTO = ROOT / "facekit" / "samples" / "obama-1.jpg"
OPERATIONS = ("getGroupList", "detect")
RELAY_READY = "relay: listening on "
# A private /24 that exists only inside the two namespaces this script makes:
# nothing outside them has these addresses or a route to them.
NETWORK = "10.254.77"
SERVER_ADDRESS = f"{NETWORK}.1"
CLIENT_ADDRESS = f"{NETWORK}.2"
ONE_WAY_DELAY_MS = 10
NAMESPACE_PREFIX = "fkbench-"
CEILING_CONNECTIONS = 32

# Calls per timed run: enough for a stable time, few enough for 5 rounds.
LOOPBACK_CALLS = {"getGroupList": 200, "detect": 16}
NETWORK_CALLS = {"getGroupList": 40, "detect": 12}
CALLS_PER_TASK = {"getGroupList": 4, "detect": 2}
IN_FLIGHT = (1, 8, 32)

CLIENTS = {
    # key: (label, baseline key, async?)
    "bare": ("bare httpx (baseline)", "bare", False),
    "facekit": ("facekit FaceClient", "bare", False),
    "aip": ("official SDK aip 1.6.9", "bare", False),
    "bare-build": ("bare httpx, request built per call", "bare", False),
    "bare-async": ("bare httpx async (baseline)", "bare-async", True),
    "facekit-async": ("facekit AsyncFaceClient", "bare-async", True),
    "ceiling": ("server ceiling: asyncio streams", "bare-async", True),
}


# -- what one call of each client is ------------------------------------------


@dataclass(frozen=True)
class Target:
    """The server as the clients see it, and the work to ask of it."""

    base_url: str
    api_key: str
    secret_key: str
    token: str
    photo: bytes

    def url(self, operation: str) -> str:
        return self.base_url + _bench.operation_paths()[operation]

    def form(self, operation: str) -> dict[str, str]:
        """The form facekit and the SDK send: no optional field is given."""
        if operation == "detect":
            return {"image": base64.b64encode(self.photo).decode("ascii")}
        return {}


def fetch_token(base_url: str, api_key: str, secret_key: str) -> str:
    with httpx.Client(timeout=30) as client:
        response = client.get(
            base_url + _bench.operation_paths()["getAccessToken"],
            params=_bench.token_params(api_key, secret_key),
        )
    return str(response.json()["access_token"])


def _checked(content: bytes) -> None:
    body = json.loads(content)
    if "error_code" in body:
        raise _bench.BenchError(f"the server answered an error: {body}")


def sync_calls(target: Target) -> dict[tuple[str, str], Callable[[], object]]:
    """One callable per (client, operation), on clients made once and kept."""
    import aip  # the official SDK; imported late, it disables urllib3 warnings

    bare = httpx.Client(timeout=30)
    prebuilt = {
        operation: bare.build_request(
            "POST",
            target.url(operation),
            params={"access_token": target.token},
            data=target.form(operation),
        )
        for operation in OPERATIONS
    }

    def bare_call(operation: str) -> Callable[[], object]:
        request = prebuilt[operation]
        return lambda: _checked(bare.send(request).content)

    from facekit import FaceClient

    facekit = FaceClient(target.api_key, target.secret_key, base_url=target.base_url)

    sdk = aip.AipFace("bench", target.api_key, target.secret_key)
    for operation_id, path in _bench.operation_paths().items():
        setattr(sdk, f"_AipFace__{operation_id}Url", target.base_url + path)
    sdk._AipBase__accessTokenUrl = target.url("getAccessToken")

    def sdk_checked(result: dict[str, Any]) -> None:
        if "error_code" in result:
            raise _bench.BenchError(f"the official SDK answered an error: {result}")

    def built_call(operation: str) -> Callable[[], object]:
        url, params = target.url(operation), {"access_token": target.token}
        if operation == "detect":
            photo = target.photo
            return lambda: _checked(
                bare.post(
                    url,
                    params=params,
                    data={"image": base64.b64encode(photo).decode("ascii")},
                ).content
            )
        return lambda: _checked(bare.post(url, params=params, data={}).content)

    photo = target.photo
    return {
        ("bare-build", "getGroupList"): built_call("getGroupList"),
        ("bare-build", "detect"): built_call("detect"),
        ("bare", "getGroupList"): bare_call("getGroupList"),
        ("bare", "detect"): bare_call("detect"),
        ("facekit", "getGroupList"): facekit.get_group_list,
        ("facekit", "detect"): lambda: facekit.detect(photo),
        ("aip", "getGroupList"): lambda: sdk_checked(sdk.getGroupList()),
        ("aip", "detect"): lambda: sdk_checked(sdk.detect(photo)),
    }


AsyncCall = Callable[[], Awaitable[object]]


@contextlib.asynccontextmanager
async def async_calls(
    client: str, operation: str, target: Target, in_flight: int
) -> Any:
    """One coroutine function per task in flight, on a client for this loop."""
    if client == "bare-async":
        async with httpx.AsyncClient(timeout=30) as http:

            def one(request: httpx.Request) -> AsyncCall:
                async def call() -> None:
                    _checked((await http.send(request)).content)

                return call

            yield [
                one(
                    http.build_request(
                        "POST",
                        target.url(operation),
                        params={"access_token": target.token},
                        data=target.form(operation),
                    )
                )
                for _ in range(in_flight)
            ]
    elif client == "facekit-async":
        from facekit import AsyncFaceClient

        async with AsyncFaceClient(
            target.api_key, target.secret_key, base_url=target.base_url
        ) as facekit:
            if operation == "detect":
                photo = target.photo

                async def call() -> object:
                    return await facekit.detect(photo)
            else:
                call = facekit.get_group_list
            yield [call] * in_flight
    elif client == "ceiling":
        connections = [
            await RawConnection.open(target, operation) for _ in range(in_flight)
        ]
        try:
            yield [connection.call for connection in connections]
        finally:
            for connection in connections:
                connection.close()
    else:
        raise ValueError(client)


class RawConnection:
    """A keep-alive connection that writes prebuilt request bytes: no library."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
    ) -> None:
        self._reader, self._writer, self._raw = reader, writer, raw

    @classmethod
    async def open(cls, target: Target, operation: str) -> RawConnection:
        url = urlsplit(target.url(operation))
        body = urlencode(target.form(operation)).encode("ascii")
        head = (
            f"POST {url.path}?{urlencode({'access_token': target.token})} HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(reader, writer, head.encode("ascii") + body)

    async def call(self) -> None:
        self._writer.write(self._raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        if not head.startswith(b"HTTP/1.1 200") or match is None:
            raise _bench.BenchError(f"unexpected answer head: {head[:200]!r}")
        _checked(await self._reader.readexactly(int(match[1])))

    def close(self) -> None:
        self._writer.close()


# -- timing -------------------------------------------------------------------


@dataclass
class Run:
    operation: str
    client: str
    in_flight: int
    calls: int
    wall: list[float] = field(default_factory=list)  # seconds per call, by round
    cpu: list[float] = field(default_factory=list)  # client CPU seconds per call


def time_sync(call: Callable[[], object], calls: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        call()
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


async def time_async(
    client: str, operation: str, target: Target, in_flight: int, calls: int
) -> tuple[float, float]:
    async with async_calls(client, operation, target, in_flight) as workers:
        # Untimed: the token, and one connection per task.
        await asyncio.gather(*(call() for call in workers))

        remaining = iter(range(calls))

        async def worker(call: AsyncCall) -> None:
            for _ in remaining:
                await call()

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(call) for call in workers))
        return (
            (time.perf_counter() - wall) / calls,
            (time.process_time() - cpu) / calls,
        )


def plan(calls: dict[str, int]) -> list[Run]:
    runs = []
    for operation in OPERATIONS:
        count = calls[operation]
        runs += [
            Run(operation, client, 1, count)
            for client in ("bare", "facekit", "aip", "bare-build")
        ]
        for in_flight in IN_FLIGHT:
            # Enough calls that every task makes a few.
            many = max(count, CALLS_PER_TASK[operation] * in_flight)
            runs += [
                Run(operation, client, in_flight, many)
                for client in ("bare-async", "facekit-async")
            ]
        many = max(count, CALLS_PER_TASK[operation] * CEILING_CONNECTIONS)
        runs.append(Run(operation, "ceiling", CEILING_CONNECTIONS, many))
    return runs


def measure(
    target: Target, *, rounds: int, calls: dict[str, int], seconds: float
) -> tuple[list[Run], int]:
    """Every configuration once per round; stops early past ``seconds``."""
    deadline = time.monotonic() + seconds
    sync = sync_calls(target)
    for call in sync.values():  # untimed: tokens, connections, imports
        call()
        call()
    sync_clients = {client for client, _ in sync}

    runs = plan(calls)
    done = 0
    for number in range(rounds):
        if number and time.monotonic() > deadline:
            break
        shift = number % len(runs)
        for run in runs[shift:] + runs[:shift]:
            if run.client in sync_clients:
                wall, cpu = time_sync(sync[run.client, run.operation], run.calls)
            else:
                wall, cpu = asyncio.run(
                    time_async(
                        run.client, run.operation, target, run.in_flight, run.calls
                    )
                )
            run.wall.append(wall)
            run.cpu.append(cpu)
        done += 1
        print(f"  round {done} done", file=sys.stderr, flush=True)
    # A round cut short would pair runs of different rounds.
    for run in runs:
        del run.wall[done:], run.cpu[done:]
    return runs, done


def round_trip_ms(target: Target, count: int = 15) -> float:
    """The median time of one keep-alive token request: a round trip and a bit."""
    times = []
    with httpx.Client(timeout=30) as client:
        url = target.url("getAccessToken")
        params = _bench.token_params(target.api_key, target.secret_key)
        client.get(url, params=params)
        for _ in range(count):
            started = time.perf_counter()
            client.get(url, params=params).raise_for_status()
            times.append(time.perf_counter() - started)
    return _bench.median(times) * 1e3


# -- the report ---------------------------------------------------------------


def _baseline(runs: Sequence[Run], run: Run) -> Run:
    key = CLIENTS[run.client][1]
    return _find(runs, run.operation, key, 1 if key == "bare" else run.in_flight)


def _ratio(values: list[float], bases: list[float]) -> float:
    return _bench.median(v / b for v, b in zip(values, bases, strict=True))


def report(runs: Sequence[Run]) -> str:
    rows = []
    for run in runs:
        base = _baseline(runs, run)
        wall = _bench.median(run.wall)
        rows.append(
            [
                run.operation,
                CLIENTS[run.client][0],
                str(run.in_flight),
                str(run.calls),
                f"{wall * 1e3:.2f}",
                f"{1 / wall:.0f}",
                f"{_bench.median(run.cpu) * 1e6:.0f}",
                f"{_ratio(run.cpu, base.cpu):.2f}x",
                f"{_ratio(run.wall, base.wall):.2f}x",
            ]
        )
    return _bench.table(
        [
            ("operation", "<"),
            ("client", "<"),
            ("in flight", ">"),
            ("calls", ">"),
            ("wall ms/call", ">"),
            ("calls/s", ">"),
            ("CPU µs/call", ">"),
            ("CPU vs base", ">"),
            ("wall vs base", ">"),
        ],
        rows,
    )


def _find(runs: Sequence[Run], operation: str, client: str, in_flight: int) -> Run:
    for run in runs:
        if (run.operation, run.client, run.in_flight) == (operation, client, in_flight):
            return run
    raise LookupError((operation, client, in_flight))


def verdicts(runs: Sequence[Run], *, network: bool) -> list[str]:
    lines = []
    for operation in OPERATIONS:
        facekit = _find(runs, operation, "facekit", 1)
        sdk = _find(runs, operation, "aip", 1)
        bare = _find(runs, operation, "bare", 1)
        cpu_ratio = _ratio(facekit.cpu, bare.cpu)
        sdk_ratio = _ratio(facekit.cpu, sdk.cpu)
        built = _ratio(facekit.cpu, _find(runs, operation, "bare-build", 1).cpu)
        lines.append(
            f"{operation}: FaceClient CPU/call {built:.2f}x bare httpx building "
            "the request per call"
        )
        lines.append(
            f"{operation}: FaceClient CPU/call {cpu_ratio:.2f}x bare httpx "
            f"(target <= 1.25x: {'met' if cpu_ratio <= 1.25 else 'MISSED'}); "
            f"{sdk_ratio:.2f}x the official SDK's "
            f"(target < 1: {'met' if sdk_ratio < 1 else 'MISSED'})"
        )
        async_cpu = ", ".join(
            "{:.2f}x at {}".format(
                _ratio(
                    _find(runs, operation, "facekit-async", n).cpu,
                    _find(runs, operation, "bare-async", n).cpu,
                ),
                n,
            )
            for n in IN_FLIGHT
        )
        lines.append(
            f"{operation}: AsyncFaceClient CPU/call vs bare async: {async_cpu}"
        )

        ceiling = max(
            1 / _bench.median(run.wall)
            for run in runs
            if run.operation == operation and run.client in ("ceiling", "bare-async")
        )
        shares = ", ".join(
            "{:.0f}% at {}".format(
                100
                / _bench.median(_find(runs, operation, "facekit-async", n).wall)
                / ceiling,
                n,
            )
            for n in IN_FLIGHT[1:]
        )
        lines.append(
            f"{operation}: AsyncFaceClient throughput, share of the server's "
            f"ceiling ({ceiling:.0f} calls/s, the best of the asyncio-streams "
            f"and bare-async runs): {shares}"
        )
        if network:
            best = max(
                1 / _bench.median(_find(runs, operation, "facekit-async", n).wall)
                for n in IN_FLIGHT
            )
            lines.append(
                f"{operation}: calls/s, facekit async best {best:.0f} vs official "
                f"SDK {1 / _bench.median(sdk.wall):.1f} = "
                f"{best * _bench.median(sdk.wall):.1f}x; FaceClient alone "
                f"{_bench.median(sdk.wall) / _bench.median(facekit.wall):.2f}x"
            )
    return lines


# -- child processes: the server, the relay, the client in a namespace --------


async def _relay(listen: str, target: str, port: int, delay: float) -> None:
    loop = asyncio.get_running_loop()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Like netem: every chunk leaves `delay` after it arrived; reading
        # goes on meanwhile, so the delay adds latency, not a bandwidth cap.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while True:
                chunk = await reader.read(1 << 16)
                queue.put_nowait((loop.time() + delay, chunk))
                if not chunk:
                    break
            await delivering
        except (ConnectionError, asyncio.IncompleteReadError):
            delivering.cancel()

    async def connection(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        server_reader, server_writer = await asyncio.open_connection(target, port)
        try:
            await asyncio.gather(
                pump(client_reader, server_writer),
                pump(server_reader, client_writer),
                return_exceptions=True,
            )
        finally:
            client_writer.close()
            server_writer.close()

    server = await asyncio.start_server(connection, listen, 0)
    host, bound = server.sockets[0].getsockname()[:2]
    print(f"{RELAY_READY}{host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def relay_child(argv: list[str]) -> None:
    """``--relay LISTEN TARGET PORT DELAY_MS``: the user-space delay."""
    listen, target, port, delay_ms = argv
    asyncio.run(_relay(listen, target, int(port), int(delay_ms) / 1e3))


def network_client_child(argv: list[str]) -> None:
    """``--network-client BASE_URL API_KEY SECRET_KEY ROUNDS SECONDS``."""
    base_url, api_key, secret_key, rounds, seconds = argv
    target = Target(
        base_url,
        api_key,
        secret_key,
        fetch_token(base_url, api_key, secret_key),
        PHOTO.read_bytes(),
    )
    rtt = round_trip_ms(target)
    runs, done = measure(
        target, rounds=int(rounds), calls=NETWORK_CALLS, seconds=float(seconds)
    )
    json.dump(
        {"round_trip_ms": rtt, "rounds": done, "runs": [asdict(r) for r in runs]},
        sys.stdout,
    )


def child_command(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


# -- the two parts ------------------------------------------------------------


def loopback_part(args: argparse.Namespace, api_key: str, secret_key: str) -> None:
    children = _bench.Children()
    with tempfile.TemporaryDirectory() as directory:
        try:
            base_url, _ = children.start(
                _bench.server_command(
                    "127.0.0.1", Path(directory) / "faces.db", api_key, secret_key
                ),
                _bench.READY,
            )
            target = Target(
                base_url,
                api_key,
                secret_key,
                fetch_token(base_url, api_key, secret_key),
                PHOTO.read_bytes(),
            )
            print(f"\n== part 1: loopback, server at {base_url} (a child process) ==")
            print(f"one keep-alive token request: {round_trip_ms(target):.2f} ms")
            started = time.monotonic()
            runs, done = measure(
                target, rounds=args.rounds, calls=LOOPBACK_CALLS, seconds=args.seconds
            )
            print(
                f"{done} rounds in {time.monotonic() - started:.0f} s; "
                "medians over rounds; ratios are medians of per-round ratios"
            )
            print(report(runs))
            print("\n".join(verdicts(runs, network=False)))
        finally:
            children.stop()


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)


def _remove_stale_namespaces() -> None:
    """Namespaces this script left behind when it was killed outright."""
    listing = _ip("netns", "list").stdout
    for name in re.findall(rf"^({NAMESPACE_PREFIX}(\d+)-[sc])\b", listing, re.M):
        try:
            os.kill(int(name[1]), 0)
        except ProcessLookupError:
            _ip("netns", "delete", name[0])
        except PermissionError:
            pass


@contextlib.contextmanager
def namespaces() -> Iterator[tuple[str, str]]:
    """Two namespaces joined by a veth pair; removed on the way out."""
    server_ns = f"{NAMESPACE_PREFIX}{os.getpid()}-s"
    client_ns = f"{NAMESPACE_PREFIX}{os.getpid()}-c"
    made = []
    try:
        for name in (server_ns, client_ns):
            _run_ip("netns", "add", name)
            made.append(name)
        # Both ends are made inside the namespaces, never in the host's.
        _run_ip(
            "-n", server_ns, "link", "add", "veth-s", "type", "veth",
            "peer", "name", "veth-c", "netns", client_ns,
        )  # fmt: skip
        for name, device, address in (
            (server_ns, "veth-s", SERVER_ADDRESS),
            (client_ns, "veth-c", CLIENT_ADDRESS),
        ):
            _run_ip("-n", name, "addr", "add", f"{address}/24", "dev", device)
            _run_ip("-n", name, "link", "set", device, "up")
            _run_ip("-n", name, "link", "set", "lo", "up")
        yield server_ns, client_ns
    finally:
        for name in made:
            _ip("netns", "delete", name)


def _run_ip(*args: str) -> None:
    done = _ip(*args)
    if done.returncode != 0:
        raise _bench.BenchError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _netem(server_ns: str, client_ns: str) -> str | None:
    """Add netem's delay on both ends; None if it worked, else why not."""
    for name, device in ((server_ns, "veth-s"), (client_ns, "veth-c")):
        done = subprocess.run(
            ["ip", "netns", "exec", name, "tc", "qdisc", "add", "dev", device,
             "root", "netem", "delay", f"{ONE_WAY_DELAY_MS}ms"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if done.returncode != 0:
            return done.stderr.strip() or f"tc exited {done.returncode}"
    return None


def network_part(args: argparse.Namespace, api_key: str, secret_key: str) -> None:
    print("\n== part 2: a network with real round trips (two namespaces) ==")
    if os.geteuid() != 0:
        print("skipped: making network namespaces needs root")
        return
    if shutil.which("ip") is None:
        print("skipped: iproute2's `ip` is not installed")
        return
    _remove_stale_namespaces()

    children = _bench.Children()
    with tempfile.TemporaryDirectory() as directory:
        try:
            with namespaces() as (server_ns, client_ns):
                netem_failure = _netem(server_ns, client_ns)
                in_server = ["ip", "netns", "exec", server_ns]
                server_url, _ = children.start(
                    [
                        *in_server,
                        *_bench.server_command(
                            SERVER_ADDRESS,
                            Path(directory) / "faces.db",
                            api_key,
                            secret_key,
                        ),
                    ],
                    _bench.READY,
                )
                if netem_failure is None:
                    base_url = server_url
                    print(f"delay: netem, {ONE_WAY_DELAY_MS} ms on each veth end")
                else:
                    port = urlsplit(server_url).port
                    relay, _ = children.start(
                        in_server
                        + child_command(
                            "--relay",
                            SERVER_ADDRESS,
                            SERVER_ADDRESS,
                            str(port),
                            str(ONE_WAY_DELAY_MS),
                        ),
                        RELAY_READY,
                    )
                    base_url = f"http://{relay}"
                    print(
                        f"delay: netem is not available here ({netem_failure}); "
                        f"a user-space asyncio TCP relay in the server's namespace "
                        f"holds every chunk {ONE_WAY_DELAY_MS} ms before passing it "
                        f"on, each way (~{2 * ONE_WAY_DELAY_MS} ms per round trip)"
                    )
                print(
                    f"server {server_url} in {server_ns}; client {CLIENT_ADDRESS} "
                    f"in {client_ns} calls {base_url}"
                )
                started = time.monotonic()
                client_command = child_command(
                    "--network-client",
                    base_url,
                    api_key,
                    secret_key,
                    str(args.network_rounds),
                    str(args.network_seconds),
                )
                done = subprocess.run(
                    ["ip", "netns", "exec", client_ns, *client_command],
                    stdout=subprocess.PIPE,
                    timeout=args.network_seconds + 60,
                    check=True,
                )
                result = json.loads(done.stdout)
                runs = [Run(**run) for run in result["runs"]]
                print(
                    f"one keep-alive token request: {result['round_trip_ms']:.1f} ms; "
                    f"{result['rounds']} rounds in {time.monotonic() - started:.0f} s"
                )
                print(report(runs))
                print("\n".join(verdicts(runs, network=True)))
        finally:
            children.stop()


def main() -> None:
    modes = {
        "--relay": relay_child,
        "--network-client": network_client_child,
    }
    if len(sys.argv) > 1 and sys.argv[1] in modes:
        modes[sys.argv[1]](sys.argv[2:])
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "loopback", "network"), default="all")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=150, help="loopback budget")
    parser.add_argument("--network-rounds", type=int, default=3)
    parser.add_argument("--network-seconds", type=float, default=75)
    args = parser.parse_args()

    # Ctrl-C and SIGTERM both unwind through the `finally` blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    warnings.simplefilter("ignore", DeprecationWarning)  # the official SDK's

    # Shaped like facekit.server._runner.make_key_pair's, without importing
    # the server (numpy, OpenCV) into the process whose CPU time is measured.
    api_key, secret_key = secrets.token_hex(12), secrets.token_urlsafe(24)
    print(
        "\n".join(
            _bench.header(
                "facekit client benchmark",
                libraries=("facekit", "httpx", "requests", "baidu-aip", "uvicorn"),
            )
        )
    )
    try:
        if args.part in ("all", "loopback"):
            loopback_part(args, api_key, secret_key)
        if args.part in ("all", "network"):
            network_part(args, api_key, secret_key)
    except KeyboardInterrupt:
        # The children are stopped and the namespaces gone by now.
        print("\ninterrupted; child processes and namespaces cleaned up")
        sys.exit(130)


if __name__ == "__main__":
    main()
