from typing import Literal

FaceRace = Literal["arabs", "black", "white", "yellow"]

FACE_RACE_VALUES: set[FaceRace] = {
    "arabs",
    "black",
    "white",
    "yellow",
}


def check_face_race(value: str) -> FaceRace:
    if value in FACE_RACE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FACE_RACE_VALUES!r}")
