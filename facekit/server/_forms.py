"""The face operations' form bodies, read and checked against the spec.

Everything here is derived from ``spec/face-v2.yaml`` through
:mod:`facekit._spec`: which paths exist, which form fields each operation
takes, their patterns, lengths, byte caps and ranges, which fields carry
images, how many and how much base64 text. Nothing is retyped.

The checks run before any image is decoded, and each failure is an
:class:`~facekit.server.errors.ApiError` with the spec's code:

==========  ===============================================================
216100      unknown field (request bodies forbid extra properties), a field
            sent twice that is not an array, a value of the wrong charset,
            pattern, enum or range, both ``image`` and ``images``, more
            images than the operation takes, a body that is not UTF-8
216101      a required field missing or empty, neither ``image`` nor
            ``images``
216103      a value longer than its ``maxLength`` / ``x-max-bytes``
216614      fewer images than the operation needs (match takes two)
216200      an empty image; 216203 text that is not base64; 216201 bytes
            that are not JPEG, PNG or BMP (magic bytes of the spec) or
            whose header cannot be read; 216202 too much base64 text for
            the operation, or more pixels than the engine decodes
==========  ===============================================================

The module knows nothing of Starlette: it takes the body's bytes.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Final, Literal

from facekit import _spec
from facekit.server.engine import MAX_PIXELS, image_dimensions, sniff_format
from facekit.server.errors import api_error

__all__ = [
    "FieldRule",
    "Form",
    "Operation",
    "check_form",
    "check_query",
    "decode_image",
    "operations",
    "parse_body",
]

FieldKind = Literal["text", "integer", "image", "image_list"]

# The longest legitimate body has well under twenty fields (five images and
# a handful of options); past this many the body is refused before it is
# split, so a 20 MB body of "&&&&" costs nothing.
_MAX_FIELDS: Final = 64
_INTEGER: Final = re.compile(r"-?[0-9]{1,18}", re.ASCII)
# Base64 text goes over the wire with its three special characters escaped.
# Replacing exactly these escapes first is what unquote would do with them
# (an escape never overlaps another), at C speed: a 20 MB image field
# otherwise takes most of a second in unquote's Python loop.
_BASE64_ESCAPES: Final = tuple(
    (escape.encode(), plain)
    for plain, hexes in ((b"+", "2B"), (b"/", "2F"), (b"=", "3D"))
    for escape in (f"%{hexes}", f"%{hexes.lower()}")
)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One form field of a request schema."""

    name: str
    kind: FieldKind
    text: _spec.StringRule | None = None
    integer: _spec.IntegerRule | None = None
    repeatable: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec, as the server routes and checks it."""

    operation_id: str
    method: str
    path: str
    request_schema: str | None
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    require_one_of: tuple[str, ...] = ()
    image_rule: _spec.ImageRule | None = None
    query_max_lengths: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Form:
    """A checked form: text fields, integers (defaults filled in), images."""

    texts: Mapping[str, str]
    integers: Mapping[str, int]
    images: tuple[str, ...]
    """The base64 text of each image, in the order sent; not decoded yet."""

    def text(self, name: str) -> str:
        return self.texts[name]

    def optional_text(self, name: str) -> str | None:
        return self.texts.get(name)

    def ids(self, name: str) -> list[str] | None:
        """A comma list of ids (``group_id``), or None when absent."""
        value = self.texts.get(name)
        return None if value is None else value.split(",")

    def integer(self, name: str) -> int:
        return self.integers[name]


@cache
def operations() -> Mapping[str, Operation]:
    """Every operation of the spec, keyed by operationId."""
    document = _spec.load()
    found: dict[str, Operation] = {}
    for path, item in document["paths"].items():
        for method, node in item.items():
            found[node["operationId"]] = _operation(document, path, method, node)
    return found


def _operation(
    document: Mapping[str, Any], path: str, method: str, node: Mapping[str, Any]
) -> Operation:
    operation_id = node["operationId"]
    query_max_lengths = {}
    for parameter in node.get("parameters", []):
        parameter = _resolve(document, parameter)
        if parameter["in"] == "query" and "maxLength" in parameter["schema"]:
            query_max_lengths[parameter["name"]] = int(parameter["schema"]["maxLength"])

    content = node.get("requestBody", {}).get("content", {})
    body = content.get("application/x-www-form-urlencoded")
    if body is None:
        return Operation(
            operation_id,
            method.upper(),
            path,
            None,
            query_max_lengths=query_max_lengths,
        )

    schema_name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][schema_name]
    try:
        image_rule: _spec.ImageRule | None = _spec.image_rule(operation_id)
    except KeyError:
        image_rule = None
    image_fields = set(image_rule.fields) if image_rule else set()
    fields = {
        name: _field_rule(document, schema_name, name, raw, name in image_fields)
        for name, raw in schema.get("properties", {}).items()
    }
    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=path,
        request_schema=schema_name,
        fields=fields,
        required=frozenset(schema.get("required", ())),
        require_one_of=tuple(schema.get("x-require-one-of", ())),
        image_rule=image_rule,
        query_max_lengths=query_max_lengths,
    )


def _field_rule(
    document: Mapping[str, Any],
    schema_name: str,
    name: str,
    raw: Mapping[str, Any],
    carries_images: bool,
) -> FieldRule:
    ref = raw["$ref"].rsplit("/", 1)[-1] if "$ref" in raw else None
    node = _resolve(document, raw)
    kind = node.get("type")
    if carries_images:
        if kind == "array":
            return FieldRule(name, "image", repeatable=True)
        if node.get("x-comma-list-of"):
            return FieldRule(name, "image_list")
        return FieldRule(name, "image")
    if kind == "string" and ref is not None:
        return FieldRule(name, "text", text=_spec.string_rule(ref))
    if kind == "integer":
        return FieldRule(name, "integer", integer=_spec.integer_rule(schema_name, name))
    # A new kind of field in the spec needs code here; failing at start-up
    # beats accepting it unchecked.
    raise ValueError(f"{schema_name}.{name}: no server rule for this field's schema")


def _resolve(document: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        _, section, name = node["$ref"].lstrip("#/").split("/")
        node = document["components"][section][name]
    return node


def parse_body(body: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of an urlencoded body, strictly UTF-8."""
    if body.count(b"&") >= _MAX_FIELDS:
        raise api_error(216100, f"more than {_MAX_FIELDS} form fields")
    pairs = []
    for part in body.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(raw: bytes) -> str:
    raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        for escape, plain in _BASE64_ESCAPES:
            raw = raw.replace(escape, plain)
        if b"%" in raw:
            raw = urllib.parse.unquote_to_bytes(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise api_error(216100, "the form is not UTF-8") from None


def check_query(operation: Operation, params: Sequence[tuple[str, str]]) -> None:
    """The declared query parameters' limits (``aipSdk``, ``aipVersion``)."""
    for name, value in params:
        limit = operation.query_max_lengths.get(name)
        if limit is not None and len(value) > limit:
            raise api_error(216103, f"{name} is longer than {limit} characters")


def check_form(operation: Operation, pairs: Sequence[tuple[str, str]]) -> Form:
    """Check a parsed body against the operation's request schema."""
    sent: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in operation.fields:
            raise api_error(216100, f"unknown field {_shorten(name)!r}")
        sent.setdefault(name, []).append(value)
    for name, values in sent.items():
        if len(values) > 1 and not operation.fields[name].repeatable:
            raise api_error(216100, f"{name} is given more than once")

    missing = sorted(name for name in operation.required if name not in sent)
    if missing:
        raise api_error(216101, f"missing {', '.join(missing)}")
    if operation.require_one_of:
        present = [name for name in operation.require_one_of if name in sent]
        if not present:
            raise api_error(216101, f"missing {' or '.join(operation.require_one_of)}")
        if len(present) > 1:
            raise api_error(216100, f"give {' or '.join(present)}, not both")

    texts: dict[str, str] = {}
    integers: dict[str, int] = {}
    images: list[str] = []
    for name, rule in operation.fields.items():
        given = sent.get(name)
        if rule.kind == "integer":
            assert rule.integer is not None
            if given is not None:
                integers[name] = _check_integer(name, rule.integer, given[0])
            elif rule.integer.default is not None:
                integers[name] = rule.integer.default
        elif given is None:
            continue
        elif rule.kind == "text":
            assert rule.text is not None
            texts[name] = _check_text(name, rule.text, given[0], operation)
        elif rule.kind == "image_list":
            images.extend(given[0].split(","))
        else:
            images.extend(given)

    if operation.image_rule is not None:
        _check_images(operation.image_rule, sent, images)
    return Form(texts=texts, integers=integers, images=tuple(images))


def _check_text(
    name: str, rule: _spec.StringRule, value: str, operation: Operation
) -> str:
    if not value and name in operation.required:
        raise api_error(216101, f"{name} is empty")
    problems = rule.problems(value)
    if "size" in problems and rule.too_long(value):
        raise api_error(216103, f"{name} is too long")
    if problems:
        raise api_error(216100, f"{name} is not valid")
    return value


def _check_integer(name: str, rule: _spec.IntegerRule, value: str) -> int:
    # int() alone would take " 1", "1_0" and non-ASCII digits.
    if not _INTEGER.fullmatch(value) or not rule.accepts(int(value)):
        raise api_error(
            216100, f"{name} must be an integer from {rule.minimum} to {rule.maximum}"
        )
    return int(value)


def _check_images(
    rule: _spec.ImageRule, sent: Mapping[str, list[str]], images: list[str]
) -> None:
    if rule.max_images is not None and len(images) > rule.max_images:
        raise api_error(216100, f"at most {rule.max_images} images")
    if len(images) < rule.min_images:
        raise api_error(216614, f"at least {rule.min_images} images")
    # As sent: the comma list's commas count, repeated fields have none.
    total = sum(len(value) for name in rule.fields for value in sent.get(name, ()))
    if total > rule.max_total_base64_length:
        raise api_error(
            216202,
            f"more than {rule.max_total_base64_length} characters of base64 images",
        )


def decode_image(text: str) -> bytes:
    """The bytes of one base64 image, checked without decoding any pixel."""
    if not text:
        raise api_error(216200)
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise api_error(216203) from None
    if not data:
        raise api_error(216200)
    if sniff_format(data) is None:
        raise api_error(216201, "not a JPEG, PNG or BMP image")
    width, height = image_dimensions(data)
    # A few hundred bytes can announce a 100000 x 100000 image: refused here,
    # from the header alone, before the engine the server was given sees it.
    # FaceEngine.decode reads the header again for its own callers, which
    # costs microseconds next to the decoding.
    if width * height > MAX_PIXELS:
        raise api_error(216202, f"more than {MAX_PIXELS} pixels")
    return data


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."
