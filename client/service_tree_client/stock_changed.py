from pydantic import Field

from .base_model import BaseModel


class StockChanged(BaseModel):
    stock_changed: "StockChangedStockChanged" = Field(alias="stockChanged")


class StockChangedStockChanged(BaseModel):
    id: str
    name: str
    stock: int


StockChanged.model_rebuild()
