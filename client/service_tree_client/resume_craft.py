from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class ResumeCraft(BaseModel):
    resume_craft: "ResumeCraftResumeCraft" = Field(alias="resumeCraft")


class ResumeCraftResumeCraft(BaseModel):
    id: str
    active: bool
    next_run_at: Optional[datetime] = Field(alias="nextRunAt")


ResumeCraft.model_rebuild()
