"""spec/face-v2.yaml: valid, complete against the reference document, and
the source of the committed generated client."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _facade
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_openapi

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_478f6b59aee8b028.txt"

FACE_PATHS = {
    "/rest/2.0/face/v2/detect": "detect",
    "/rest/2.0/face/v2/match": "match",
    "/rest/2.0/face/v2/faceset/user/add": "addUser",
    "/rest/2.0/face/v2/faceset/user/update": "updateUser",
    "/rest/2.0/face/v2/faceset/user/delete": "deleteUser",
    "/rest/2.0/face/v2/verify": "verifyUser",
    "/rest/2.0/face/v2/identify": "identifyUser",
    "/rest/2.0/face/v2/faceset/user/get": "getUser",
    "/rest/2.0/face/v2/faceset/group/getlist": "getGroupList",
    "/rest/2.0/face/v2/faceset/group/getusers": "getGroupUsers",
    "/rest/2.0/face/v2/faceset/group/adduser": "addGroupUser",
    "/rest/2.0/face/v2/faceset/group/deleteuser": "deleteGroupUser",
}
GENERAL_CODES = {1, 2, 3, 4, 6, 13, 14, 15, 17, 18, 19, 100, 110, 111, 282000}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """spec/face-v2.yaml as PyYAML reads it (not through facekit._spec)."""
    return dict(_facade.spec())


def examples_of(media: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    if "example" in media:
        yield "example", media["example"]
    for name, example in media.get("examples", {}).items():
        yield name, example["value"]


def all_examples(spec: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    """(where, schema, example) for every request and response example."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {})
            for mime, media in body.get("content", {}).items():
                for name, value in examples_of(media):
                    yield f"{method} {path} request {mime} {name}", media, value
            for status, response in operation["responses"].items():
                response = _facade.inline(response)
                for mime, media in response.get("content", {}).items():
                    for name, value in examples_of(media):
                        where = f"{method} {path} {status} {mime} {name}"
                        yield where, media, value


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate_openapi(spec)


def test_every_operation_of_the_reference_document_is_described(
    spec: dict[str, Any],
) -> None:
    seed_methods = set(re.findall(r"\baip(?:Face)?\.(\w+)\(", SEED.read_text("utf-8")))
    operation_ids = {
        op["operationId"] for item in spec["paths"].values() for op in item.values()
    }

    assert seed_methods == set(FACE_PATHS.values())
    assert seed_methods <= operation_ids
    for path, operation_id in FACE_PATHS.items():
        assert spec["paths"][path]["post"]["operationId"] == operation_id
    assert spec["paths"]["/oauth/2.0/token"]["get"]["operationId"] == "getAccessToken"


def test_every_face_operation_answers_200_with_the_error_schema_first(
    spec: dict[str, Any],
) -> None:
    for path in FACE_PATHS:
        operation = spec["paths"][path]["post"]
        response = _facade.inline(operation["responses"])

        assert set(response) == {"200"}, path
        union = response["200"]["content"]["application/json"]["schema"]["oneOf"]
        assert union[0]["required"] == ["error_code", "error_msg"], path
        success = union[1]
        assert success["additionalProperties"] is False, path
        assert "error_code" not in success["properties"], path
        assert "x-www-form-urlencoded" in next(
            iter(operation["requestBody"]["content"])
        )


def test_every_example_validates_against_its_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for where, media, value in all_examples(spec):
        schema = _facade.inline(media["schema"])
        errors = [e.message for e in OAS30Validator(schema).iter_errors(value)]
        assert not errors, f"{where}: {errors}"
        checked += 1

    operations = sum(len(item) for item in spec["paths"].values())
    assert checked >= 2 * operations


def test_every_operation_has_request_and_response_examples(
    spec: dict[str, Any],
) -> None:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = _facade.inline(operation["responses"])
            success = responses["200"]["content"]["application/json"]
            assert list(examples_of(success)), f"{method} {path}: no response example"
            if "requestBody" in operation:
                media = next(iter(operation["requestBody"]["content"].values()))
                assert list(examples_of(media)), f"{method} {path}: no request example"


def test_error_examples_use_codes_of_the_table(spec: dict[str, Any]) -> None:
    codes = {row["code"] for row in spec["x-error-codes"]}
    for where, _media, value in all_examples(spec):
        if isinstance(value, dict) and "error_code" in value:
            assert value["error_code"] in codes, where


def test_every_error_code_is_listed_once_with_message_meaning_and_retry(
    spec: dict[str, Any],
) -> None:
    rows = spec["x-error-codes"]
    codes = [row["code"] for row in rows]
    seed = SEED.read_text("utf-8")
    seed_codes: set[int | str] = set(re.findall(r"\|\s*(SDK1\d\d)\s*\|", seed))
    seed_codes |= {int(c) for c in re.findall(r"\b(216\d{3})\b", seed)}

    assert len(codes) == len(set(codes))
    assert seed_codes <= set(codes)
    assert {216612, 216619, 216203} | GENERAL_CODES <= set(codes)
    for row in rows:
        assert row["message"] and row["meaning"], row
        assert isinstance(row["retryable"], bool), row
    retryable = {row["code"] for row in rows if row["retryable"]}
    assert {1, 2, 4, 18} <= retryable
    assert not {17, 19, 110, 111} & retryable


def test_limits_are_constraints(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]

    assert schemas["Uid"]["pattern"] == "^[A-Za-z0-9_]{1,128}$"
    assert schemas["Uid"]["x-max-bytes"] == 128
    assert schemas["GroupId"]["x-max-bytes"] == 128
    assert schemas["GroupIdList"]["x-comma-list-of"] == "GroupId"
    assert schemas["UserInfo"]["x-max-bytes"] == 256
    assert schemas["PageNum"]["maximum"] == 1000
    assert spec["x-library-rules"]["max_faces_per_user"] == 5
    assert spec["x-library-rules"]["verified_score"] == 80
    caps = {
        op: rule["max_total_base64_length"]
        for op, rule in spec["x-image-rules"]["operations"].items()
    }
    assert caps.pop("updateUser") == 20 * 1024 * 1024
    assert set(caps.values()) == {10 * 1024 * 1024}


def run_check(root: Path, *, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("hash_seed", ["0", "4242"])
def test_committed_client_is_fresh_whatever_the_hash_seed(hash_seed: str) -> None:
    result = run_check(ROOT, hash_seed=hash_seed)

    assert result.returncode == 0, result.stdout + result.stderr


def copy_project(tmp_path: Path) -> Path:
    for folder in ("spec", "scripts", "generated"):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return tmp_path


def test_check_fails_after_a_hand_edit_of_generated(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    edited = root / "generated" / "face_v2_client" / "models" / "error.py"
    edited.write_text(edited.read_text() + "\n# edited by hand\n")

    result = run_check(root)

    assert result.returncode == 1
    assert "changed: models/error.py" in result.stdout


def test_check_fails_after_a_change_of_the_spec(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    spec_file = root / "spec" / "face-v2.yaml"
    spec_file.write_text(
        spec_file.read_text().replace(
            "summary: Take a user out of one group", "summary: Remove a user"
        )
    )

    result = run_check(root)

    assert result.returncode == 1
    assert "delete_group_user.py" in result.stdout
