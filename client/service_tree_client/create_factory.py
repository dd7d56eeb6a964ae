from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class CreateFactory(BaseModel):
    create_factory: "CreateFactoryCreateFactory" = Field(alias="createFactory")


class CreateFactoryCreateFactory(BaseModel):
    id: str
    name: str
    created_at: datetime = Field(alias="createdAt")


CreateFactory.model_rebuild()
