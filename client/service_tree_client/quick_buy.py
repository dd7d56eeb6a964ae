from .base_model import BaseModel


class QuickBuy(BaseModel):
    buy: "QuickBuyBuy"


class QuickBuyBuy(BaseModel):
    id: str


QuickBuy.model_rebuild()
