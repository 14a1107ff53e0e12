from typing import Literal

FaceShapeType = Literal["heart", "oval", "round", "square", "triangle"]

FACE_SHAPE_TYPE_VALUES: set[FaceShapeType] = {
    "heart",
    "oval",
    "round",
    "square",
    "triangle",
}


def check_face_shape_type(value: str) -> FaceShapeType:
    if value in FACE_SHAPE_TYPE_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {FACE_SHAPE_TYPE_VALUES!r}"
    )
