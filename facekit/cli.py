"""The ``facekit`` command line: every face operation, bulk enrolment, the demo.

::

    facekit [--base-url URL] [--api-key K] [--secret-key S] [--verbose] COMMAND

    demo                        the whole API on the embedded local server
    serve                       run the local face server
    detect / match              faces, attributes, pair scores
    verify / identify           against the face library
    user add|update|get|delete  one user
    group list|users|add-user|remove-user
    enroll FOLDER --group G     a folder of photos, concurrently, re-runnable

Every command prints rich tables, or with ``--json`` the typed result as the
service answered it (the generated model's ``to_dict()``).  Configuration
comes from the global options or ``FACEKIT_BASE_URL``, ``FACEKIT_API_KEY``
and ``FACEKIT_SECRET_KEY``; the base URL defaults to Baidu's cloud.

Exit codes: 0 success; 1 the service or the network failed, or some of a
bulk enrolment failed; 2 a usage problem (bad option, argument refused by
the spec before sending, no key pair).  An expected failure is one line on
stderr naming the code, the message and what to do, never a traceback.

Startup stays cheap: OpenCV, numpy and the server are imported inside the
commands that need them (``facekit --help`` pays only for ``facekit`` itself).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, NoReturn, TypeVar

import typer
from face_v2_client.types import Unset  # type: ignore[import-untyped, unused-ignore]
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from facekit import _spec
from facekit._client import (
    DEFAULT_BASE_URL,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_SECRET_KEY,
    AsyncFaceClient,
    FaceClient,
)
from facekit._errors import (
    APIError,
    AuthenticationError,
    BadImageError,
    ConfigurationError,
    ConflictError,
    FaceKitError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ResponseFormatError,
    ServiceError,
    TransportError,
    ValidationError,
)
from facekit._hooks import redact

if TYPE_CHECKING:
    from face_v2_client.models import (  # type: ignore[import-untyped, unused-ignore]
        DetectResult,
        Face,
        IdentifyResult,
        MatchResult,
        VerifyResult,
    )

__all__ = ["app", "main"]

T = TypeVar("T")

# From the spec, so the CLI's verdicts agree with the server's documentation.
VERIFIED_SCORE: Final[int] = _spec.library_rules()["verified_score"]
MAX_FACES_PER_USER: Final[int] = _spec.library_rules()["max_faces_per_user"]
# 216616 "image exist": the user already holds exactly this image.
IMAGE_EXISTS: Final = 216616

EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

# Pure colours, drawn without anti-aliasing, so that a picture's boxes can be
# told apart from the photograph (and counted) by their exact value (BGR).
BOX_COLOUR: Final = (0, 255, 0)
LANDMARK_COLOUR: Final = (0, 0, 255)
_LABEL_INK: Final = (0, 0, 0)
_DRAW_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".bmp")
_PHOTO_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".bmp")
# The landmark of the v2 API: four points, in this order (see the spec).
_LANDMARK_NAMES: Final = ("L eye", "R eye", "nose", "mouth")
_FACE_CORE: Final = frozenset(
    {"location", "face_probability", "rotation_angle", "yaw", "pitch", "roll"}
)
_FACE_POINTS: Final = frozenset({"landmark", "landmark72"})

app = typer.Typer(
    name="facekit",
    help="The Baidu face recognition API v2 (cloud or facekit's local server).",
    no_args_is_help=True,
    add_completion=False,
    # Locals may hold key pairs; a bug's traceback must not print them.
    pretty_exceptions_show_locals=False,
)
user_app = typer.Typer(help="Add, update, read and delete users.", no_args_is_help=True)
group_app = typer.Typer(
    help="List groups and their users; move users between groups.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")
app.add_typer(group_app, name="group")


def main() -> None:
    """The console script ``facekit``."""
    app(prog_name="facekit")


# -- configuration and failures ----------------------------------------------


class _UsageProblem(Exception):
    """A problem with how the command was called, found before any request."""


@dataclass(frozen=True)
class _Settings:
    base_url: str | None
    api_key: str | None
    secret_key: str | None

    @property
    def where(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    def _keys(self) -> tuple[str, str]:
        if not self.api_key or not self.secret_key:
            raise _UsageProblem(
                f"no key pair: set {ENV_API_KEY} and {ENV_SECRET_KEY} or pass "
                "--api-key and --secret-key (for a local server, `facekit serve` "
                "prints a development pair; `facekit demo` needs none)"
            )
        return self.api_key, self.secret_key

    def client(self) -> FaceClient:
        api_key, secret_key = self._keys()
        return FaceClient(api_key, secret_key, base_url=self.base_url)

    def async_client(self) -> AsyncFaceClient:
        api_key, secret_key = self._keys()
        return AsyncFaceClient(api_key, secret_key, base_url=self.base_url)


def _settings(ctx: typer.Context) -> _Settings:
    settings = ctx.find_root().obj
    if not isinstance(settings, _Settings):
        # Commands are only reached through the callback, which sets it.
        raise RuntimeError("the facekit callback did not run")
    return settings


@app.callback()
def _configure(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar=ENV_BASE_URL,
            help=f"Where the API is: {DEFAULT_BASE_URL} (Baidu's cloud, the "
            "default) or a local server such as http://127.0.0.1:8000.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar=ENV_API_KEY, help="The API key."),
    ] = None,
    secret_key: Annotated[
        str | None,
        typer.Option("--secret-key", envvar=ENV_SECRET_KEY, help="The secret key."),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log to stderr at DEBUG (credentials redacted)."
        ),
    ] = False,
) -> None:
    ctx.obj = _Settings(base_url=base_url, api_key=api_key, secret_key=secret_key)
    if verbose:
        ctx.call_on_close(_log_to_stderr())


class _RedactingFormatter(logging.Formatter):
    """Masks credentials in the finished line, whoever logged it."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _log_to_stderr() -> Callable[[], None]:
    """Send facekit's (and httpx's request) logs to stderr; return the undo."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    # httpx's one INFO line per request shows the URL, which facekit's auth
    # already masks; httpcore's DEBUG chatter adds nothing a user can act on.
    levels = {"facekit": logging.DEBUG, "httpx": logging.INFO}
    saved: dict[str, int] = {}
    for name, level in levels.items():
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(level)
        logger.addHandler(handler)

    def undo() -> None:
        for name, level in saved.items():
            logger = logging.getLogger(name)
            logger.removeHandler(handler)
            logger.setLevel(level)

    return undo


def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    # Plain print, not rich, and whitespace folded: one line that no console
    # width can wrap; redacted once more in case a message quoted a URL.
    line = " ".join(redact(message).split())
    print(f"facekit: {line}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


@contextmanager
def _reporting(settings: _Settings) -> Iterator[None]:
    """Turn every expected failure into one line on stderr and an exit code."""
    try:
        yield
    except _UsageProblem as problem:
        _fail(str(problem), EXIT_USAGE)
    except ValidationError as error:
        _fail(_describe_validation(error), EXIT_USAGE)
    except ConfigurationError as error:
        _fail(f"configuration: {error}", EXIT_USAGE)
    except FaceKitError as error:
        _fail(_describe(error, settings.where))


def _describe_validation(error: ValidationError) -> str:
    problems = "; ".join(f"{p.field} {p.code} ({p.message})" for p in error.problems)
    return f"invalid arguments, nothing was sent: {problems}"


def _describe(error: FaceKitError, where: str) -> str:
    """One line: what failed, the code and message, and what to do about it."""
    if isinstance(error, RequestTimeoutError):
        return f"{error} waiting for {where}; is the server at {where} running?"
    if isinstance(error, ResponseFormatError):
        return (
            f"the answer from {where} is not the face API's JSON ({error}); "
            "is --base-url right?"
        )
    if isinstance(error, TransportError):
        return f"no answer from {where} ({error}); is the server at {where} running?"
    if isinstance(error, APIError):
        log_id = f" (log_id {error.log_id})" if error.log_id is not None else ""
        text = f"error {error.error_code}: {error.error_msg}{log_id}"
        return f"{text}; {_advice(error, where)}"
    return str(error)


def _advice(error: APIError, where: str) -> str:
    meaning = (error.meaning or "").rstrip(".")
    if isinstance(error, AuthenticationError):
        return (
            f"check {ENV_API_KEY}/{ENV_SECRET_KEY} (or --api-key/--secret-key): "
            f"are they a key pair of {where}?"
        )
    if isinstance(error, PermissionDeniedError):
        return "this application may not call the operation; enable it in the console"
    if isinstance(error, QuotaExceededError):
        return "a quota is used up; retrying will not help until it resets"
    if isinstance(error, RateLimitError):
        return "still refused after retries; try again later or send less at once"
    if isinstance(error, NotFoundError):
        return (
            "check the uid and the group (`facekit group list`, "
            "`facekit group users GROUP`)"
        )
    if isinstance(error, BadImageError):
        return f"check the photo: {meaning}" if meaning else "check the photo"
    if isinstance(error, ServiceError):
        return f"{meaning}; try again later" if meaning else "try again later"
    return meaning or "see the error codes in spec/face-v2.yaml"


# -- output --------------------------------------------------------------------


def _console() -> Console:
    # Made per command: the runner of the tests swaps sys.stdout.  No markup:
    # printed text holds uids, groups and paths, which may contain brackets.
    return Console(highlight=False, markup=False)


def _show(heading: str, log_id: int | None, table: Table) -> Console:
    """Print a heading line, then the table; return the console for more."""
    console = _console()
    suffix = f" (log_id {log_id})" if log_id is not None else ""
    console.print(Text.assemble((heading, "bold"), (suffix, "dim")))
    console.print(table)
    return console


def _add_row(table: Table, *cells: str) -> None:
    # Text, not markup: a uid or user_info may hold square brackets.
    table.add_row(*(Text(cell) for cell in cells))


def _print_json(result: Any) -> None:
    document = result if isinstance(result, dict) else result.to_dict()
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def _verdict(score: float) -> str:
    return "yes" if score >= VERIFIED_SCORE else "no"


def _box(face: Face) -> str:
    location = face.location
    return f"{location.left},{location.top} {location.width}×{location.height}"


def _angles(face: Face) -> str:
    parts = [f"rot {face.rotation_angle}°"]
    parts += [
        f"{name} {value:.1f}°"
        for name in ("yaw", "pitch", "roll")
        if not isinstance(value := getattr(face, name), Unset)
    ]
    return "\n".join(parts)


def _landmarks(face: Face) -> str:
    if not isinstance(face.landmark, Unset):
        named = len(face.landmark) == len(_LANDMARK_NAMES)
        return "\n".join(
            f"{_LANDMARK_NAMES[i] if named else i} {point.x},{point.y}"
            for i, point in enumerate(face.landmark)
        )
    if not isinstance(face.landmark72, Unset):
        return f"{len(face.landmark72)} points"
    return ""


def _attributes(face: Face) -> str:
    extra = {
        key: value
        for key, value in face.to_dict().items()
        if key not in _FACE_CORE | _FACE_POINTS
    }
    lines: list[str] = []
    for key, value in extra.items():
        if isinstance(value, dict):
            # qualities: one measure a line reads better than one long line.
            lines.extend(f"{name} {_short(v)}" for name, v in value.items())
        else:
            lines.append(f"{key} {_short(value)}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_short(item) for item in value)
    return str(value)


def _detect_table(result: DetectResult) -> Table:
    faces = result.result
    columns: list[tuple[str, list[str]]] = [
        ("#", [str(number) for number in range(1, len(faces) + 1)]),
        ("box (left,top w×h)", [_box(face) for face in faces]),
        ("prob", [f"{face.face_probability:.3f}" for face in faces]),
        ("angles", [_angles(face) for face in faces]),
        ("landmarks", [_landmarks(face) for face in faces]),
        ("attributes", [_attributes(face) for face in faces]),
    ]
    # Columns nobody has (attributes from a local server, say) are left out.
    shown = [(name, cells) for name, cells in columns if any(cells)]

    table = Table()
    for name, _ in shown:
        table.add_column(name, no_wrap=name != "attributes")
    for row in zip(*(cells for _, cells in shown), strict=True):
        _add_row(table, *row)
    return table


def _missing_fields(result: DetectResult, fields: str | None) -> list[str]:
    """Requested face fields that no face came back with."""
    if not fields or not result.result:
        return []
    present = set().union(*(face.to_dict() for face in result.result))
    return [name for name in fields.split(",") if name and name not in present]


def _match_table(result: MatchResult, names: Sequence[str]) -> Table:
    table = Table()
    table.add_column("photo")
    table.add_column("photo")
    table.add_column("score", justify="right")
    table.add_column(f"same person (≥ {VERIFIED_SCORE})")
    for pair in result.result:
        _add_row(
            table,
            _name_at(names, pair.index_i),
            _name_at(names, pair.index_j),
            f"{pair.score:.2f}",
            _verdict(pair.score),
        )
    return table


def _name_at(names: Sequence[str], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"#{index}"


def _faceless(result: MatchResult, count: int) -> list[int]:
    """Indices of photos in no pair: the service found no face in them."""
    paired = {i for pair in result.result for i in (pair.index_i, pair.index_j)}
    return [i for i in range(count) if i not in paired] if result.result else []


def _identify_table(result: IdentifyResult) -> Table:
    table = Table()
    table.add_column("rank", justify="right")
    table.add_column("uid")
    table.add_column("user_info")
    table.add_column("group")
    table.add_column("scores", justify="right")
    table.add_column(f"identified (≥ {VERIFIED_SCORE})")
    for rank, user in enumerate(result.result, 1):
        group = "" if isinstance(user.group_id, Unset) else user.group_id
        best = max(user.scores, default=0.0)
        _add_row(
            table,
            str(rank),
            user.uid,
            user.user_info,
            group,
            ", ".join(f"{score:.2f}" for score in user.scores),
            _verdict(best),
        )
    return table


def _best_identified(result: IdentifyResult) -> tuple[str, float] | None:
    """The top user and its best score, if any user came back."""
    if not result.result:
        return None
    top = result.result[0]
    return top.uid, max(top.scores, default=0.0)


def _verify_table(result: VerifyResult, uid: str) -> Table:
    table = Table()
    table.add_column("uid")
    table.add_column("score", justify="right")
    table.add_column(f"verified (≥ {VERIFIED_SCORE})")
    for score in result.result:
        _add_row(table, uid, f"{score:.2f}", _verdict(score))
    return table


# -- pictures ------------------------------------------------------------------


def _check_picture_path(path: Path | None, option: str) -> None:
    # Before any request: cv2.imwrite picks the format by the suffix.
    if path is not None and path.suffix.lower() not in _DRAW_SUFFIXES:
        raise typer.BadParameter(
            f"{path} must end in one of {', '.join(_DRAW_SUFFIXES)}",
            param_hint=f"'{option}'",
        )


def draw_faces(photo: Path, faces: Sequence[Face], out: Path) -> None:
    """Save ``photo`` with a box, its number and its landmarks per face.

    The photograph is decoded as the local server decodes it (OpenCV, EXIF
    orientation applied), so the boxes land where they were found.
    """
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(photo.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise _UsageProblem(f"cannot decode {photo} to draw on it")
    # Lines a little thicker on larger pictures, to stay visible when shrunk.
    thickness = max(2, round(max(image.shape[:2]) / 300))

    for number, face in enumerate(faces, 1):
        location = face.location
        left, top = location.left, location.top
        right = left + location.width - 1
        bottom = top + location.height - 1
        cv2.rectangle(
            image, (left, top), (right, bottom), BOX_COLOUR, thickness, cv2.LINE_8
        )
        _label(image, str(number), left, top, thickness)

        points = [] if isinstance(face.landmark, Unset) else face.landmark
        if not isinstance(face.landmark72, Unset):
            points = [*points, *face.landmark72]
        # Small faces get small dots, so that their points stay apart.
        radius = max(2, min(thickness, location.width // 15))
        for point in points:
            cv2.circle(
                image, (point.x, point.y), radius, LANDMARK_COLOUR, -1, cv2.LINE_8
            )

    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), image):
        raise _UsageProblem(f"cannot write the picture {out}")


def _label(image: Any, text: str, left: int, top: int, thickness: int) -> None:
    """The face's number on a tab on the box's top-left corner.

    The tab sits above the box, or inside it at the top of the picture, and
    touches the box either way: box and tab are one connected shape of the
    box colour, so a picture's boxes can be counted by their colour.
    """
    import cv2

    font, scale = cv2.FONT_HERSHEY_SIMPLEX, thickness / 4
    (text_width, text_height), baseline = cv2.getTextSize(text, font, scale, 1)
    pad = thickness
    tab_height = text_height + baseline + 2 * pad
    tab_top = top - tab_height if top >= tab_height else top
    corner = (left + text_width + 2 * pad, tab_top + tab_height)
    cv2.rectangle(image, (left, tab_top), corner, BOX_COLOUR, -1, cv2.LINE_8)
    origin = (left + pad, tab_top + pad + text_height)
    cv2.putText(image, text, origin, font, scale, _LABEL_INK, 1, cv2.LINE_8)


# -- face operations -----------------------------------------------------------

Photo = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="A JPEG, PNG or BMP photo."
    ),
]
Photos = Annotated[
    list[Path],
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="JPEG, PNG or BMP photos."
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the typed result as JSON.")]


def _range(request_schema: str, field: str) -> str:
    """``(default 1, 1-10)``: the spec's range of a field, for the help text."""
    rule = _spec.integer_rule(request_schema, field)
    bounds = f"{rule.minimum}-{rule.maximum}" if rule.maximum is not None else ""
    return f"(default {rule.default}{', ' if bounds else ''}{bounds})"


_FACE_FIELDS: Final = ", ".join(
    sorted(_spec.string_rule("FaceFields").allowed_items or ())
)
Start = Annotated[
    int | None,
    typer.Option(
        "--start", help=f"Index of the first item {_range('PageRequest', 'start')}."
    ),
]
Num = Annotated[
    int | None,
    typer.Option("--num", help=f"How many items {_range('PageRequest', 'num')}."),
]


def _call(ctx: typer.Context, operation: Callable[[FaceClient], T]) -> T:
    """Run one operation with a client made from the global options."""
    settings = _settings(ctx)
    with _reporting(settings), settings.client() as client:
        return operation(client)


@app.command()
def detect(
    ctx: typer.Context,
    photo: Photo,
    max_face_num: Annotated[
        int | None,
        typer.Option(
            "--max-face-num",
            help="Report up to this many faces "
            f"{_range('DetectRequest', 'max_face_num')}.",
        ),
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            help=f"Attributes, comma-separated: {_FACE_FIELDS}.",
        ),
    ] = None,
    as_json: AsJson = False,
    draw: Annotated[
        Path | None,
        typer.Option(
            "--draw",
            dir_okay=False,
            help="Save the photo with a box (and landmarks) per face (.png, .jpg).",
        ),
    ] = None,
) -> None:
    """Detect the faces in a photo, with their boxes and attributes."""
    _check_picture_path(draw, "--draw")
    result = _call(
        ctx, lambda c: c.detect(photo, max_face_num=max_face_num, face_fields=fields)
    )
    if draw is not None:
        with _reporting(_settings(ctx)):
            draw_faces(photo, result.result, draw)

    if as_json:
        _print_json(result)
        return
    console = _show(
        f"{result.result_num} face(s) in {photo.name}",
        result.log_id,
        _detect_table(result),
    )
    missing = _missing_fields(result, fields)
    if missing:
        console.print(
            f"not returned: {', '.join(missing)} (a local server leaves out "
            "attributes it cannot compute honestly)"
        )
    if draw is not None:
        console.print(f"picture: {draw}")


@app.command()
def match(ctx: typer.Context, photos: Photos, as_json: AsJson = False) -> None:
    """Score every pair of faces among two or more photos (80 and up: same person)."""
    if len(photos) < 2:
        raise typer.BadParameter("give at least two photos", param_hint="PHOTOS")
    result = _call(ctx, lambda c: c.match(photos))

    if as_json:
        _print_json(result)
        return
    names = [photo.name for photo in photos]
    console = _show("pair scores", result.log_id, _match_table(result, names))
    faceless = _faceless(result, len(photos))
    if faceless:
        console.print(f"no face found in: {', '.join(names[i] for i in faceless)}")


@app.command()
def verify(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user to compare with.")],
    photos: Photos,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only if the user is in this group."),
    ] = None,
    top_num: Annotated[
        int | None,
        typer.Option(
            "--top-num", help=f"How many scores {_range('VerifyRequest', 'top_num')}."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Score how well photos match one user (80 and up: verified)."""
    result = _call(
        ctx,
        lambda c: c.verify_user(uid, photos, top_num=top_num, group_id=group or None),
    )

    if as_json:
        _print_json(result)
        return
    _show(f"verify {uid}", result.log_id, _verify_table(result, uid))


@app.command()
def identify(
    ctx: typer.Context,
    group: Annotated[
        str, typer.Argument(help="The group to search (several: joined by commas).")
    ],
    photos: Photos,
    user_top_num: Annotated[
        int | None,
        typer.Option(
            "--user-top-num",
            help=f"How many users {_range('IdentifyRequest', 'user_top_num')}.",
        ),
    ] = None,
    face_top_num: Annotated[
        int | None,
        typer.Option(
            "--face-top-num",
            help="How many scores per user "
            f"{_range('IdentifyRequest', 'face_top_num')}.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Find the users of a group most like the face in a photo."""
    result = _call(
        ctx,
        lambda c: c.identify_user(
            group, photos, user_top_num=user_top_num, face_top_num=face_top_num
        ),
    )

    if as_json:
        _print_json(result)
        return
    console = _show(f"identify in {group}", result.log_id, _identify_table(result))
    best = _best_identified(result)
    if best is None or best[1] < VERIFIED_SCORE:
        console.print(f"not identified: nobody in {group} scores {VERIFIED_SCORE}+")
    else:
        console.print(f"identified: {best[0]} ({best[1]:.2f})")


def _done(result: Any, as_json: bool, message: str) -> None:
    if as_json:
        _print_json(result)
    else:
        _console().print(f"{message} (log_id {result.log_id})")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id: letters, digits, _.")],
    photos: Photos,
    group: Annotated[
        list[str],
        typer.Option("--group", help="The group to put the user in (repeatable)."),
    ],
    info: Annotated[
        str | None,
        typer.Option("--info", help="user_info kept with the user (default: uid)."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Register a user's faces (up to 5 photos) in one or more groups.

    An existing user gets the faces added and joins the groups.
    """
    user_info = uid if info is None else info
    result = _call(ctx, lambda c: c.add_user(uid, user_info, group, photos))
    _done(
        result, as_json, f"added {len(photos)} face(s) to {uid} in {', '.join(group)}"
    )


@user_app.command("update")
def user_update(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    photos: Photos,
    info: Annotated[str | None, typer.Option("--info", help="New user_info.")] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only if the user is in this group."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Replace all faces of an existing user with these photos."""
    result = _call(
        ctx,
        lambda c: c.update_user(uid, photos, user_info=info, group_id=group or None),
    )
    _done(result, as_json, f"replaced the faces of {uid} with {len(photos)}")


@user_app.command("get")
def user_get(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    as_json: AsJson = False,
) -> None:
    """Show a user's information and groups."""
    result = _call(ctx, lambda c: c.get_user(uid))

    if as_json:
        _print_json(result)
        return
    record = result.result
    table = Table("uid", "user_info", "groups")
    _add_row(table, record.uid, record.user_info, ", ".join(record.groups))
    _show(f"user {record.uid}", result.log_id, table)


@user_app.command("delete")
def user_delete(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="The user id.")],
    as_json: AsJson = False,
) -> None:
    """Delete a user with its faces, from every group."""
    result = _call(ctx, lambda c: c.delete_user(uid))
    _done(result, as_json, f"deleted {uid}")


@group_app.command("list")
def group_list(
    ctx: typer.Context, start: Start = None, num: Num = None, as_json: AsJson = False
) -> None:
    """List the groups, a page at a time."""
    result = _call(ctx, lambda c: c.get_group_list(start=start, num=num))

    if as_json:
        _print_json(result)
        return
    table = Table("group")
    for group_id in result.result:
        _add_row(table, group_id)
    _show(f"{result.result_num} group(s)", result.log_id, table)


@group_app.command("users")
def group_users(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group id.")],
    start: Start = None,
    num: Num = None,
    as_json: AsJson = False,
) -> None:
    """List the users of a group, a page at a time."""
    result = _call(ctx, lambda c: c.get_group_users(group, start=start, num=num))

    if as_json:
        _print_json(result)
        return
    table = Table("uid", "user_info")
    for member in result.result:
        _add_row(table, member.uid, member.user_info)
    _show(f"{result.result_num} user(s) in {group}", result.log_id, table)


@group_app.command("add-user")
def group_add_user(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group(s), joined by commas.")],
    uid: Annotated[str, typer.Argument(help="An existing user.")],
    src_group: Annotated[
        str | None,
        typer.Option("--src-group", help="Only if the user is in this group."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Put an existing user into more groups."""
    result = _call(ctx, lambda c: c.add_group_user(group, uid, src_group_id=src_group))
    _done(result, as_json, f"added {uid} to {group}")


@group_app.command("remove-user")
def group_remove_user(
    ctx: typer.Context,
    group: Annotated[str, typer.Argument(help="The group id.")],
    uid: Annotated[str, typer.Argument(help="The user.")],
    as_json: AsJson = False,
) -> None:
    """Take a user out of one group (not its last one)."""
    result = _call(ctx, lambda c: c.delete_group_user(group, uid))
    _done(result, as_json, f"removed {uid} from {group}")


# -- enroll --------------------------------------------------------------------

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
    rule = _spec.string_rule("Uid")
    kinds = rule.problems(uid)
    if not kinds:
        return ""
    codes = [rule.sdk_codes.get(kind, kind) for kind in kinds]
    described = "; ".join(
        f"{code} {_spec.error_codes()[code].meaning}"
        if code in _spec.error_codes()
        else code
        for code in codes
    )
    return f"not a valid uid: {described}"


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
        (reported,) = self._report([outcome])
        return reported


def _reason(error: FaceKitError) -> str:
    if isinstance(error, APIError):
        meaning = f" ({error.meaning.rstrip('.')})" if error.meaning else ""
        return f"{error.error_code} {error.error_msg}{meaning}"
    return redact(str(error))


def _first_leaf(grouped: BaseExceptionGroup[BaseException]) -> BaseException:
    first = grouped.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


def _counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    return {
        status: sum(o.status == status for o in outcomes) for status in _STATUS_TEXT
    }


@app.command()
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
        if _spec.string_rule("GroupId").problems(group):
            # Checked once here: the facade would refuse it for every photo.
            raise _UsageProblem(
                f"--group {group!r} is not a group id (letters, digits, _)"
            )
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
        _print_enroll_summary(folder, group, plan, outcomes, elapsed)
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
    elapsed: float,
) -> None:
    counts = _counts(outcomes)
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


# -- serve ---------------------------------------------------------------------


def parse_injections(values: Sequence[str]) -> dict[int, float]:
    """``["18:0.2", "216300=0.01"]`` as ``{18: 0.2, 216300: 0.01}``.

    Codes must be numeric codes of the spec, rates between 0 and 1, their sum
    at most 1 (one draw per call decides which error, if any).
    """
    rates: dict[int, float] = {}
    for text in values:
        separator = ":" if ":" in text else "="
        code_text, found, rate_text = text.partition(separator)
        try:
            if not found:
                raise ValueError
            code, rate = int(code_text), float(rate_text)
        except ValueError:
            raise typer.BadParameter(
                f"{text!r} is not CODE:RATE (for example 18:0.2)",
                param_hint="'--inject'",
            ) from None
        if code not in _spec.error_codes():
            raise typer.BadParameter(
                f"{code} is not an error code of the spec", param_hint="'--inject'"
            )
        if not 0.0 <= rate <= 1.0:
            raise typer.BadParameter(
                f"the rate of {code} must be between 0 and 1", param_hint="'--inject'"
            )
        rates[code] = rate
    if sum(rates.values()) > 1.0:
        raise typer.BadParameter(
            "the rates add up to more than 1", param_hint="'--inject'"
        )
    return rates


def _local_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = 8000,
    db: Annotated[
        Path,
        typer.Option("--db", dir_okay=False, help="The face library's SQLite file."),
    ] = Path("facekit.db"),
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="The API key the server accepts.")
    ] = None,
    secret_key: Annotated[
        str | None, typer.Option("--secret-key", help="Its secret key.")
    ] = None,
    inject: Annotated[
        list[str] | None,
        typer.Option(
            "--inject",
            metavar="CODE:RATE",
            help="Answer that share of calls with that error code, e.g. 18:0.2 "
            "(repeatable).",
        ),
    ] = None,
    inject_seed: Annotated[
        int | None, typer.Option("--inject-seed", help="Seed of the injected faults.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Threads for model work (cores, ≤4)."),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn's log level.")
    ] = "info",
) -> None:
    """Run the local face server: the same API, offline, with real models.

    Without --api-key/--secret-key it makes a development key pair and
    prints it, ready to export for the other commands.
    """
    rates = parse_injections(inject or [])
    if (api_key is None) != (secret_key is None):
        raise typer.BadParameter("give both --api-key and --secret-key, or neither")

    from facekit.server import _runner
    from facekit.server.engine import EngineUnavailable
    from facekit.server.errors import ApiError

    if api_key is None or secret_key is None:
        api_key, secret_key = _runner.make_key_pair()
        url = _local_url(host, port) if port else "<the URL printed below>"
        print("no key pair given; this run accepts a development pair:")
        print(f"  export {ENV_BASE_URL}={url}")
        print(f"  export {ENV_API_KEY}={api_key}")
        print(f"  export {ENV_SECRET_KEY}={secret_key}", flush=True)

    try:
        _runner.serve(
            host,
            port,
            db,
            api_key,
            secret_key,
            rates or None,
            inject_seed=inject_seed,
            workers=workers,
            log_level=log_level,
        )
    except OSError as error:
        _fail(f"cannot serve on {host}:{port} with {db}: {error}")
    except EngineUnavailable as error:
        _fail(f"the face models cannot be loaded: {error}")
    except ApiError as error:
        _fail(f"the face library {db} cannot be used: {error}")


# -- demo ----------------------------------------------------------------------


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


@app.command()
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
        asyncio.run(_demo(console, out))
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


async def _demo(console: Console, out: Path) -> None:
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


if __name__ == "__main__":
    main()
