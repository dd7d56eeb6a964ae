from pydantic import Field

from .base_model import BaseModel
from .fragments import SessionPair


class RefreshSession(BaseModel):
    refresh_session: "RefreshSessionRefreshSession" = Field(alias="refreshSession")


class RefreshSessionRefreshSession(SessionPair):
    user: "RefreshSessionRefreshSessionUser"


class RefreshSessionRefreshSessionUser(BaseModel):
    id: str


RefreshSession.model_rebuild()
RefreshSessionRefreshSession.model_rebuild()
