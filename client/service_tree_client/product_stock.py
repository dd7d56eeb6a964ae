from typing import Optional

from .base_model import BaseModel


class ProductStock(BaseModel):
    product: Optional["ProductStockProduct"]


class ProductStockProduct(BaseModel):
    stock: int


ProductStock.model_rebuild()
