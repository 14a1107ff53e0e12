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

The package: this module holds the app, the global options and the turning
of failures into one line; the commands live in ``_operations`` (detect,
match, verify, identify, user, group), ``_enroll``, ``_serve`` and ``_demo``,
printing through ``_output`` and drawing through ``_draw``.  They import from
here, so they are imported, and registered on ``app``, at the end.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Final, NoReturn

import typer

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

__all__ = [
    "BOX_COLOUR",
    "LANDMARK_COLOUR",
    "MAX_FACES_PER_USER",
    "app",
    "main",
    "parse_injections",
    "plan_enrollment",
]

EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

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


# -- configuration and failures ------------------------------------------------


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


# -- the commands --------------------------------------------------------------
# Last: their modules import the names above from this package.

from facekit.cli._demo import demo  # noqa: E402
from facekit.cli._draw import BOX_COLOUR, LANDMARK_COLOUR  # noqa: E402
from facekit.cli._enroll import MAX_FACES_PER_USER, enroll, plan_enrollment  # noqa: E402
from facekit.cli._operations import (  # noqa: E402
    detect,
    group_add_user,
    group_list,
    group_remove_user,
    group_users,
    identify,
    match,
    user_add,
    user_delete,
    user_get,
    user_update,
    verify,
)
from facekit.cli._serve import parse_injections, serve  # noqa: E402

# In the order `facekit --help` lists them (typer puts `user` and `group` last).
app.command()(detect)
app.command()(match)
app.command()(verify)
app.command()(identify)
app.command()(enroll)
app.command()(serve)
app.command()(demo)

user_app.command("add")(user_add)
user_app.command("update")(user_update)
user_app.command("get")(user_get)
user_app.command("delete")(user_delete)

group_app.command("list")(group_list)
group_app.command("users")(group_users)
group_app.command("add-user")(group_add_user)
group_app.command("remove-user")(group_remove_user)
