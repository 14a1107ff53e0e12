"""``facekit enroll``: a folder of photos into a group, concurrently, re-runnable.

First a plan, read from the folder alone (what to send, what to refuse);
then the enroller sends it, a few requests in flight, one photo a request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Final, Literal, TypeVar

import typer
from rich.console import Console
from rich.table import Column, Table

from facekit import _spec
from facekit._client import AsyncFaceClient
from facekit._errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    FaceKitError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    TransportError,
    ValidationError,
)
from facekit._hooks import redact
from facekit._validation import Checker
from facekit.cli import (
    EXIT_FAILED,
    _describe_validation,
    _reporting,
    _Settings,
    _settings,
)
from facekit.cli._output import AsJson, _add_row, _print_json, _show

T = TypeVar("T")

# From the spec, so the CLI refuses what the service would.
MAX_FACES_PER_USER: Final[int] = _spec.library_rules()["max_faces_per_user"]
# 216616 "image exist": the user already holds exactly this image.
IMAGE_EXISTS: Final = 216616
_PHOTO_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".bmp")

# -- outcomes and the plan -----------------------------------------------------

Status = Literal["enrolled", "skipped", "joined", "failed", "invalid"]
_STATUS_TEXT: Final[dict[Status, str]] = {
    "enrolled": "enrolled",
    "skipped": "already enrolled (skipped)",
    "joined": "joined the group (faces already enrolled)",
    "failed": "failed",
    "invalid": "not sent (invalid uid)",
}


@dataclass(frozen=True)
class Outcome:
    """What happened to one photo (or, for ``joined``, one user)."""

    uid: str
    file: str
    status: Status
    reason: str = ""


@dataclass
class EnrollPlan:
    """The photos to send per uid, and what was refused before sending."""

    photos: dict[str, list[Path]]
    refused: list[Outcome]

    @property
    def image_count(self) -> int:
        return sum(len(files) for files in self.photos.values())


def plan_enrollment(folder: Path) -> EnrollPlan:
    """Read ``folder``: ``<uid>/*.jpg|png|bmp`` and ``<uid>.jpg|png|bmp``.

    A name the spec's uid rule refuses is reported and not sent.  A uid with
    more photos than a user may hold keeps the first ones by name; the rest
    are reported as failed, so a run's result does not depend on timing.
    Hidden files and other suffixes are ignored.
    """
    found: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            uid, files = entry.name, sorted(p for p in entry.iterdir() if _is_photo(p))
        elif _is_photo(entry):
            uid, files = entry.stem, [entry]
        else:
            continue
        found.setdefault(uid, []).extend(files)

    photos: dict[str, list[Path]] = {}
    refused: list[Outcome] = []
    for uid, files in found.items():
        files.sort(key=lambda p: p.relative_to(folder).as_posix())
        problem = _uid_problem(uid)
        if problem:
            refused.extend(
                Outcome(uid, _rel(folder, f), "invalid", problem) for f in files
            )
            continue
        photos[uid] = files[:MAX_FACES_PER_USER]
        refused.extend(
            Outcome(
                uid,
                _rel(folder, extra),
                "failed",
                f"{len(files)} photos; a user holds at most {MAX_FACES_PER_USER} "
                "faces (the first ones by name are enrolled)",
            )
            for extra in files[MAX_FACES_PER_USER:]
        )
    return EnrollPlan(photos, refused)


def _is_photo(path: Path) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() in _PHOTO_SUFFIXES
    )


def _rel(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def _uid_problem(uid: str) -> str:
    """Why the facade would refuse ``uid`` (its own check), or ``""``."""
    checker = Checker()
    checker.uid(uid)
    if not checker.problems:
        return ""
    table = _spec.error_codes()
    described = "; ".join(
        f"{p.code} {table[p.code].meaning}" if p.code in table else p.code
        for p in checker.problems
    )
    return f"not a valid uid: {described}"


# -- the enroller --------------------------------------------------------------

# Failures that no other photo or uid would escape: stop the whole run.
_FATAL: Final = (
    AuthenticationError,
    PermissionDeniedError,
    QuotaExceededError,
    TransportError,
    ConfigurationError,
)


class _Enroller:
    """Enrols the plan's users concurrently, each user's photos in order.

    At most ``concurrency`` requests are in flight (one semaphore around
    every call).  A user's photos go one at a time, each in its own
    ``add_user``: an image the user already holds is answered 216616 and
    counted as skipped, and a bad photo fails alone.
    """

    def __init__(
        self,
        client: AsyncFaceClient,
        group: str,
        concurrency: int,
        on_outcome: Callable[[Outcome], None],
    ) -> None:
        self._client = client
        self._group = group
        self._semaphore = asyncio.Semaphore(concurrency)
        self._on_outcome = on_outcome

    async def _send(self, call: Callable[[], Awaitable[T]]) -> T:
        async with self._semaphore:
            return await call()

    async def run(self, plan: EnrollPlan, folder: Path) -> list[Outcome]:
        try:
            async with asyncio.TaskGroup() as tasks:
                running = [
                    tasks.create_task(self.user(uid, files, folder))
                    for uid, files in plan.photos.items()
                ]
        except BaseExceptionGroup as grouped:
            # The first fatal failure is the one worth one line; the rest
            # are the same failure seen by the other users' tasks.
            raise _first_leaf(grouped) from None
        return [outcome for task in running for outcome in task.result()]

    async def user(self, uid: str, files: list[Path], folder: Path) -> list[Outcome]:
        client = self._client
        try:
            found = await self._send(lambda: client.get_user(uid))
        except NotFoundError:
            user_info, groups = uid, []
        except _FATAL:
            raise
        except FaceKitError as error:
            reason = f"could not read the user: {_reason(error)}"
            return self._report(
                [Outcome(uid, _rel(folder, f), "failed", reason) for f in files]
            )
        else:
            # Re-enrolling must not overwrite what `user add --info` set.
            user_info, groups = found.result.user_info, list(found.result.groups)

        outcomes = [await self._photo(uid, user_info, path, folder) for path in files]

        added = any(outcome.status == "enrolled" for outcome in outcomes)
        held = any(outcome.status == "skipped" for outcome in outcomes)
        if held and not added and self._group not in groups:
            # Every photo was refused as already held, so add_user did not
            # join the group either: join it explicitly.
            outcomes += self._report([await self._join(uid)])
        return outcomes

    async def _join(self, uid: str) -> Outcome:
        try:
            await self._send(lambda: self._client.add_group_user(self._group, uid))
        except _FATAL:
            raise
        except FaceKitError as error:
            return Outcome(uid, "", "failed", f"could not join: {_reason(error)}")
        return Outcome(uid, "", "joined", f"joined {self._group}")

    def _report(self, outcomes: list[Outcome]) -> list[Outcome]:
        for outcome in outcomes:
            self._on_outcome(outcome)
        return outcomes

    async def _photo(
        self, uid: str, user_info: str, path: Path, folder: Path
    ) -> Outcome:
        name = _rel(folder, path)
        try:
            await self._send(
                lambda: self._client.add_user(uid, user_info, self._group, path)
            )
        except ConflictError as error:
            if error.error_code == IMAGE_EXISTS:
                outcome = Outcome(uid, name, "skipped", "the user holds this image")
            else:
                outcome = Outcome(uid, name, "failed", _reason(error))
        except _FATAL:
            raise
        except ValidationError as error:
            outcome = Outcome(uid, name, "failed", _describe_validation(error))
        except FaceKitError as error:
            outcome = Outcome(uid, name, "failed", _reason(error))
        else:
            outcome = Outcome(uid, name, "enrolled")
        self._on_outcome(outcome)
        return outcome


def _reason(error: FaceKitError) -> str:
    if isinstance(error, APIError):
        meaning = f" ({error.meaning.rstrip('.')})" if error.meaning else ""
        return f"{error.error_code} {error.error_msg}{meaning}"
    return redact(str(error))


def _first_leaf(grouped: BaseExceptionGroup[BaseException]) -> BaseException:
    first = grouped.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


# -- the command ---------------------------------------------------------------


def _counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {
        status: sum(o.status == status for o in outcomes) for status in _STATUS_TEXT
    }


def enroll(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True,
            file_okay=False,
            help="FOLDER/<uid>/*.jpg|png|bmp, or FOLDER/<uid>.jpg|png|bmp.",
        ),
    ],
    group: Annotated[str, typer.Option("--group", help="The group to enrol into.")],
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", min=1, max=64, help="Requests in flight."),
    ] = 4,
    as_json: AsJson = False,
) -> None:
    """Enrol a folder of photos, one user per sub-folder or file name.

    Safe to re-run: a photo the user already holds is skipped (the service
    answers 216616), never duplicated.  Photos past the fifth of a user and
    names that are not valid uids are reported, not sent.  Exits 1 if any
    photo failed.
    """
    settings = _settings(ctx)
    plan = plan_enrollment(folder)
    started = time.perf_counter()
    with _reporting(settings):
        # Checked once here: the facade would refuse it for every photo.
        checker = Checker()
        checker.group_id(group, single=True, field="--group")
        checker.raise_if_any()
        outcomes = [
            *plan.refused,
            *_run_enrollment(settings, plan, folder, group, concurrency),
        ]
    elapsed = time.perf_counter() - started

    counts = _counts(outcomes)
    if as_json:
        _print_json(
            {
                "folder": str(folder),
                "group": group,
                "counts": counts,
                "outcomes": [asdict(o) for o in outcomes],
            }
        )
    else:
        _print_enroll_summary(folder, group, plan, outcomes, counts, elapsed)
    if counts["failed"] or counts["invalid"]:
        raise typer.Exit(EXIT_FAILED)


def _run_enrollment(
    settings: _Settings, plan: EnrollPlan, folder: Path, group: str, concurrency: int
) -> list[Outcome]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    if not plan.photos:
        return []
    tally = {"enrolled": 0, "skipped": 0, "failed": 0}
    progress = Progress(
        TextColumn("enrolling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    task = progress.add_task("", total=plan.image_count)

    def advance(outcome: Outcome) -> None:
        if outcome.status in tally:
            tally[outcome.status] += 1
            described = ", ".join(f"{n} {s}" for s, n in tally.items())
            progress.update(task, advance=1, description=described)

    async def run() -> list[Outcome]:
        async with settings.async_client() as client:
            enroller = _Enroller(client, group, concurrency, advance)
            return await enroller.run(plan, folder)

    with progress:
        return asyncio.run(run())


def _print_enroll_summary(
    folder: Path,
    group: str,
    plan: EnrollPlan,
    outcomes: Sequence[Outcome],
    counts: dict[str, int],
    elapsed: float,
) -> None:
    summary = Table("result", Column("count", justify="right"))
    for status, text in _STATUS_TEXT.items():
        _add_row(summary, text, str(counts[status]))
    heading = f"enrolment of {folder} into {group}: {len(plan.photos)} user(s)"
    _show(f"{heading}, {elapsed:.1f} s", None, summary)

    problems = [o for o in outcomes if o.status in ("failed", "invalid")]
    if problems:
        table = Table("uid", "file", "why")
        for outcome in problems:
            _add_row(table, outcome.uid, outcome.file, outcome.reason)
        _show("not enrolled", None, table)
