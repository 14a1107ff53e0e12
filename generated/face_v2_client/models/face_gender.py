from typing import Literal

FaceGender = Literal["female", "male"]

FACE_GENDER_VALUES: set[FaceGender] = {
    "female",
    "male",
}


def check_face_gender(value: str) -> FaceGender:
    if value in FACE_GENDER_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {FACE_GENDER_VALUES!r}"
    )
