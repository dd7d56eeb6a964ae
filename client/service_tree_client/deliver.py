from .base_model import BaseModel


class Deliver(BaseModel):
    deliver: "DeliverDeliver"


class DeliverDeliver(BaseModel):
    key: str


Deliver.model_rebuild()
