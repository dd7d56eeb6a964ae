from pydantic import Field

from .base_model import BaseModel
from .enums import Role
from .fragments import SessionPair


class Register(BaseModel):
    registered: "RegisterRegistered"


class RegisterRegistered(SessionPair):
    user: "RegisterRegisteredUser"


class RegisterRegisteredUser(BaseModel):
    id: str
    login: str
    first_name: str = Field(alias="firstName")
    second_name: str = Field(alias="secondName")
    role: Role


Register.model_rebuild()
RegisterRegistered.model_rebuild()
