from .base_model import BaseModel
from .enums import Role


class Login(BaseModel):
    login: "LoginLogin"


class LoginLogin(BaseModel):
    token: str
    user: "LoginLoginUser"


class LoginLoginUser(BaseModel):
    id: str
    role: Role


Login.model_rebuild()
LoginLogin.model_rebuild()
