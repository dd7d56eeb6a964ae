from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class CreateCraft(BaseModel):
    create_craft: "CreateCraftCreateCraft" = Field(alias="createCraft")


class CreateCraftCreateCraft(BaseModel):
    id: str
    count_per_run: int = Field(alias="countPerRun")
    interval_seconds: int = Field(alias="intervalSeconds")
    active: bool
    next_run_at: Optional[datetime] = Field(alias="nextRunAt")
    factory: "CreateCraftCreateCraftFactory"
    product: "CreateCraftCreateCraftProduct"


class CreateCraftCreateCraftFactory(BaseModel):
    id: str
    name: str


class CreateCraftCreateCraftProduct(BaseModel):
    id: str
    name: str


CreateCraft.model_rebuild()
CreateCraftCreateCraft.model_rebuild()
