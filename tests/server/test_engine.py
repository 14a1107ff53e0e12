from __future__ import annotations

import dataclasses
import itertools
import math
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from _faultkit import png_bomb

from facekit.server import engine as engine_module
from facekit.server.engine import (
    MAX_PIXELS,
    SAME_PERSON_COSINE,
    EngineUnavailable,
    Face,
    FaceEngine,
    get_engine,
    image_dimensions,
    similarity_to_score,
    sniff_format,
)
from facekit.server.errors import ApiError

Image = npt.NDArray[np.uint8]

PHOTOS = [
    "biden-1.jpg",
    "collins-1.jpg",
    "einstein-1.jpg",
    "einstein-2.jpg",
    "obama-1.jpg",
    "obama-2.jpg",
    "obama-3.jpg",
]
IDENTITY = {name: name.split("-")[0] for name in PHOTOS}
SAME_PERSON = [
    (a, b) for a, b in itertools.combinations(PHOTOS, 2) if IDENTITY[a] == IDENTITY[b]
]
DIFFERENT_PEOPLE = [
    (a, b) for a, b in itertools.combinations(PHOTOS, 2) if IDENTITY[a] != IDENTITY[b]
]


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return get_engine()


@pytest.fixture(scope="module")
def photos(engine: FaceEngine, faces_dir: Path) -> dict[str, Image]:
    return {name: engine.decode((faces_dir / name).read_bytes()) for name in PHOTOS}


@pytest.fixture(scope="module")
def embeddings(
    engine: FaceEngine, photos: dict[str, Image]
) -> dict[str, npt.NDArray[np.float32]]:
    return {
        name: engine.embed(image, engine.detect(image)[0])
        for name, image in photos.items()
    }


def _main_face(engine: FaceEngine, image: Image) -> Face:
    faces = engine.detect(image)
    assert len(faces) == 1
    return faces[0]


def _api_error(excinfo: pytest.ExceptionInfo[ApiError]) -> tuple[int, str]:
    return excinfo.value.error_code, excinfo.value.error_msg


# --- detection ---------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS)
def test_main_face_found_inside_image(
    engine: FaceEngine, photos: dict[str, Image], name: str
) -> None:
    image = photos[name]
    height, width = image.shape[:2]

    face = _main_face(engine, image)

    assert face.probability > 0.8
    assert face.left >= 0 and face.left + face.width <= width
    assert face.top >= 0 and face.top + face.height <= height
    assert len(face.landmarks5) == 5
    for x, y in face.landmarks5:
        assert face.left <= x <= face.left + face.width
        assert face.top <= y <= face.top + face.height
    assert len(face.yunet_row) == 15


def test_einstein_1_has_two_faces_largest_first(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    faces = engine.detect(photos["einstein-1.jpg"], max_faces=5)

    assert len(faces) == 2
    areas = [face.width * face.height for face in faces]
    assert areas[0] > 2 * areas[1]
    assert engine.detect(photos["einstein-1.jpg"], max_faces=1) == faces[:1]


def test_detect_maps_coordinates_back_to_the_original(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    # obama-1 is 640x800, so its double is detected on a copy of the same
    # size as the original and every coordinate must come back doubled.
    image = photos["obama-1.jpg"]
    doubled = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)

    face = _main_face(engine, image)
    big = _main_face(engine, np.asarray(doubled, dtype=np.uint8))

    assert big.left == pytest.approx(2 * face.left, abs=4)
    assert big.top == pytest.approx(2 * face.top, abs=4)
    assert big.width == pytest.approx(2 * face.width, abs=4)
    assert big.height == pytest.approx(2 * face.height, abs=4)
    for (x, y), (big_x, big_y) in zip(face.landmarks5, big.landmarks5, strict=True):
        assert big_x == pytest.approx(2 * x, abs=4)
        assert big_y == pytest.approx(2 * y, abs=4)


@pytest.mark.parametrize("shape", [(1, 1), (1, 640), (640, 1), (5, 3000), (20, 20)])
def test_degenerate_images_have_no_faces(
    engine: FaceEngine, shape: tuple[int, int]
) -> None:
    # Unpadded, YuNet reports an infinite box with score 1.0 on these.
    for value in (0, 255):
        image = np.full((*shape, 3), value, dtype=np.uint8)
        assert engine.detect(image, max_faces=5) == []


def test_detect_refuses_bad_arguments(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    with pytest.raises(ValueError, match="max_faces"):
        engine.detect(photos["obama-1.jpg"], max_faces=0)
    with pytest.raises(ValueError, match="BGR"):
        engine.detect(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match="BGR"):
        engine.detect(np.zeros((10, 10, 3), dtype=np.float32))


# --- landmarks and pose --------------------------------------------------------


def test_landmark4_order_and_mouth_centre(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    face = _main_face(engine, photos["obama-1.jpg"])

    left_eye, right_eye, nose, mouth = engine.landmark4(face)

    assert left_eye[0] < nose[0] < right_eye[0]
    assert max(left_eye[1], right_eye[1]) < nose[1] < mouth[1]
    *_, mouth_right, mouth_left = face.landmarks5
    assert mouth == (
        round((mouth_right[0] + mouth_left[0]) / 2),
        round((mouth_right[1] + mouth_left[1]) / 2),
    )
    assert left_eye == (round(face.landmarks5[0][0]), round(face.landmarks5[0][1]))


def test_rotation_angle_follows_the_eye_line(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    # obama-1's face is large enough for YuNet's landmarks to follow a turn;
    # on small faces they lean towards upright (see the module docstring).
    image = photos["obama-1.jpg"]
    height, width = image.shape[:2]
    upright = _main_face(engine, image)
    centre = (upright.left + upright.width / 2, upright.top + upright.height / 2)

    angles = {}
    for turn in (-20, 20):
        # OpenCV's positive angle turns the picture anticlockwise on screen.
        matrix = cv2.getRotationMatrix2D(centre, -turn, 1.0)
        turned = np.asarray(cv2.warpAffine(image, matrix, (width, height)))
        face = _main_face(engine, turned.astype(np.uint8))
        assert face.roll is not None
        assert face.rotation_angle == round(face.roll)
        angles[turn] = face.rotation_angle

    assert abs(upright.rotation_angle) <= 3
    assert -25 <= angles[-20] <= -10
    assert 10 <= angles[20] <= 25


def test_yaw_sign_and_mirror_symmetry(
    engine: FaceEngine, photos: dict[str, Image]
) -> None:
    frontal = _main_face(engine, photos["obama-1.jpg"])
    turned_left = _main_face(engine, photos["obama-2.jpg"])
    turned_right = _main_face(engine, photos["einstein-1.jpg"])
    mirrored_image = np.ascontiguousarray(photos["obama-2.jpg"][:, ::-1])
    mirrored = _main_face(engine, mirrored_image)

    assert frontal.yaw is not None and abs(frontal.yaw) < 10
    assert turned_left.yaw is not None and turned_left.yaw < -10
    assert turned_right.yaw is not None and turned_right.yaw > 10
    assert mirrored.yaw == pytest.approx(-turned_left.yaw, abs=5)
    assert all(face.pitch is None for face in (frontal, turned_left, mirrored))


@pytest.mark.parametrize("name", PHOTOS)
def test_pose_within_api_ranges(
    engine: FaceEngine, photos: dict[str, Image], name: str
) -> None:
    for face in engine.detect(photos[name], max_faces=5):
        assert face.yaw is None or -90 <= face.yaw <= 90
        assert face.roll is None or -180 <= face.roll <= 180
        assert -180 <= face.rotation_angle <= 180


# --- quality -------------------------------------------------------------------


def test_quality_of_a_sharp_photo(engine: FaceEngine, photos: dict[str, Image]) -> None:
    image = photos["obama-1.jpg"]
    face = _main_face(engine, image)

    quality = engine.quality(image, face)

    assert quality.blur < 0.5
    assert 0 < quality.illumination < 255
    assert quality.completeness == 1.0


def test_quality_measures_respond(engine: FaceEngine, photos: dict[str, Image]) -> None:
    image = photos["obama-1.jpg"]
    face = _main_face(engine, image)
    sharp = engine.quality(image, face)
    blurred_image = np.asarray(cv2.GaussianBlur(image, (0, 0), 3), dtype=np.uint8)
    darker_image = image // 2

    blurred = engine.quality(blurred_image, face)
    darker = engine.quality(darker_image, face)
    half_out = engine.quality(image, dataclasses.replace(face, left=-face.width / 2))

    assert sharp.blur < 0.5 < blurred.blur
    assert darker.illumination == pytest.approx(sharp.illumination / 2, abs=1)
    assert half_out.completeness == pytest.approx(0.5)


# --- embeddings and scores -----------------------------------------------------


def test_embeddings_are_unit_float32(
    embeddings: dict[str, npt.NDArray[np.float32]],
) -> None:
    for vector in embeddings.values():
        assert vector.dtype == np.float32
        assert vector.shape == (128,)
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(("a", "b"), SAME_PERSON)
def test_same_person_is_verified(
    embeddings: dict[str, npt.NDArray[np.float32]], a: str, b: str
) -> None:
    cosine = float(embeddings[a] @ embeddings[b])

    assert cosine > SAME_PERSON_COSINE
    assert similarity_to_score(cosine) > 80


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PEOPLE)
def test_different_people_are_rejected(
    embeddings: dict[str, npt.NDArray[np.float32]], a: str, b: str
) -> None:
    cosine = float(embeddings[a] @ embeddings[b])

    assert cosine < SAME_PERSON_COSINE
    assert similarity_to_score(cosine) < 80


def test_similarity_to_score_fixed_points() -> None:
    assert similarity_to_score(SAME_PERSON_COSINE) == 80.0
    assert similarity_to_score(0.0) == 0.0
    assert similarity_to_score(-1.0) == 0.0
    assert similarity_to_score(1.0) == 100.0
    assert similarity_to_score(1.5) == 100.0
    with pytest.raises(ValueError, match="finite"):
        similarity_to_score(math.nan)


def test_similarity_to_score_is_monotonic_and_bounded() -> None:
    cosines = np.linspace(-1.2, 1.2, 2401)
    scores = [similarity_to_score(float(cosine)) for cosine in cosines]

    assert all(0.0 <= score <= 100.0 for score in scores)
    assert all(a <= b for a, b in itertools.pairwise(scores))
    inside = [s for c, s in zip(cosines, scores, strict=True) if 0 < c < 1]
    assert all(a < b for a, b in itertools.pairwise(inside))


def test_concurrent_callers_get_the_sequential_answers(
    engine: FaceEngine,
    photos: dict[str, Image],
    embeddings: dict[str, npt.NDArray[np.float32]],
) -> None:
    def work(name: str) -> tuple[str, Face, npt.NDArray[np.float32]]:
        face = engine.detect(photos[name])[0]
        return name, face, engine.embed(photos[name], face)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, PHOTOS * 3))

    for name, face, vector in results:
        assert face == _main_face(engine, photos[name])
        np.testing.assert_allclose(vector, embeddings[name], atol=1e-6)


def test_get_engine_is_cached() -> None:
    assert get_engine() is get_engine()


# --- decoding ------------------------------------------------------------------


def _jpeg_header(width: int, height: int) -> bytes:
    components = b"\x01\x11\x00\x02\x11\x01\x03\x11\x01"
    frame = struct.pack(">BHHB", 8, height, width, 3) + components
    scan = b"\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xc0"
        + struct.pack(">H", 2 + len(frame))
        + frame
        + b"\xff\xda"
        + struct.pack(">H", 2 + len(scan))
        + scan
        + b"\x00" * 64
        + b"\xff\xd9"
    )


def _bmp_header(width: int, height: int) -> bytes:
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0, 0, 0, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(info), 0, 0, 14 + len(info)) + info


class DecodeAttempted(Exception):
    """Raised by a patched ``cv2.imdecode``: the header checks let the data through."""


def _refuse_decoding(*args: Any, **kwargs: Any) -> None:
    raise DecodeAttempted


def test_decode_refuses_empty(engine: FaceEngine) -> None:
    with pytest.raises(ApiError) as excinfo:
        engine.decode(b"")
    assert _api_error(excinfo) == (216200, "empty image")


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is plain text and not an image",
        b"BMW is a car maker, not a bitmap header at all",
        b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 20,
        b"\x89PNG\r\n\x1a\n" + b"garbage" * 10,
        _jpeg_header(0, 100),
    ],
    ids=["text", "bm-text", "jpeg-garbage", "png-garbage", "jpeg-zero-width"],
)
def test_decode_refuses_non_images(engine: FaceEngine, data: bytes) -> None:
    with pytest.raises(ApiError) as excinfo:
        engine.decode(data)
    assert _api_error(excinfo) == (216201, "image format error")


def test_decode_refuses_truncated_jpeg(engine: FaceEngine, faces_dir: Path) -> None:
    data = (faces_dir / "obama-1.jpg").read_bytes()

    for cut in (len(data) // 2, len(data) - 2, 300):
        with pytest.raises(ApiError) as excinfo:
            engine.decode(data[:cut])
        assert excinfo.value.error_code == 216201


def test_decode_refuses_a_jpeg_whose_scan_is_garbage(engine: FaceEngine) -> None:
    # A well-formed header over a scan that is not entropy-coded data.
    with pytest.raises(ApiError) as excinfo:
        engine.decode(_jpeg_header(64, 64))
    assert excinfo.value.error_code == 216201


@pytest.mark.parametrize("make", [png_bomb, _jpeg_header, _bmp_header])
def test_decode_refuses_bombs_from_the_header(
    engine: FaceEngine, monkeypatch: pytest.MonkeyPatch, make: Any
) -> None:
    side = 100_000 if make is not _jpeg_header else 65_535
    data = make(side, side)
    assert image_dimensions(data) == (side, side)
    monkeypatch.setattr(cv2, "imdecode", _refuse_decoding)

    with pytest.raises(ApiError) as excinfo:
        engine.decode(data)
    assert _api_error(excinfo) == (216202, "image size error")


def test_pixel_cap_is_inclusive(
    engine: FaceEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cv2, "imdecode", _refuse_decoding)
    with pytest.raises(ApiError) as excinfo:
        engine.decode(png_bomb(MAX_PIXELS + 1, 1))
    assert excinfo.value.error_code == 216202
    # Exactly at the cap the header passes and decoding is attempted.
    with pytest.raises(DecodeAttempted):
        engine.decode(png_bomb(MAX_PIXELS, 1))


@pytest.mark.parametrize("extension", [".png", ".bmp"])
def test_lossless_reencodings_decode_to_the_same_pixels(
    engine: FaceEngine, photos: dict[str, Image], extension: str
) -> None:
    image = photos["obama-2.jpg"]
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    data = encoded.tobytes()

    decoded = engine.decode(data)

    assert sniff_format(data) == extension[1:]
    assert image_dimensions(data) == (image.shape[1], image.shape[0])
    np.testing.assert_array_equal(decoded, image)


@pytest.mark.parametrize("name", PHOTOS)
def test_header_dimensions_match_the_photos(
    faces_dir: Path, photos: dict[str, Image], name: str
) -> None:
    data = (faces_dir / name).read_bytes()

    assert sniff_format(data) == "jpeg"
    assert image_dimensions(data) == (photos[name].shape[1], photos[name].shape[0])


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    entry = struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + entry + b"\x00" * 4
    body = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", 2 + len(body)) + body + jpeg[2:]


def test_exif_orientation_is_applied(engine: FaceEngine) -> None:
    ok, encoded = cv2.imencode(".jpg", np.zeros((20, 40, 3), dtype=np.uint8))
    assert ok
    # 6: the stored picture must be turned a quarter clockwise to be viewed.
    data = _with_exif_orientation(encoded.tobytes(), 6)

    assert image_dimensions(data) == (40, 20)
    assert engine.decode(data).shape == (40, 20, 3)


def test_sniffed_formats_agree_with_the_spec() -> None:
    from facekit import _spec

    formats = _spec.image_formats()

    assert set(formats) == {"jpeg", "png", "bmp"}
    for name, prefixes in formats.items():
        for prefix in prefixes:
            assert sniff_format(prefix + b"\x00" * 32) == name


def test_decode_errors_match_the_spec(engine: FaceEngine) -> None:
    from facekit import _spec

    table = _spec.error_codes()

    for data in (b"", b"plain text", png_bomb(MAX_PIXELS, 2)):
        with pytest.raises(ApiError) as excinfo:
            engine.decode(data)
        assert excinfo.value.error_msg == table[excinfo.value.error_code].message


def test_tiny_png_decodes(engine: FaceEngine) -> None:
    ok, encoded = cv2.imencode(".png", np.zeros((1, 1, 3), dtype=np.uint8))
    assert ok

    image = engine.decode(encoded.tobytes())

    assert image.shape == (1, 1, 3)
    assert engine.detect(image) == []


# --- models --------------------------------------------------------------------


def _installed_model_dir() -> Path:
    return engine_module._default_model_dir()


def test_wrong_model_file_is_refused(tmp_path: Path) -> None:
    detector, _ = engine_module._MODELS["detector"]
    recognizer, _ = engine_module._MODELS["recognizer"]
    (tmp_path / detector).symlink_to(_installed_model_dir() / detector)
    (tmp_path / recognizer).write_bytes(b"not the SFace model")

    with pytest.raises(EngineUnavailable, match=recognizer):
        FaceEngine(model_dir=tmp_path)


def test_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="cannot read"):
        FaceEngine(model_dir=tmp_path)


def test_models_load_from_an_explicit_directory(tmp_path: Path) -> None:
    for name, _ in engine_module._MODELS.values():
        (tmp_path / name).symlink_to(_installed_model_dir() / name)

    FaceEngine(model_dir=tmp_path)
