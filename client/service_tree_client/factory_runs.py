from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import CraftRunStatus


class FactoryRuns(BaseModel):
    factory: Optional["FactoryRunsFactory"]


class FactoryRunsFactory(BaseModel):
    crafts: list["FactoryRunsFactoryCrafts"]


class FactoryRunsFactoryCrafts(BaseModel):
    id: str
    runs: list["FactoryRunsFactoryCraftsRuns"]


class FactoryRunsFactoryCraftsRuns(BaseModel):
    status: CraftRunStatus
    scheduled_at: datetime = Field(alias="scheduledAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")


FactoryRuns.model_rebuild()
FactoryRunsFactory.model_rebuild()
FactoryRunsFactoryCrafts.model_rebuild()
