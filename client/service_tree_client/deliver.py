from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class Deliver(BaseModel):
    deliver: "DeliverDeliver"


class DeliverDeliver(BaseModel):
    key: str
    delivered_at: datetime = Field(alias="deliveredAt")


Deliver.model_rebuild()
