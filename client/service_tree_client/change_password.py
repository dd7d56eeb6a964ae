from pydantic import Field

from .base_model import BaseModel
from .fragments import SessionPair


class ChangePassword(BaseModel):
    change_password: "ChangePasswordChangePassword" = Field(alias="changePassword")


class ChangePasswordChangePassword(SessionPair):
    user: "ChangePasswordChangePasswordUser"


class ChangePasswordChangePasswordUser(BaseModel):
    id: str


ChangePassword.model_rebuild()
ChangePasswordChangePassword.model_rebuild()
