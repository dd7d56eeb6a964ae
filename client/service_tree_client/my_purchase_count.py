from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class MyPurchaseCount(BaseModel):
    me: Optional["MyPurchaseCountMe"]


class MyPurchaseCountMe(BaseModel):
    purchases: "MyPurchaseCountMePurchases"


class MyPurchaseCountMePurchases(BaseModel):
    total_count: int = Field(alias="totalCount")


MyPurchaseCount.model_rebuild()
MyPurchaseCountMe.model_rebuild()
