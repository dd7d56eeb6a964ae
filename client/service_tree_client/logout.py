from .base_model import BaseModel


class Logout(BaseModel):
    logout: bool
