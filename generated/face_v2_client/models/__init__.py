"""Contains all the data models used in inputs/outputs"""

from .access_token import AccessToken
from .add_group_user_request import AddGroupUserRequest
from .add_user_request import AddUserRequest
from .capabilities import Capabilities
from .capabilities_detect import CapabilitiesDetect
from .capabilities_detect_face_fields import CapabilitiesDetectFaceFields
from .capabilities_detect_face_fields_additional_property import (
    CapabilitiesDetectFaceFieldsAdditionalProperty,
)
from .capabilities_limits import CapabilitiesLimits
from .capabilities_scores import CapabilitiesScores
from .detect_request import DetectRequest
from .detect_result import DetectResult
from .error import Error
from .face import Face
from .face_expression import FaceExpression
from .face_gender import FaceGender
from .face_glasses import FaceGlasses
from .face_race import FaceRace
from .face_shape import FaceShape
from .face_shape_type import FaceShapeType
from .face_type import FaceType
from .get_access_token_grant_type import GetAccessTokenGrantType
from .group_list_result import GroupListResult
from .group_member import GroupMember
from .group_user_request import GroupUserRequest
from .group_users_request import GroupUsersRequest
from .group_users_result import GroupUsersResult
from .identified_user import IdentifiedUser
from .identify_request import IdentifyRequest
from .identify_result import IdentifyResult
from .location import Location
from .log_id_result import LogIdResult
from .match_request import MatchRequest
from .match_result import MatchResult
from .occlusion import Occlusion
from .page_request import PageRequest
from .pair_score import PairScore
from .point import Point
from .qualities import Qualities
from .token_error import TokenError
from .token_error_error import TokenErrorError
from .uid_request import UidRequest
from .update_user_request import UpdateUserRequest
from .user_info_record import UserInfoRecord
from .user_result import UserResult
from .verify_request import VerifyRequest
from .verify_result import VerifyResult

__all__ = (
    "AccessToken",
    "AddGroupUserRequest",
    "AddUserRequest",
    "Capabilities",
    "CapabilitiesDetect",
    "CapabilitiesDetectFaceFields",
    "CapabilitiesDetectFaceFieldsAdditionalProperty",
    "CapabilitiesLimits",
    "CapabilitiesScores",
    "DetectRequest",
    "DetectResult",
    "Error",
    "Face",
    "FaceExpression",
    "FaceGender",
    "FaceGlasses",
    "FaceRace",
    "FaceShape",
    "FaceShapeType",
    "FaceType",
    "GetAccessTokenGrantType",
    "GroupListResult",
    "GroupMember",
    "GroupUserRequest",
    "GroupUsersRequest",
    "GroupUsersResult",
    "IdentifiedUser",
    "IdentifyRequest",
    "IdentifyResult",
    "Location",
    "LogIdResult",
    "MatchRequest",
    "MatchResult",
    "Occlusion",
    "PageRequest",
    "PairScore",
    "Point",
    "Qualities",
    "TokenError",
    "TokenErrorError",
    "UidRequest",
    "UpdateUserRequest",
    "UserInfoRecord",
    "UserResult",
    "VerifyRequest",
    "VerifyResult",
)
