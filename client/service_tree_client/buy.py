from datetime import datetime

from pydantic import Field

from .base_model import BaseModel
from .enums import Payment


class Buy(BaseModel):
    buy: "BuyBuy"


class BuyBuy(BaseModel):
    id: str
    number: int
    total: int
    payment: Payment
    created_at: datetime = Field(alias="createdAt")
    shop: "BuyBuyShop"
    lines: list["BuyBuyLines"]


class BuyBuyShop(BaseModel):
    id: str


class BuyBuyLines(BaseModel):
    quantity: int
    unit_price: int = Field(alias="unitPrice")
    total: int
    product: "BuyBuyLinesProduct"


class BuyBuyLinesProduct(BaseModel):
    id: str


Buy.model_rebuild()
BuyBuy.model_rebuild()
BuyBuyLines.model_rebuild()
