from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from _facade import BMP, JPEG, PNG, spec

from facekit._images import (
    EncodedImage,
    ImageError,
    ImageInput,
    encode_image,
    read_image,
    sniff_format,
)


def test_every_input_kind_reads_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "face.jpg"
    path.write_bytes(JPEG)

    inputs: list[ImageInput] = [
        JPEG,
        bytearray(JPEG),
        memoryview(JPEG),
        str(path),
        path,
        io.BytesIO(JPEG),
    ]

    assert all(read_image(image) == JPEG for image in inputs)


def test_a_file_object_is_read_from_its_position_and_left_open() -> None:
    stream = io.BytesIO(b"junk" + PNG)
    stream.seek(4)

    encoded = encode_image(stream)

    assert encoded.format == "png"
    assert encoded.base64 == base64.b64encode(PNG).decode()
    assert not stream.closed


def test_formats_are_sniffed_from_the_spec_magic_bytes() -> None:
    formats = spec()["x-image-rules"]["formats"]

    for name, prefixes in formats.items():
        for prefix in prefixes:
            assert sniff_format(bytes.fromhex(prefix) + b"rest") == name
    assert [encode_image(data).format for data in (JPEG, PNG, BMP)] == [
        "jpeg",
        "png",
        "bmp",
    ]


@pytest.mark.parametrize(
    "data",
    [b"GIF89a....", b"RIFF....WEBP", b"\xff\xd8", b"\x89PNG", b"B", b"hello"],
)
def test_other_formats_are_sdk109(data: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        encode_image(data)

    assert caught.value.code == "SDK109"
    assert "JPEG, PNG or BMP" in caught.value.message


def test_empty_images_are_sdk102(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")

    for image in (b"", bytearray(), io.BytesIO(), empty):
        with pytest.raises(ImageError) as caught:
            encode_image(image)
        assert caught.value.code == "SDK102"


def test_unreadable_images_are_sdk102(tmp_path: Path) -> None:
    text_file = io.StringIO("not bytes")
    unreadable = [tmp_path / "missing.jpg", str(tmp_path), text_file, 42, None]

    for image in unreadable:
        with pytest.raises(ImageError) as caught:
            encode_image(image)  # type: ignore[arg-type]
        assert caught.value.code == "SDK102"


def test_a_text_mode_file_is_told_to_open_in_binary_mode() -> None:
    with pytest.raises(ImageError, match="binary mode"):
        read_image(io.StringIO("text"))  # type: ignore[arg-type]


def test_the_encoded_image_never_shows_its_picture() -> None:
    encoded = encode_image(JPEG)

    assert isinstance(encoded, EncodedImage)
    assert encoded.base64 not in repr(encoded)
    assert str(len(encoded.base64)) in repr(encoded)
