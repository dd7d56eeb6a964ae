from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class ChangePassword(BaseModel):
    change_password: "ChangePasswordChangePassword" = Field(alias="changePassword")


class ChangePasswordChangePassword(BaseModel):
    token: str
    expires_at: datetime = Field(alias="expiresAt")
    refresh_token: str = Field(alias="refreshToken")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")
    user: "ChangePasswordChangePasswordUser"


class ChangePasswordChangePasswordUser(BaseModel):
    id: str


ChangePassword.model_rebuild()
ChangePasswordChangePassword.model_rebuild()
