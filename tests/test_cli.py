"""The ``facekit`` command line, end to end against the local face server.

Commands run in-process through typer's ``CliRunner`` against the server of
``face_server_http`` on a loopback port, passing ``--base-url``,
``--api-key`` and ``--secret-key`` as a user would.  ``--json`` outputs are
checked against the spec's success schemas; pictures are decoded and their
boxes counted by colour.  The demo and ``serve`` also run once each as real
processes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import typer
from _facade import inline, operation, spec
from openapi_schema_validator import OAS30Validator
from typer.testing import CliRunner, Result

from facekit import FaceClient, cli
from facekit.cli import _demo
from facekit.server.testing import FaceServer, face_server_http  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
ENV_NAMES = ("FACEKIT_BASE_URL", "FACEKIT_API_KEY", "FACEKIT_SECRET_KEY")
VERIFIED = 80
# A child process must find facekit and the generated client the same way.
CHILD_ENV = {key: value for key, value in os.environ.items() if key not in ENV_NAMES}


# -- helpers -------------------------------------------------------------------


@pytest.fixture
def server(face_server_http: FaceServer) -> FaceServer:  # noqa: F811
    """The local face server on a loopback port."""
    return face_server_http


def invoke(*args: str | Path) -> Result:
    """Run ``facekit ARGS`` in-process, with no FACEKIT_* variables set."""
    runner = CliRunner()
    return runner.invoke(
        cli.app,
        [str(arg) for arg in args],
        env=dict.fromkeys(ENV_NAMES),
        prog_name="facekit",
    )


def against(server: FaceServer, *args: str | Path) -> Result:
    """``facekit --base-url ... --api-key ... --secret-key ... ARGS``."""
    return invoke(
        "--base-url",
        server.base_url,
        "--api-key",
        server.api_key,
        "--secret-key",
        server.secret_key,
        *args,
    )


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Result) -> str:
    """The one line an expected failure prints; nothing else, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("facekit: ")
    return lines[0]


def success_schema(operation_id: str) -> dict[str, Any]:
    """The success half of an operation's ``oneOf: [Error, Success]``."""
    response = inline(operation(operation_id)["responses"]["200"])
    union = response["content"]["application/json"]["schema"]["oneOf"]
    assert "error_code" in union[0]["required"]
    schema: dict[str, Any] = union[1]
    return schema


def assert_conforms(document: Any, operation_id: str) -> None:
    validator = OAS30Validator(success_schema(operation_id))
    errors = [error.message for error in validator.iter_errors(document)]
    assert not errors, f"{operation_id}: {errors}"


def components(mask: npt.NDArray[np.bool_]) -> int:
    """Connected regions of a mask, ignoring specks of a few pixels."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    return sum(1 for row in stats[1:] if row[cv2.CC_STAT_AREA] >= 4)


def drawn_in(colour: tuple[int, int, int], before: Any, after: Any) -> int:
    """How many shapes of ``colour`` the drawing added to the photograph."""
    target = np.array(colour, dtype=np.uint8)
    added = np.all(after == target, axis=-1) & ~np.all(before == target, axis=-1)
    return components(added)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- help and startup ----------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = invoke("--help")

    assert result.exit_code == 0
    for command in ("demo", "serve", "detect", "match", "verify", "identify"):
        assert command in result.stdout
    for command in ("enroll", "user", "group"):
        assert command in result.stdout


def test_help_gives_the_numbers_of_the_spec() -> None:
    rules = spec()["x-library-rules"]
    verified, most = rules["verified_score"], rules["max_faces_per_user"]
    expected = {
        "match": f"({verified} and up: same person)",
        "verify": f"({verified} and up: verified)",
        "user add": f"(up to {most} photos)",
    }

    for command, text in expected.items():
        result = invoke(*command.split(), "--help")
        assert result.exit_code == 0, result.output
        assert text in " ".join(result.stdout.split()), command


def test_importing_the_cli_leaves_the_heavy_modules_alone() -> None:
    code = (
        "import sys, facekit.cli\n"
        "heavy = ['cv2', 'numpy', 'facekit.server', 'uvicorn', 'pytest']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=CHILD_ENV,
        timeout=60,
        check=True,
    )

    assert done.stdout.strip() == ""


# -- the face operations, --json against the spec --------------------------------


def test_detect_json_conforms_and_draw_boxes_each_face(
    server: FaceServer, faces_dir: Path, tmp_path: Path
) -> None:
    photo = faces_dir / "einstein-1.jpg"
    picture = tmp_path / "drawn.png"

    result = against(
        server,
        "detect",
        photo,
        "--max-face-num",
        "5",
        "--fields",
        "landmark",
        "--json",
        "--draw",
        picture,
    )

    document = ok_json(result)
    assert_conforms(document, "detect")
    assert document["result_num"] == 2
    assert all(len(face["landmark"]) == 4 for face in document["result"])

    before = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    after = cv2.imread(str(picture), cv2.IMREAD_COLOR)
    assert after is not None
    assert after.shape == before.shape
    assert not np.array_equal(after, before)
    assert drawn_in(cli.BOX_COLOUR, before, after) == 2
    assert drawn_in(cli.LANDMARK_COLOUR, before, after) == 2 * 4


def test_detect_tables_by_default_and_draws_boxes_without_landmarks(
    server: FaceServer, faces_dir: Path, tmp_path: Path
) -> None:
    photo = faces_dir / "obama-1.jpg"
    picture = tmp_path / "one.png"

    result = against(server, "detect", photo, "--fields", "age", "--draw", picture)

    assert result.exit_code == 0, result.output
    assert "1 face(s) in obama-1.jpg" in result.stdout
    # The local server computes no age, and the CLI says so.
    assert "not returned: age" in result.stdout
    before = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    after = cv2.imread(str(picture), cv2.IMREAD_COLOR)
    assert drawn_in(cli.BOX_COLOUR, before, after) == 1
    assert drawn_in(cli.LANDMARK_COLOUR, before, after) == 0


def test_draw_refuses_a_picture_format_it_cannot_write(
    server: FaceServer, faces_dir: Path, tmp_path: Path
) -> None:
    result = against(
        server, "detect", faces_dir / "obama-1.jpg", "--draw", tmp_path / "x.gif"
    )

    assert result.exit_code == 2
    assert not (tmp_path / "x.gif").exists()


def test_match_json_conforms_and_scores_the_same_person_high(
    server: FaceServer, faces_dir: Path
) -> None:
    photos = [
        faces_dir / name for name in ("obama-1.jpg", "obama-2.jpg", "biden-1.jpg")
    ]

    document = ok_json(against(server, "match", *photos, "--json"))

    assert_conforms(document, "match")
    scores = {(p["index_i"], p["index_j"]): p["score"] for p in document["result"]}
    assert scores[0, 1] >= VERIFIED
    assert scores[0, 2] < VERIFIED
    assert scores[1, 2] < VERIFIED


def test_match_needs_two_photos(server: FaceServer, faces_dir: Path) -> None:
    result = against(server, "match", faces_dir / "obama-1.jpg")

    assert result.exit_code == 2


def test_the_face_library_commands(server: FaceServer, faces_dir: Path) -> None:
    add = against(
        server,
        "user",
        "add",
        "obama",
        faces_dir / "obama-1.jpg",
        "--group",
        "people",
        "--info",
        "Barack [Obama]",
        "--json",
    )
    assert_conforms(ok_json(add), "addUser")
    assert (
        against(
            server,
            "user",
            "add",
            "biden",
            faces_dir / "biden-1.jpg",
            "--group",
            "people",
        ).exit_code
        == 0
    )

    user = ok_json(against(server, "user", "get", "obama", "--json"))
    assert_conforms(user, "getUser")
    assert user["result"] == {
        "uid": "obama",
        "user_info": "Barack [Obama]",
        "groups": ["people"],
    }
    shown = against(server, "user", "get", "obama")
    assert "Barack [Obama]" in shown.stdout  # brackets are text, not markup

    identified = ok_json(
        against(server, "identify", "people", faces_dir / "obama-2.jpg", "--json")
    )
    assert_conforms(identified, "identifyUser")
    assert identified["result"][0]["uid"] == "obama"
    assert max(identified["result"][0]["scores"]) >= VERIFIED
    stranger = against(server, "identify", "people", faces_dir / "collins-1.jpg")
    assert "not identified" in stranger.stdout

    verified = ok_json(
        against(server, "verify", "obama", faces_dir / "obama-3.jpg", "--json")
    )
    assert_conforms(verified, "verifyUser")
    assert verified["result"][0] >= VERIFIED

    groups = ok_json(against(server, "group", "list", "--json"))
    assert_conforms(groups, "getGroupList")
    assert groups["result"] == ["people"]

    assert against(server, "group", "add-user", "friends", "obama").exit_code == 0
    members = ok_json(against(server, "group", "users", "friends", "--json"))
    assert_conforms(members, "getGroupUsers")
    assert [m["uid"] for m in members["result"]] == ["obama"]
    removed = against(server, "group", "remove-user", "people", "obama", "--json")
    assert_conforms(ok_json(removed), "deleteGroupUser")
    regrouped = ok_json(against(server, "user", "get", "obama", "--json"))
    assert regrouped["result"]["groups"] == ["friends"]

    updated = against(
        server, "user", "update", "obama", faces_dir / "obama-2.jpg", "--json"
    )
    assert_conforms(ok_json(updated), "updateUser")
    deleted = against(server, "user", "delete", "obama", "--json")
    assert_conforms(ok_json(deleted), "deleteUser")
    gone = against(server, "user", "get", "obama")
    assert gone.exit_code == 1
    assert "216612" in one_line_error(gone)


# -- enroll --------------------------------------------------------------------


@pytest.fixture
def people(faces_dir: Path, tmp_path: Path) -> Path:
    """A folder of the real photos, one user per folder or file, and mistakes."""
    folder = tmp_path / "people"
    (folder / "obama").mkdir(parents=True)
    for name in ("obama-1.jpg", "obama-2.jpg"):
        shutil.copy(faces_dir / name, folder / "obama" / name)
    (folder / "biden").mkdir()
    shutil.copy(faces_dir / "biden-1.jpg", folder / "biden" / "portrait.jpg")
    shutil.copy(faces_dir / "collins-1.jpg", folder / "collins.jpg")
    # A text file named like a photo: refused before sending, reported.
    (folder / "obama" / "notes.jpg").write_text("not a photo\n")
    # Not a uid (the spec allows letters, digits and _): reported, not sent.
    (folder / "not-a-uid").mkdir()
    shutil.copy(faces_dir / "obama-3.jpg", folder / "not-a-uid" / "x.jpg")
    (folder / "README.txt").write_text("ignored\n")
    return folder


def test_enroll_is_safe_to_run_again(server: FaceServer, people: Path) -> None:
    first = against(server, "enroll", people, "--group", "staff", "--json")

    assert first.exit_code == 1  # notes.jpg and not-a-uid were not enrolled
    summary = json.loads(first.stdout)
    assert summary["counts"] == {
        "enrolled": 4,
        "skipped": 0,
        "joined": 0,
        "failed": 1,
        "invalid": 1,
    }
    by_file = {o["file"]: o for o in summary["outcomes"]}
    assert by_file["obama/notes.jpg"]["status"] == "failed"
    assert "SDK109" in by_file["obama/notes.jpg"]["reason"]
    assert by_file["not-a-uid/x.jpg"]["status"] == "invalid"
    assert "SDK106" in by_file["not-a-uid/x.jpg"]["reason"]
    faces = server.store.face_count()
    users = {
        uid: ok_json(against(server, "user", "get", uid, "--json"))["result"]
        for uid in ("obama", "biden", "collins")
    }
    assert faces == 4

    again = against(server, "enroll", people, "--group", "staff")

    assert again.exit_code == 1
    assert "already enrolled (skipped)" in again.stdout
    counts = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in again.stdout.splitlines()
        if line.count("│") == 3
    }
    assert counts["enrolled"] == "0"
    assert counts["already enrolled (skipped)"] == "4"
    assert counts["failed"] == "1"
    assert "notes.jpg" in again.stdout
    assert "SDK109" in again.stdout
    # Nothing was duplicated: the same faces, the same users.
    assert server.store.face_count() == faces
    for uid, record in users.items():
        assert (
            ok_json(against(server, "user", "get", uid, "--json"))["result"] == record
        )


def test_enroll_into_another_group_joins_without_adding_faces(
    server: FaceServer, people: Path
) -> None:
    against(server, "enroll", people, "--group", "staff")
    faces = server.store.face_count()

    moved = against(server, "enroll", people, "--group", "alumni", "--json")

    summary = json.loads(moved.stdout)
    assert summary["counts"]["enrolled"] == 0
    assert summary["counts"]["skipped"] == 4
    assert summary["counts"]["joined"] == 3
    assert server.store.face_count() == faces
    members = ok_json(against(server, "group", "users", "alumni", "--json"))
    assert sorted(m["uid"] for m in members["result"]) == ["biden", "collins", "obama"]


def test_enroll_keeps_what_a_user_already_has_as_user_info(
    server: FaceServer, people: Path, faces_dir: Path
) -> None:
    against(
        server,
        "user",
        "add",
        "biden",
        faces_dir / "biden-1.jpg",
        "--group",
        "staff",
        "--info",
        "Joe Biden",
    )

    summary = json.loads(
        against(server, "enroll", people, "--group", "staff", "--json").stdout
    )

    assert summary["counts"]["enrolled"] == 3  # biden's photo was already held
    user = ok_json(against(server, "user", "get", "biden", "--json"))
    assert user["result"]["user_info"] == "Joe Biden"


def test_plan_reports_extra_photos_and_invalid_names(
    faces_dir: Path, tmp_path: Path
) -> None:
    crowd = tmp_path / "crowd"
    (crowd / "many").mkdir(parents=True)
    photos = sorted(faces_dir.glob("*.jpg"))
    assert len(photos) > cli.MAX_FACES_PER_USER
    for photo in photos:
        shutil.copy(photo, crowd / "many" / photo.name)
    shutil.copy(photos[0], crowd / "bad name.png")
    (crowd / ".hidden").mkdir()
    shutil.copy(photos[0], crowd / ".hidden" / "x.jpg")

    plan = cli.plan_enrollment(crowd)

    assert [p.name for p in plan.photos["many"]] == [
        p.name for p in photos[: cli.MAX_FACES_PER_USER]
    ]
    assert set(plan.photos) == {"many"}
    extras = [o for o in plan.refused if o.status == "failed"]
    assert [o.file for o in extras] == [
        f"many/{p.name}" for p in photos[cli.MAX_FACES_PER_USER :]
    ]
    assert all("at most 5" in o.reason for o in extras)
    (invalid,) = [o for o in plan.refused if o.status == "invalid"]
    assert invalid.uid == "bad name"


def test_enroll_with_a_bad_key_stops_at_once_with_one_line(
    server: FaceServer, people: Path
) -> None:
    result = invoke(
        "--base-url",
        server.base_url,
        "--api-key",
        server.api_key,
        "--secret-key",
        "wrong",
        "enroll",
        people,
        "--group",
        "staff",
    )

    assert result.exit_code == 1
    assert "FACEKIT_SECRET_KEY" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.output
    assert "not enrolled" not in result.stdout
    assert server.store.face_count() == 0


def test_enroll_refuses_a_bad_group_before_sending(
    server: FaceServer, people: Path
) -> None:
    result = against(server, "enroll", people, "--group", "no-dashes")

    assert result.exit_code == 2
    assert "--group" in one_line_error(result)
    assert server.store.face_count() == 0


# -- errors --------------------------------------------------------------------


def test_a_bad_key_is_one_line_without_the_secret(server: FaceServer) -> None:
    wrong = "not-the-secret-" + server.secret_key[::-1]

    result = invoke(
        "--base-url",
        server.base_url,
        "--api-key",
        server.api_key,
        "--secret-key",
        wrong,
        "user",
        "get",
        "someone",
    )

    assert result.exit_code == 1
    line = one_line_error(result)
    assert "FACEKIT_API_KEY/FACEKIT_SECRET_KEY" in line
    assert wrong not in result.output
    assert server.secret_key not in result.output


def test_verbose_logs_redact_every_credential(
    server: FaceServer, faces_dir: Path
) -> None:
    result = against(server, "--verbose", "detect", faces_dir / "obama-1.jpg")
    wrong = invoke(
        "--verbose",
        "--base-url",
        server.base_url,
        "--api-key",
        server.api_key,
        "--secret-key",
        "wrong-secret-value",
        "group",
        "list",
    )

    assert result.exit_code == 0, result.output
    assert "DEBUG" in result.stderr
    assert "access_token=***" in result.stderr
    assert "client_secret=***" in result.stderr
    for output in (result.output, wrong.output):
        assert server.secret_key not in output
        assert server.api_key not in output
    assert "wrong-secret-value" not in wrong.output
    assert wrong.exit_code == 1
    assert "Traceback" not in wrong.output


def test_a_server_that_is_not_there() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = invoke(
        "--base-url", url, "--api-key", "k", "--secret-key", "s", "group", "list"
    )

    assert result.exit_code == 1
    assert f"is the server at {url} running?" in one_line_error(result)


def test_arguments_the_spec_refuses_list_each_field(server: FaceServer) -> None:
    result = against(server, "group", "users", "bad-group!", "--num", "0")

    assert result.exit_code == 2
    line = one_line_error(result)
    assert "nothing was sent" in line
    assert "group_id SDK104" in line
    assert "num" in line


def test_no_key_pair_is_a_usage_error(faces_dir: Path) -> None:
    result = invoke("detect", faces_dir / "obama-1.jpg")

    assert result.exit_code == 2
    line = one_line_error(result)
    assert "FACEKIT_API_KEY" in line
    assert "--api-key" in line


def test_a_missing_photo_is_a_usage_error(server: FaceServer, tmp_path: Path) -> None:
    result = against(server, "detect", tmp_path / "nowhere.jpg")

    assert result.exit_code == 2
    assert "Traceback" not in result.output


# -- serve ---------------------------------------------------------------------


def test_parse_injections() -> None:
    assert cli.parse_injections([]) == {}
    assert cli.parse_injections(["18:0.2"]) == {18: 0.2}
    assert cli.parse_injections(["18=0.2", "216300:0.1"]) == {18: 0.2, 216300: 0.1}
    for bad in ("18", "x:0.2", "18:often", "999999:0.1", "18:1.5", "18:-0.1"):
        with pytest.raises(typer.BadParameter):
            cli.parse_injections([bad])
    with pytest.raises(typer.BadParameter, match="more than 1"):
        cli.parse_injections(["18:0.6", "4:0.6"])


class StubRunner:
    """Stands in for ``facekit.server._runner.serve``; records its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append((args, kwargs))


@pytest.fixture
def stub_runner(monkeypatch: pytest.MonkeyPatch) -> StubRunner:
    from facekit.server import _runner

    stub = StubRunner()
    monkeypatch.setattr(_runner, "serve", stub)
    return stub


def test_serve_passes_its_options_to_the_runner(
    stub_runner: StubRunner, tmp_path: Path
) -> None:
    result = invoke(
        "serve",
        "--host",
        "127.0.0.2",
        "--port",
        "9123",
        "--db",
        tmp_path / "faces.db",
        "--api-key",
        "key",
        "--secret-key",
        "secret",
        "--inject",
        "18:0.2",
        "--inject",
        "216300=0.05",
        "--inject-seed",
        "7",
    )

    assert result.exit_code == 0, result.output
    assert "development pair" not in result.stdout
    ((args, kwargs),) = stub_runner.calls
    assert args == (
        "127.0.0.2",
        9123,
        tmp_path / "faces.db",
        "key",
        "secret",
        {18: 0.2, 216300: 0.05},
    )
    assert kwargs["inject_seed"] == 7


def test_serve_without_keys_prints_the_development_pair_it_serves(
    stub_runner: StubRunner,
) -> None:
    result = invoke("serve", "--port", "8111")

    assert result.exit_code == 0, result.output
    exports = dict(
        line.strip().removeprefix("export ").split("=", 1)
        for line in result.stdout.splitlines()
        if line.strip().startswith("export ")
    )
    ((args, _),) = stub_runner.calls
    assert exports["FACEKIT_API_KEY"] == args[3]
    assert exports["FACEKIT_SECRET_KEY"] == args[4]
    assert exports["FACEKIT_BASE_URL"] == "http://127.0.0.1:8111"
    assert args[5] is None  # nothing injected


def test_serve_refuses_half_a_key_pair_and_bad_injections(
    stub_runner: StubRunner,
) -> None:
    assert invoke("serve", "--api-key", "key").exit_code == 2
    assert invoke("serve", "--inject", "18:2").exit_code == 2
    assert invoke("serve", "--inject", "nonsense").exit_code == 2
    assert stub_runner.calls == []


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``facekit serve --port 0`` as a process; yields its printed exports."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "facekit.cli", "serve", "--port", "0"),
            *("--db", str(tmp_path / "served.db"), "--log-level", "warning"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=CHILD_ENV,
    )
    try:
        assert process.stdout is not None
        exports: dict[str, str] = {}
        # Blocking reads: the server prints these lines, or exits and EOF ends it.
        for line in process.stdout:
            if line.strip().startswith("export "):
                name, value = line.strip().removeprefix("export ").split("=", 1)
                exports[name] = value
            if line.startswith("facekit: serving on "):
                exports["FACEKIT_BASE_URL"] = line.split()[-1]
                break
        assert "FACEKIT_BASE_URL" in exports, "the server did not start"
        yield exports
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


def test_serve_runs_a_server_the_development_pair_works_with(
    served: dict[str, str], faces_dir: Path
) -> None:
    with FaceClient(
        served["FACEKIT_API_KEY"],
        served["FACEKIT_SECRET_KEY"],
        base_url=served["FACEKIT_BASE_URL"],
    ) as client:
        detected = client.detect(faces_dir / "obama-1.jpg")

    assert detected.result_num == 1


# -- demo ----------------------------------------------------------------------

# Run as a child process whose imports refuse pytest: the demo runs where
# only facekit's own dependencies are installed.
_DEMO_WITHOUT_PYTEST = """
import sys

class RefusePytest:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pytest", "_pytest"):
            raise ImportError("the demo must not import " + name)
        return None

sys.meta_path.insert(0, RefusePytest())
from facekit.cli import main
sys.argv = ["facekit", "demo"]
main()
"""


def test_demo_passes_and_writes_its_picture(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _DEMO_WITHOUT_PYTEST],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=CHILD_ENV,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "all steps passed" in done.stdout
    for step in ("detect", "match", "enrol", "identify", "verify", "stranger"):
        assert step in done.stdout
    assert "not identified" in done.stdout
    picture = cv2.imread(str(tmp_path / "facekit-demo.png"), cv2.IMREAD_COLOR)
    assert picture is not None
    sample = cv2.imread(
        str(ROOT / "facekit" / "samples" / "einstein-1.jpg"), cv2.IMREAD_COLOR
    )
    assert drawn_in(cli.BOX_COLOUR, sample, picture) == 2


def test_a_demo_step_that_goes_wrong_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def wrong_identify(console: Any, out: Path) -> None:
        _demo._expect(False, "identify", "expected obama, got biden")

    monkeypatch.setattr(_demo, "_steps", wrong_identify)

    result = invoke("demo", "--out", tmp_path / "demo.png")

    assert result.exit_code == 1
    line = one_line_error(result)
    assert "step 'identify' went wrong: expected obama, got biden" in line
