"""The API document, read once, as the facade and the local server need it.

``spec/face-v2.yaml`` is the single source of truth for limits and error
codes.  This module reads it (from the installed package, or from the
repository in a development install) and exposes typed views of the parts
code acts on:

* :func:`error_codes` - the ``x-error-codes`` table;
* :func:`image_rule` - the ``x-image-rules`` of one operation;
* :func:`string_rule` - pattern, byte and length limits of a string schema;
* :func:`integer_rule` - the range and default of an integer field;
* :func:`request_fields` - the form fields an operation declares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import yaml

__all__ = [
    "ErrorCode",
    "ImageRule",
    "IntegerRule",
    "StringRule",
    "error_codes",
    "image_formats",
    "image_rule",
    "integer_rule",
    "library_rules",
    "load",
    "max_body_bytes",
    "max_pixels",
    "request_fields",
    "spec_path",
    "string_rule",
]

ErrorKind = Literal[
    "client",
    "timeout",
    "auth",
    "permission",
    "rate_limit",
    "invalid",
    "bad_image",
    "not_found",
    "conflict",
    "service",
]

_PACKAGED = Path(__file__).resolve().parent / "data" / "face-v2.yaml"
_REPOSITORY = Path(__file__).resolve().parents[1] / "spec" / "face-v2.yaml"


def spec_path() -> Path:
    """Where the API document is: inside the wheel, or in the repository."""
    for candidate in (_PACKAGED, _REPOSITORY):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "spec/face-v2.yaml is missing from this installation of facekit"
    )


@cache
def load() -> Mapping[str, Any]:
    """The whole document as parsed YAML (cached; treat it as read-only)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path().open("rb") as stream:
        document = yaml.load(stream, Loader=loader)
    return cast(Mapping[str, Any], document)


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of ``x-error-codes``."""

    code: int | str
    message: str
    meaning: str
    kind: ErrorKind
    retryable: bool


@cache
def error_codes() -> Mapping[int | str, ErrorCode]:
    """Every error code of the API and the SDK, keyed by its code."""
    table: dict[int | str, ErrorCode] = {}
    for row in load()["x-error-codes"]:
        entry = ErrorCode(
            code=row["code"],
            message=row["message"],
            meaning=row["meaning"],
            kind=row["kind"],
            retryable=bool(row["retryable"]),
        )
        if entry.code in table:
            raise ValueError(f"error code {entry.code} is listed twice in the spec")
        table[entry.code] = entry
    return table


@dataclass(frozen=True, slots=True)
class ImageRule:
    """How many images an operation takes, in which fields, and their cap."""

    operation: str
    fields: tuple[str, ...]
    min_images: int
    max_images: int | None
    max_total_base64_length: int


@cache
def image_rule(operation: str) -> ImageRule:
    """The image rule of an operation id (``detect``, ``addUser``, ...)."""
    row = load()["x-image-rules"]["operations"][operation]
    return ImageRule(
        operation=operation,
        fields=tuple(row["fields"]),
        min_images=int(row["min_images"]),
        max_images=None if row["max_images"] is None else int(row["max_images"]),
        max_total_base64_length=int(row["max_total_base64_length"]),
    )


@cache
def image_formats() -> Mapping[str, tuple[bytes, ...]]:
    """Accepted image formats and the magic bytes that identify each."""
    formats = load()["x-image-rules"]["formats"]
    return {
        name: tuple(bytes.fromhex(prefix) for prefix in prefixes)
        for name, prefixes in formats.items()
    }


def max_body_bytes() -> int:
    """The longest request body the server reads."""
    return int(load()["x-image-rules"]["max_body_bytes"])


def max_pixels() -> int:
    """The most pixels an image may have; checked from its header."""
    return int(load()["x-image-rules"]["max_pixels"])


def library_rules() -> Mapping[str, int]:
    """Rules of the face library (``max_faces_per_user``, ``verified_score``)."""
    return cast(Mapping[str, int], load()["x-library-rules"])


def _schema(name: str) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], load()["components"]["schemas"][name])


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = _schema(node["$ref"].rsplit("/", 1)[-1])
    return node


@dataclass(frozen=True, slots=True)
class StringRule:
    """The limits of one string schema.

    ``pattern`` is compiled for :meth:`re.Pattern.fullmatch` with ASCII
    semantics, so neither a trailing newline nor a non-ASCII letter slips
    through as they do with ``re.match(r"^\\w+$")``.  For a comma list
    (``x-comma-list-of``) the item rule is in ``item``.
    """

    name: str
    pattern: re.Pattern[str] | None
    min_length: int
    max_length: int | None
    max_bytes: int | None
    sdk_codes: Mapping[str, str]
    item: StringRule | None = None
    allowed_items: frozenset[str] | None = None

    def problems(self, value: str) -> list[str]:
        """The kinds of problem (``"format"``, ``"size"``) of one value."""
        if self.item is not None:
            parts = value.split(",")
            found: list[str] = []
            for part in parts:
                found.extend(k for k in self.item.problems(part) if k not in found)
            return found
        found = []
        if len(value) < self.min_length or self.too_long(value):
            found.append("size")
        if self.allowed_items is not None:
            if any(part not in self.allowed_items for part in value.split(",")):
                found.append("format")
        elif self.pattern is not None and not self._pattern_ok(value):
            found.append("format")
        return found

    def too_long(self, value: str) -> bool:
        """Whether ``value`` (or, for a comma list, one item) is over a limit."""
        if self.item is not None:
            return any(self.item.too_long(part) for part in value.split(","))
        return (self.max_length is not None and len(value) > self.max_length) or (
            self.max_bytes is not None and len(value.encode("utf-8")) > self.max_bytes
        )

    def _pattern_ok(self, value: str) -> bool:
        # The spec's patterns carry their own length bounds ({1,128}); a
        # value that is only too long must be reported as "size", not as
        # "format", so the charset is checked on its own here.
        assert self.pattern is not None
        charset = re.sub(r"\{\d+,\d+\}", "+", self.pattern.pattern)
        return re.fullmatch(charset, value, flags=re.ASCII) is not None


@cache
def string_rule(name: str) -> StringRule:
    """The rule of the string schema ``name`` of ``components/schemas``."""
    schema = _schema(name)
    item_name = schema.get("x-comma-list-of")
    allowed = schema.get("x-comma-list-enum")
    pattern = schema.get("pattern")
    return StringRule(
        name=name,
        pattern=re.compile(pattern.strip("^$"), re.ASCII) if pattern else None,
        min_length=int(schema.get("minLength", 0)),
        max_length=schema.get("maxLength"),
        max_bytes=schema.get("x-max-bytes"),
        sdk_codes=schema.get("x-sdk-codes", {}),
        item=string_rule(item_name) if item_name else None,
        allowed_items=frozenset(allowed) if allowed else None,
    )


@dataclass(frozen=True, slots=True)
class IntegerRule:
    """The range and default of one integer field."""

    minimum: int | None
    maximum: int | None
    default: int | None
    sdk_code: str

    def accepts(self, value: int) -> bool:
        return (self.minimum is None or value >= self.minimum) and (
            self.maximum is None or value <= self.maximum
        )


@cache
def integer_rule(request_schema: str, field: str) -> IntegerRule:
    """The rule of ``field`` in the request schema ``request_schema``."""
    node = _resolve(_schema(request_schema)["properties"][field])
    return IntegerRule(
        minimum=node.get("minimum"),
        maximum=node.get("maximum"),
        default=node.get("default"),
        sdk_code=str(node["x-sdk-codes"]["range"]),
    )


@cache
def request_fields(request_schema: str) -> Mapping[str, Mapping[str, Any]]:
    """The declared form fields of a request schema, each resolved."""
    schema = _schema(request_schema)
    return {name: _resolve(node) for name, node in schema.get("properties", {}).items()}
