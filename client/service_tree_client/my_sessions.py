from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class MySessions(BaseModel):
    me: Optional["MySessionsMe"]


class MySessionsMe(BaseModel):
    id: str
    sessions: list["MySessionsMeSessions"]


class MySessionsMeSessions(BaseModel):
    id: str
    created_at: datetime = Field(alias="createdAt")
    last_used_at: datetime = Field(alias="lastUsedAt")
    current: bool


MySessions.model_rebuild()
MySessionsMe.model_rebuild()
