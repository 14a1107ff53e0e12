"""Check a call's arguments against the spec before any I/O.

Every limit comes from ``spec/face-v2.yaml`` through :mod:`facekit._spec`:
the charset patterns and byte caps of ``Uid``, ``GroupId``, ``GroupIdList``
and ``UserInfo``, the names of ``FaceFields``, the integer ranges of the
request schemas, and the per-operation ``x-image-rules``.  Nothing is
retyped here.

A :class:`Checker` collects every problem of one call, each as a
:class:`~facekit.FieldProblem` carrying the SDK code the spec gives it
(``x-sdk-codes`` of the schema, or the image codes of ``x-error-codes``),
and :meth:`Checker.raise_if_any` raises them together as one
:class:`~facekit.ValidationError`.  Messages name the rule and the measured
size, never the value itself: uids and ``user_info`` may be personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import cast

from facekit import _spec
from facekit._errors import FieldProblem, ValidationError
from facekit._images import ImageError, ImageInput, encode_image

__all__ = ["Checker"]

# The image codes of the reference document: SDK100 covers the summed size
# and, as in the official SDK, the number of images.
_IMAGE_SIZE = "SDK100"


@cache
def _message(code: str) -> str:
    entry = _spec.error_codes().get(code)
    return entry.message if entry is not None else "invalid value"


@cache
def _meaning(code: str) -> str:
    entry = _spec.error_codes().get(code)
    return entry.meaning.rstrip(".") if entry is not None else ""


def _problem(field: str, code: str, detail: str) -> FieldProblem:
    return FieldProblem(field, code, f"{_message(code)}: {detail}")


def _fast_accept(rule: _spec.StringRule, value: str) -> bool:
    """Whether ``value`` certainly passes ``rule``, decided cheaply.

    The compiled pattern carries the spec's own bounds (``{1,128}``), and an
    ASCII value is as many bytes as characters, so the common good value
    needs one ``fullmatch`` and a few comparisons.  Anything else goes to
    the full diagnosis of :meth:`StringRule.problems`.
    """
    size = len(value)
    return (
        value.isascii()
        and size >= rule.min_length
        and (rule.max_length is None or size <= rule.max_length)
        and (rule.max_bytes is None or size <= rule.max_bytes)
        and (rule.pattern is None or rule.pattern.fullmatch(value) is not None)
    )


def _string_kinds(rule: _spec.StringRule, value: str) -> list[str]:
    """The kinds of problem (``"size"``, ``"format"``) of one string."""
    if _fast_accept(rule, value):
        return []
    if not value:
        # Empty is a size problem only; the charset has nothing to object to.
        return ["size"] if rule.min_length > 0 else []
    if not _utf8(value):
        # A lone surrogate cannot be sent as UTF-8 form data at all.
        return ["format"]
    kinds = rule.problems(value)
    if not kinds and rule.pattern is not None and not rule.pattern.fullmatch(value):
        # The pattern's own bounds are part of the spec too.
        kinds = ["format"]
    return kinds


def _utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Checker:
    """Collects every problem of one call; nothing here does I/O."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def raise_if_any(self) -> None:
        """Raise one :class:`ValidationError` listing every problem found."""
        if self.problems:
            raise ValidationError(self.problems)

    # -- strings ---------------------------------------------------------------

    def _string(self, schema: str, value: object, field: str) -> str:
        rule = _spec.string_rule(schema)
        if not isinstance(value, str):
            self._add_kind(rule, field, "format", f"must be a str, not {_kind(value)}")
            return ""
        for kind in _string_kinds(rule, value):
            self._add_kind(rule, field, kind, _detail(rule, kind, value))
        return value

    def _add_kind(
        self, rule: _spec.StringRule, field: str, kind: str, detail: str
    ) -> None:
        codes = rule.sdk_codes
        # UserInfo has only a size code; an unsendable character there is
        # still best reported under the one code the guide gives the field.
        code = codes.get(kind) or next(iter(codes.values()))
        self.problems.append(_problem(field, code, detail))

    def uid(self, value: object, *, field: str = "uid") -> str:
        """A user id (schema ``Uid``: SDK106 format, SDK107 size)."""
        return self._string("Uid", value, field)

    def user_info(self, value: object, *, field: str = "user_info") -> str:
        """Free text kept with a user (schema ``UserInfo``: SDK103)."""
        return self._string("UserInfo", value, field)

    def group_id(
        self, value: object, *, single: bool = False, field: str = "group_id"
    ) -> str:
        """One group id (``GroupId``) or several (``GroupIdList``), as sent.

        A list or tuple of ids is accepted as well and joined with commas;
        each id is checked on its own (SDK104 format, SDK105 size).
        """
        list_rule = _spec.string_rule("GroupId" if single else "GroupIdList")
        item_rule = list_rule.item or list_rule

        if isinstance(value, list | tuple):
            items: Sequence[object] = value
            if not items or (single and len(items) != 1):
                wanted = "exactly one group id" if single else "at least one group id"
                self._add_kind(
                    list_rule, field, "size", f"takes {wanted}, got {len(items)}"
                )
                return ""
        elif isinstance(value, str):
            if single or _fast_accept(list_rule, value):
                return self._string(list_rule.name, value, field)
            items = value.split(",")
        else:
            self._add_kind(
                list_rule,
                field,
                "format",
                f"must be a str or a list, not {_kind(value)}",
            )
            return ""

        # One problem per kind for the whole field, naming the first bad id.
        seen: set[str] = set()
        for position, item in enumerate(items, start=1):
            if not isinstance(item, str):
                kinds = ["format"]
                detail = {"format": f"group id {position} is {_kind(item)}, not a str"}
            else:
                kinds = _string_kinds(item_rule, item)
                detail = {
                    kind: f"group id {position}: {_detail(item_rule, kind, item)}"
                    for kind in kinds
                }
            for kind in kinds:
                if kind not in seen:
                    seen.add(kind)
                    self._add_kind(list_rule, field, kind, detail[kind])
        return ",".join(item for item in items if isinstance(item, str))

    # -- enumerations and integers --------------------------------------------

    def face_fields(self, value: object, *, field: str = "face_fields") -> str | None:
        """Attribute names (``FaceFields``), a comma string or a list of names."""
        if value is None:
            return None
        rule = _spec.string_rule("FaceFields")
        allowed = rule.allowed_items or frozenset()
        code = rule.sdk_codes["format"]

        if isinstance(value, str):
            names: Sequence[object] = value.split(",")
        elif isinstance(value, list | tuple):
            names = value
        else:
            self.problems.append(
                FieldProblem(
                    field,
                    code,
                    f"must be a str or a list of names, not {_kind(value)}",
                )
            )
            return None

        unknown = [name for name in names if name not in allowed]
        if not names or unknown:
            shown = ", ".join(repr(name)[:40] for name in unknown[:5]) or "none given"
            self.problems.append(
                FieldProblem(
                    field,
                    code,
                    f"unknown face field(s) {shown}; "
                    f"choose from {', '.join(sorted(allowed))}",
                )
            )
            return None
        return ",".join(name for name in names if isinstance(name, str))

    def integer(self, request_schema: str, field: str, value: object) -> int | None:
        """An optional integer field, in the range its request schema gives."""
        if value is None:
            return None
        rule = _spec.integer_rule(request_schema, field)

        # bool is an int subclass, but True is no page size.
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(
                FieldProblem(
                    field, rule.sdk_code, f"must be an int, not {_kind(value)}"
                )
            )
            return None
        if not rule.accepts(value):
            self.problems.append(
                FieldProblem(
                    field,
                    rule.sdk_code,
                    f"must be {_range(rule)}, got {value}",
                )
            )
            return None
        return value

    # -- images ----------------------------------------------------------------

    def images(
        self,
        operation: str,
        value: ImageInput | Sequence[ImageInput],
        *,
        field: str,
        joined: bool,
    ) -> list[str]:
        """Read, sniff and encode the images of ``operation``; their base64 texts.

        ``value`` is one image or a list/tuple of them.  ``joined`` says
        whether they travel comma-joined in one field (``match``) rather than
        as repeated fields: the spec's cap counts the text as sent, so the
        commas count only then.
        """
        rule = _spec.image_rule(operation)
        several = isinstance(value, list | tuple)
        inputs = cast("Sequence[ImageInput]", value if several else [value])

        count = len(inputs)
        if count < rule.min_images or (
            rule.max_images is not None and count > rule.max_images
        ):
            self.problems.append(
                _problem(field, _IMAGE_SIZE, f"takes {_count(rule)}, got {count}")
            )

        texts: list[str] = []
        for position, image in enumerate(inputs):
            name = f"{field}[{position}]" if several else field
            try:
                texts.append(encode_image(image).base64)
            except ImageError as error:
                self.problems.append(_problem(name, error.code, error.message))

        total = sum(map(len, texts)) + (len(texts) - 1 if joined and texts else 0)
        if total > rule.max_total_base64_length:
            self.problems.append(
                _problem(
                    field,
                    _IMAGE_SIZE,
                    f"the base64 text is {total} characters, "
                    f"at most {rule.max_total_base64_length}",
                )
            )
        return texts


def _detail(rule: _spec.StringRule, kind: str, value: str) -> str:
    if kind == "format" and not _utf8(value):
        return "holds a lone surrogate, which UTF-8 text cannot carry"
    if kind == "format":
        code = rule.sdk_codes.get("format")
        meaning = _meaning(code) if code else ""
        return meaning or "holds characters the spec does not allow"
    if not value:
        return "is empty"
    size = len(value.encode("utf-8", errors="replace"))
    limits = []
    if rule.max_bytes is not None:
        limits.append(f"{rule.max_bytes} bytes of UTF-8")
    if rule.max_length is not None and rule.max_length != rule.max_bytes:
        limits.append(f"{rule.max_length} characters")
    limit = " and ".join(limits) or "the spec's limit"
    return f"is {size} bytes ({len(value)} characters), at most {limit}"


def _range(rule: _spec.IntegerRule) -> str:
    if rule.minimum is not None and rule.maximum is not None:
        return f"from {rule.minimum} to {rule.maximum}"
    if rule.minimum is not None:
        return f"at least {rule.minimum}"
    return f"at most {rule.maximum}"


def _count(rule: _spec.ImageRule) -> str:
    if rule.max_images is None:
        return f"at least {rule.min_images} images"
    if rule.max_images == rule.min_images:
        return f"exactly {rule.min_images} image(s)"
    return f"{rule.min_images} to {rule.max_images} images"


def _kind(value: object) -> str:
    return type(value).__name__
