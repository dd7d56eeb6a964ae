from .base_model import BaseModel
from .enums import Role
from .fragments import SessionPair


class Login(BaseModel):
    login: "LoginLogin"


class LoginLogin(SessionPair):
    user: "LoginLoginUser"


class LoginLoginUser(BaseModel):
    id: str
    role: Role


Login.model_rebuild()
LoginLogin.model_rebuild()
