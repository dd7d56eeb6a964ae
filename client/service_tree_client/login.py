from datetime import datetime

from pydantic import Field

from .base_model import BaseModel
from .enums import Role


class Login(BaseModel):
    login: "LoginLogin"


class LoginLogin(BaseModel):
    token: str
    expires_at: datetime = Field(alias="expiresAt")
    refresh_token: str = Field(alias="refreshToken")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")
    user: "LoginLoginUser"


class LoginLoginUser(BaseModel):
    id: str
    role: Role


Login.model_rebuild()
LoginLogin.model_rebuild()
