from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.face_expression import FaceExpression, check_face_expression
from ..models.face_gender import FaceGender, check_face_gender
from ..models.face_glasses import FaceGlasses, check_face_glasses
from ..models.face_race import FaceRace, check_face_race
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.face_shape import FaceShape
    from ..models.location import Location
    from ..models.point import Point
    from ..models.qualities import Qualities


T = TypeVar("T", bound="Face")


@_attrs_define
class Face:
    """One face.  The guide marks yaw, pitch and roll as always present;
    here they are optional because the local server leaves out an angle
    it cannot estimate soundly.

    """

    location: Location
    face_probability: float
    rotation_angle: int
    yaw: float | Unset = UNSET
    pitch: float | Unset = UNSET
    roll: float | Unset = UNSET
    age: float | Unset = UNSET
    beauty: float | Unset = UNSET
    expression: FaceExpression | Unset = UNSET
    expression_probability: float | Unset = UNSET
    faceshape: list[FaceShape] | Unset = UNSET
    gender: FaceGender | Unset = UNSET
    gender_probability: float | Unset = UNSET
    glasses: FaceGlasses | Unset = UNSET
    glasses_probability: float | Unset = UNSET
    landmark: list[Point] | Unset = UNSET
    """ Left eye centre, right eye centre, nose tip, mouth centre. """
    landmark72: list[Point] | Unset = UNSET
    race: FaceRace | Unset = UNSET
    race_probability: float | Unset = UNSET
    qualities: Qualities | Unset = UNSET
    """ Each member is present when it was computed.  The local server
    gives blur (0 sharp - 1 blurred), illumination (mean grey level
    0-255) and completeness (share of the face box inside the image).
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        location = self.location.to_dict()

        face_probability = self.face_probability

        rotation_angle = self.rotation_angle

        yaw = self.yaw

        pitch = self.pitch

        roll = self.roll

        age = self.age

        beauty = self.beauty

        expression: int | Unset = UNSET
        if not isinstance(self.expression, Unset):
            expression = self.expression

        expression_probability = self.expression_probability

        faceshape: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.faceshape, Unset):
            faceshape = []
            for faceshape_item_data in self.faceshape:
                faceshape_item = faceshape_item_data.to_dict()
                faceshape.append(faceshape_item)

        gender: str | Unset = UNSET
        if not isinstance(self.gender, Unset):
            gender = self.gender

        gender_probability = self.gender_probability

        glasses: int | Unset = UNSET
        if not isinstance(self.glasses, Unset):
            glasses = self.glasses

        glasses_probability = self.glasses_probability

        landmark: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.landmark, Unset):
            landmark = []
            for landmark_item_data in self.landmark:
                landmark_item = landmark_item_data.to_dict()
                landmark.append(landmark_item)

        landmark72: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.landmark72, Unset):
            landmark72 = []
            for landmark72_item_data in self.landmark72:
                landmark72_item = landmark72_item_data.to_dict()
                landmark72.append(landmark72_item)

        race: str | Unset = UNSET
        if not isinstance(self.race, Unset):
            race = self.race

        race_probability = self.race_probability

        qualities: dict[str, Any] | Unset = UNSET
        if not isinstance(self.qualities, Unset):
            qualities = self.qualities.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "location": location,
                "face_probability": face_probability,
                "rotation_angle": rotation_angle,
            }
        )
        if yaw is not UNSET:
            field_dict["yaw"] = yaw
        if pitch is not UNSET:
            field_dict["pitch"] = pitch
        if roll is not UNSET:
            field_dict["roll"] = roll
        if age is not UNSET:
            field_dict["age"] = age
        if beauty is not UNSET:
            field_dict["beauty"] = beauty
        if expression is not UNSET:
            field_dict["expression"] = expression
        if expression_probability is not UNSET:
            field_dict["expression_probability"] = expression_probability
        if faceshape is not UNSET:
            field_dict["faceshape"] = faceshape
        if gender is not UNSET:
            field_dict["gender"] = gender
        if gender_probability is not UNSET:
            field_dict["gender_probability"] = gender_probability
        if glasses is not UNSET:
            field_dict["glasses"] = glasses
        if glasses_probability is not UNSET:
            field_dict["glasses_probability"] = glasses_probability
        if landmark is not UNSET:
            field_dict["landmark"] = landmark
        if landmark72 is not UNSET:
            field_dict["landmark72"] = landmark72
        if race is not UNSET:
            field_dict["race"] = race
        if race_probability is not UNSET:
            field_dict["race_probability"] = race_probability
        if qualities is not UNSET:
            field_dict["qualities"] = qualities

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.face_shape import FaceShape  # noqa: PLC0415
        from ..models.location import Location  # noqa: PLC0415
        from ..models.point import Point  # noqa: PLC0415
        from ..models.qualities import Qualities  # noqa: PLC0415

        d = dict(src_dict)
        location = Location.from_dict(d.pop("location"))

        face_probability = d.pop("face_probability")

        rotation_angle = d.pop("rotation_angle")

        yaw = d.pop("yaw", UNSET)

        pitch = d.pop("pitch", UNSET)

        roll = d.pop("roll", UNSET)

        age = d.pop("age", UNSET)

        beauty = d.pop("beauty", UNSET)

        _expression = d.pop("expression", UNSET)
        expression: FaceExpression | Unset
        if isinstance(_expression, Unset):
            expression = UNSET
        else:
            expression = check_face_expression(_expression)

        expression_probability = d.pop("expression_probability", UNSET)

        _faceshape = d.pop("faceshape", UNSET)
        faceshape: list[FaceShape] | Unset = UNSET
        if _faceshape is not UNSET:
            faceshape = []
            for faceshape_item_data in _faceshape:
                faceshape_item = FaceShape.from_dict(faceshape_item_data)

                faceshape.append(faceshape_item)

        _gender = d.pop("gender", UNSET)
        gender: FaceGender | Unset
        if isinstance(_gender, Unset):
            gender = UNSET
        else:
            gender = check_face_gender(_gender)

        gender_probability = d.pop("gender_probability", UNSET)

        _glasses = d.pop("glasses", UNSET)
        glasses: FaceGlasses | Unset
        if isinstance(_glasses, Unset):
            glasses = UNSET
        else:
            glasses = check_face_glasses(_glasses)

        glasses_probability = d.pop("glasses_probability", UNSET)

        _landmark = d.pop("landmark", UNSET)
        landmark: list[Point] | Unset = UNSET
        if _landmark is not UNSET:
            landmark = []
            for landmark_item_data in _landmark:
                landmark_item = Point.from_dict(landmark_item_data)

                landmark.append(landmark_item)

        _landmark72 = d.pop("landmark72", UNSET)
        landmark72: list[Point] | Unset = UNSET
        if _landmark72 is not UNSET:
            landmark72 = []
            for landmark72_item_data in _landmark72:
                landmark72_item = Point.from_dict(landmark72_item_data)

                landmark72.append(landmark72_item)

        _race = d.pop("race", UNSET)
        race: FaceRace | Unset
        if isinstance(_race, Unset):
            race = UNSET
        else:
            race = check_face_race(_race)

        race_probability = d.pop("race_probability", UNSET)

        _qualities = d.pop("qualities", UNSET)
        qualities: Qualities | Unset
        if isinstance(_qualities, Unset):
            qualities = UNSET
        else:
            qualities = Qualities.from_dict(_qualities)

        face = cls(
            location=location,
            face_probability=face_probability,
            rotation_angle=rotation_angle,
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            age=age,
            beauty=beauty,
            expression=expression,
            expression_probability=expression_probability,
            faceshape=faceshape,
            gender=gender,
            gender_probability=gender_probability,
            glasses=glasses,
            glasses_probability=glasses_probability,
            landmark=landmark,
            landmark72=landmark72,
            race=race,
            race_probability=race_probability,
            qualities=qualities,
        )

        face.additional_properties = d
        return face

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
