from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class ShopCheckCount(BaseModel):
    shop: Optional["ShopCheckCountShop"]


class ShopCheckCountShop(BaseModel):
    checks: "ShopCheckCountShopChecks"


class ShopCheckCountShopChecks(BaseModel):
    total_count: int = Field(alias="totalCount")


ShopCheckCount.model_rebuild()
ShopCheckCountShop.model_rebuild()
