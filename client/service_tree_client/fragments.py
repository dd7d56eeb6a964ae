from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class SessionPair(BaseModel):
    token: str
    expires_at: datetime = Field(alias="expiresAt")
    refresh_token: str = Field(alias="refreshToken")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")


SessionPair.model_rebuild()
