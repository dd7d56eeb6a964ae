from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class RefreshSession(BaseModel):
    refresh_session: "RefreshSessionRefreshSession" = Field(alias="refreshSession")


class RefreshSessionRefreshSession(BaseModel):
    token: str
    expires_at: datetime = Field(alias="expiresAt")
    refresh_token: str = Field(alias="refreshToken")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")
    user: "RefreshSessionRefreshSessionUser"


class RefreshSessionRefreshSessionUser(BaseModel):
    id: str


RefreshSession.model_rebuild()
RefreshSessionRefreshSession.model_rebuild()
