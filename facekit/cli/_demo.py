"""``facekit demo``: the whole API on an embedded local server, each step checked.

The server and OpenCV are imported when the demo runs, not before.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from facekit._client import AsyncFaceClient
from facekit._errors import FaceKitError
from facekit.cli import _describe, _fail, _UsageProblem
from facekit.cli._draw import _check_picture_path, draw_faces
from facekit.cli._output import (
    VERIFIED_SCORE,
    _add_row,
    _best_identified,
    _console,
    _detect_table,
    _identify_table,
    _match_table,
    _verify_table,
)


class DemoFailure(Exception):
    """A step of the demo did not give the result it must."""


def _expect(condition: bool, step: str, message: str) -> None:
    if not condition:
        raise DemoFailure(f"step {step!r} went wrong: {message}")


_DEMO_USERS: Final = (
    ("obama", "Barack Obama", "obama-1"),
    ("biden", "Joe Biden", "biden-1"),
    ("einstein", "Albert Einstein", "einstein-1"),
)
_DEMO_GROUP: Final = "demo"
_DEMO_HOST: Final = "http://facekit-demo.local"


def demo(
    out: Annotated[
        Path,
        typer.Option("--out", dir_okay=False, help="Where to save the detect picture."),
    ] = Path("facekit-demo.png"),
) -> None:
    """Walk through the API on the embedded local server: no account, no network.

    detect, match, enrol three users, identify, verify, and a stranger
    rejected, on the sample photos shipped with facekit.  Each step checks
    its own result; the command exits 1 if any is wrong.
    """
    _check_picture_path(out, "--out")
    console = _console()
    started = time.perf_counter()
    try:
        asyncio.run(_steps(console, out))
    except (DemoFailure, _UsageProblem) as failure:
        _fail(f"demo failed: {failure}")
    except FaceKitError as error:
        _fail(f"demo failed: {_describe(error, 'the embedded server')}")
    console.rule()
    elapsed = time.perf_counter() - started
    console.print(
        Text.assemble(
            ("all steps passed", "bold green"),
            f" in {elapsed:.1f} s; picture of the detect step: {out}",
        )
    )


async def _steps(console: Console, out: Path) -> None:
    """The demo's steps against an in-process server on a temporary library."""
    import tempfile

    import httpx

    from facekit import samples
    from facekit.server._runner import make_key_pair
    from facekit.server.app import create_app
    from facekit.server.store import FaceStore

    photo = samples.path
    with (
        tempfile.TemporaryDirectory(prefix="facekit-demo-") as scratch,
        FaceStore(Path(scratch) / "faces.db") as store,
    ):
        api_key, secret_key = make_key_pair()
        server = create_app(store=store, key_pairs={api_key: secret_key})
        async with (
            # The lifespan's end stops the server's worker threads.
            server.router.lifespan_context(server),
            AsyncFaceClient(
                api_key,
                secret_key,
                base_url=_DEMO_HOST,
                transport=httpx.ASGITransport(app=server),
            ) as client,
        ):
            console.rule("1. detect: einstein-1.jpg, up to 5 faces, with landmarks")
            detected = await client.detect(
                photo("einstein-1"), max_face_num=5, face_fields="landmark"
            )
            console.print(_detect_table(detected))
            _expect(
                detected.result_num == 2,
                "detect",
                f"expected 2 faces in einstein-1.jpg, found {detected.result_num}",
            )
            draw_faces(photo("einstein-1"), detected.result, out)
            console.print(f"picture with boxes and landmarks: {out}")

            console.rule("2. match: obama-1, obama-2, biden-1")
            names = ["obama-1", "obama-2", "biden-1"]
            matched = await client.match([photo(name) for name in names])
            console.print(_match_table(matched, names))
            scores = {(p.index_i, p.index_j): p.score for p in matched.result}
            _expect(
                set(scores) == {(0, 1), (0, 2), (1, 2)},
                "match",
                f"expected 3 pairs, got {sorted(scores)}",
            )
            _expect(
                scores[0, 1] >= VERIFIED_SCORE,
                "match",
                f"obama-1 and obama-2 scored {scores[0, 1]:.2f}, "
                f"below {VERIFIED_SCORE}",
            )
            for pair in ((0, 2), (1, 2)):
                _expect(
                    scores[pair] < VERIFIED_SCORE,
                    "match",
                    f"{names[pair[0]]} and biden-1 scored {scores[pair]:.2f}, "
                    f"{VERIFIED_SCORE} or more",
                )

            console.rule(f"3. enrol three users into group {_DEMO_GROUP!r}")
            enrolled = Table()
            enrolled.add_column("uid")
            enrolled.add_column("user_info")
            enrolled.add_column("photo")
            for uid, info, name in _DEMO_USERS:
                await client.add_user(uid, info, _DEMO_GROUP, photo(name))
                _add_row(enrolled, uid, info, f"{name}.jpg")
            console.print(enrolled)
            members = await client.get_group_users(_DEMO_GROUP)
            found = sorted(member.uid for member in members.result)
            expected = sorted(uid for uid, _, _ in _DEMO_USERS)
            _expect(found == expected, "enrol", f"the group holds {found}")

            console.rule("4. identify obama-2.jpg in the group")
            identified = await client.identify_user(_DEMO_GROUP, photo("obama-2"))
            console.print(_identify_table(identified))
            best = _best_identified(identified)
            _expect(
                best is not None and best[0] == "obama" and best[1] >= VERIFIED_SCORE,
                "identify",
                f"expected obama scoring {VERIFIED_SCORE}+, got {best}",
            )

            console.rule("5. verify obama-3.jpg against uid obama")
            verified = await client.verify_user("obama", photo("obama-3"))
            console.print(_verify_table(verified, "obama"))
            _expect(
                bool(verified.result) and verified.result[0] >= VERIFIED_SCORE,
                "verify",
                f"obama-3 scored {verified.result} against obama",
            )

            console.rule("6. a stranger: identify collins-1.jpg in the group")
            stranger = await client.identify_user(_DEMO_GROUP, photo("collins-1"))
            console.print(_identify_table(stranger))
            best = _best_identified(stranger)
            _expect(
                best is None or best[1] < VERIFIED_SCORE,
                "stranger",
                f"collins-1 was identified as {best}",
            )
            console.print(
                f"not identified: the best score is below {VERIFIED_SCORE}, "
                "so the stranger is rejected"
            )
