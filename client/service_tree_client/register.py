from datetime import datetime

from pydantic import Field

from .base_model import BaseModel
from .enums import Role


class Register(BaseModel):
    registered: "RegisterRegistered"


class RegisterRegistered(BaseModel):
    token: str
    expires_at: datetime = Field(alias="expiresAt")
    refresh_token: str = Field(alias="refreshToken")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")
    user: "RegisterRegisteredUser"


class RegisterRegisteredUser(BaseModel):
    id: str
    login: str
    first_name: str = Field(alias="firstName")
    second_name: str = Field(alias="secondName")
    role: Role


Register.model_rebuild()
RegisterRegistered.model_rebuild()
