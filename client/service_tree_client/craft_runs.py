from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import CraftRunStatus


class CraftRuns(BaseModel):
    craft: Optional["CraftRunsCraft"]


class CraftRunsCraft(BaseModel):
    id: str
    active: bool
    next_run_at: Optional[datetime] = Field(alias="nextRunAt")
    runs: list["CraftRunsCraftRuns"]


class CraftRunsCraftRuns(BaseModel):
    key: str
    status: CraftRunStatus
    attempts: int
    scheduled_at: datetime = Field(alias="scheduledAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")
    error: Optional[str]


CraftRuns.model_rebuild()
CraftRunsCraft.model_rebuild()
