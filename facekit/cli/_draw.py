"""Pictures: a photo with a numbered box and the landmarks of each face.

OpenCV and numpy are imported when a picture is drawn, not before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import typer
from face_v2_client.types import Unset  # type: ignore[import-untyped, unused-ignore]

from facekit.cli import _UsageProblem

if TYPE_CHECKING:
    from face_v2_client.models import (  # type: ignore[import-untyped, unused-ignore]
        Face,
    )

# Pure colours, drawn without anti-aliasing, so that a picture's boxes can be
# told apart from the photograph (and counted) by their exact value (BGR).
BOX_COLOUR: Final = (0, 255, 0)
LANDMARK_COLOUR: Final = (0, 0, 255)
_LABEL_INK: Final = (0, 0, 0)
_DRAW_SUFFIXES: Final = (".png", ".jpg", ".jpeg", ".bmp")


def _check_picture_path(path: Path | None, option: str) -> None:
    # Before any request: cv2.imwrite picks the format by the suffix.
    if path is not None and path.suffix.lower() not in _DRAW_SUFFIXES:
        raise typer.BadParameter(
            f"{path} must end in one of {', '.join(_DRAW_SUFFIXES)}",
            param_hint=f"'{option}'",
        )


def draw_faces(photo: Path, faces: Sequence[Face], out: Path) -> None:
    """Save ``photo`` with a box, its number and its landmarks per face.

    The photograph is decoded as the local server decodes it (OpenCV, EXIF
    orientation applied), so the boxes land where they were found.
    """
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(photo.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise _UsageProblem(f"cannot decode {photo} to draw on it")
    # Lines a little thicker on larger pictures, to stay visible when shrunk.
    thickness = max(2, round(max(image.shape[:2]) / 300))

    for number, face in enumerate(faces, 1):
        location = face.location
        left, top = location.left, location.top
        right = left + location.width - 1
        bottom = top + location.height - 1
        cv2.rectangle(
            image, (left, top), (right, bottom), BOX_COLOUR, thickness, cv2.LINE_8
        )
        _label(image, str(number), left, top, thickness)

        points = [] if isinstance(face.landmark, Unset) else face.landmark
        if not isinstance(face.landmark72, Unset):
            points = [*points, *face.landmark72]
        # Small faces get small dots, so that their points stay apart.
        radius = max(2, min(thickness, location.width // 15))
        for point in points:
            cv2.circle(
                image, (point.x, point.y), radius, LANDMARK_COLOUR, -1, cv2.LINE_8
            )

    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), image):
        raise _UsageProblem(f"cannot write the picture {out}")


def _label(image: Any, text: str, left: int, top: int, thickness: int) -> None:
    """The face's number on a tab on the box's top-left corner.

    The tab sits above the box, or inside it at the top of the picture, and
    touches the box either way: box and tab are one connected shape of the
    box colour, so a picture's boxes can be counted by their colour.
    """
    import cv2

    font, scale = cv2.FONT_HERSHEY_SIMPLEX, thickness / 4
    (text_width, text_height), baseline = cv2.getTextSize(text, font, scale, 1)
    pad = thickness
    tab_height = text_height + baseline + 2 * pad
    tab_top = top - tab_height if top >= tab_height else top
    corner = (left + text_width + 2 * pad, tab_top + tab_height)
    cv2.rectangle(image, (left, tab_top), corner, BOX_COLOUR, -1, cv2.LINE_8)
    origin = (left + pad, tab_top + pad + text_height)
    cv2.putText(image, text, origin, font, scale, _LABEL_INK, 1, cv2.LINE_8)
