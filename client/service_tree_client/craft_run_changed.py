from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import CraftRunStatus


class CraftRunChanged(BaseModel):
    craft_run_changed: "CraftRunChangedCraftRunChanged" = Field(alias="craftRunChanged")


class CraftRunChangedCraftRunChanged(BaseModel):
    id: str
    key: str
    status: CraftRunStatus
    attempts: int
    error: Optional[str]
    scheduled_at: datetime = Field(alias="scheduledAt")
    finished_at: Optional[datetime] = Field(alias="finishedAt")
    craft: "CraftRunChangedCraftRunChangedCraft"


class CraftRunChangedCraftRunChangedCraft(BaseModel):
    id: str
    product: "CraftRunChangedCraftRunChangedCraftProduct"


class CraftRunChangedCraftRunChangedCraftProduct(BaseModel):
    id: str
    name: str
    stock: int


CraftRunChanged.model_rebuild()
CraftRunChangedCraftRunChanged.model_rebuild()
CraftRunChangedCraftRunChangedCraft.model_rebuild()
