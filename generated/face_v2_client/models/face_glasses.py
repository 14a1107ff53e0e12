from typing import Literal

FaceGlasses = Literal[0, 1, 2]

FACE_GLASSES_VALUES: set[FaceGlasses] = {
    0,
    1,
    2,
}


def check_face_glasses(value: int) -> FaceGlasses:
    if value in FACE_GLASSES_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {FACE_GLASSES_VALUES!r}"
    )
