from pydantic import Field

from .base_model import BaseModel


class LogoutEverywhere(BaseModel):
    logout_everywhere: int = Field(alias="logoutEverywhere")
