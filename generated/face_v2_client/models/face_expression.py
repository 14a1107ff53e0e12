from typing import Literal

FaceExpression = Literal[0, 1, 2]

FACE_EXPRESSION_VALUES: set[FaceExpression] = {
    0,
    1,
    2,
}


def check_face_expression(value: int) -> FaceExpression:
    if value in FACE_EXPRESSION_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {FACE_EXPRESSION_VALUES!r}"
    )
