from pydantic import Field

from .base_model import BaseModel


class PauseCraft(BaseModel):
    pause_craft: "PauseCraftPauseCraft" = Field(alias="pauseCraft")


class PauseCraftPauseCraft(BaseModel):
    id: str
    active: bool


PauseCraft.model_rebuild()
