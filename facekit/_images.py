"""Image inputs: read them, sniff their format, encode them as base64 text.

Every face operation that takes pictures accepts them as raw ``bytes`` (or a
``bytearray`` / ``memoryview``), as a path (``str`` or :class:`os.PathLike`),
or as a binary file object opened by the caller.  Nothing here does network
I/O or validation of counts and caps; :mod:`facekit._validation` does that and
turns an :class:`ImageError` into a :class:`~facekit.FieldProblem`.

The accepted formats and their magic bytes come from ``x-image-rules`` in the
spec, so adding a format there is enough for the facade to accept it.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from functools import cache
from typing import BinaryIO, TypeAlias

from facekit import _spec

__all__ = [
    "EncodedImage",
    "ImageError",
    "ImageInput",
    "encode_image",
    "read_image",
    "sniff_format",
]

ImageInput: TypeAlias = (
    bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO
)
"""Anything a face operation accepts as one image."""

# The SDK codes of the reference document for the two ways one image can be
# unusable; they also appear in ``x-error-codes`` of the spec.
_UNREADABLE = "SDK102"
_UNSUPPORTED = "SDK109"


class ImageError(ValueError):
    """One image cannot be used; ``code`` is its SDK code (SDK102 or SDK109)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class EncodedImage:
    """One image ready to send: its sniffed format and its base64 text."""

    __slots__ = ("base64", "format")

    def __init__(self, format: str, base64: str) -> None:
        self.format = format
        self.base64 = base64

    def __repr__(self) -> str:
        # Never the picture itself: image bodies stay out of logs and reprs.
        return f"EncodedImage(format={self.format!r}, base64_length={len(self.base64)})"


@cache
def _magic_table() -> tuple[tuple[bytes, str], ...]:
    formats: Mapping[str, tuple[bytes, ...]] = _spec.image_formats()
    return tuple(
        (prefix, name) for name, prefixes in formats.items() for prefix in prefixes
    )


def sniff_format(data: bytes) -> str | None:
    """The format name of ``data`` from its first bytes, or ``None``."""
    for prefix, name in _magic_table():
        if data.startswith(prefix):
            return name
    return None


def read_image(image: ImageInput) -> bytes:
    """The bytes of one image input; :class:`ImageError` (SDK102) if unreadable.

    A file object is read from its current position and left open: it
    belongs to the caller.
    """
    if isinstance(image, bytes):
        data = image
    elif isinstance(image, bytearray | memoryview):
        data = bytes(image)
    elif isinstance(image, str | os.PathLike):
        data = _read_path(image)
    elif hasattr(image, "read"):
        data = _read_file_object(image)
    else:
        raise ImageError(
            _UNREADABLE,
            f"expected bytes, a path or a binary file, got {type(image).__name__}",
        )

    if not data:
        raise ImageError(_UNREADABLE, "the image is empty")
    return data


def _read_path(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except OSError as exc:
        # The OS message names the failure (missing, a directory, no
        # permission) without the file's contents.
        raise ImageError(
            _UNREADABLE, f"cannot read {os.fspath(path)!r}: {exc.strerror}"
        ) from exc


def _read_file_object(stream: BinaryIO) -> bytes:
    try:
        data: object = stream.read()
    except OSError as exc:
        raise ImageError(_UNREADABLE, f"cannot read the file object: {exc}") from exc
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise ImageError(
            _UNREADABLE,
            "the file object gave text, not bytes; open it in binary mode ('rb')",
        )
    return data


def encode_image(image: ImageInput) -> EncodedImage:
    """Read, sniff and base64-encode one image.

    Raises :class:`ImageError` with SDK102 (unreadable or empty) or SDK109
    (not one of the spec's formats).
    """
    data = read_image(image)

    found = sniff_format(data)
    if found is None:
        names = [name.upper() for name in _spec.image_formats()]
        accepted = " or ".join(filter(None, [", ".join(names[:-1]), names[-1]]))
        raise ImageError(_UNSUPPORTED, f"the image is not {accepted}")

    return EncodedImage(found, base64.b64encode(data).decode("ascii"))
