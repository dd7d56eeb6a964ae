from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class UserPurchaseCount(BaseModel):
    user: Optional["UserPurchaseCountUser"]


class UserPurchaseCountUser(BaseModel):
    purchases: "UserPurchaseCountUserPurchases"


class UserPurchaseCountUserPurchases(BaseModel):
    total_count: int = Field(alias="totalCount")


UserPurchaseCount.model_rebuild()
UserPurchaseCountUser.model_rebuild()
