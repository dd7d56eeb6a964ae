from pydantic import Field

from .base_model import BaseModel


class CreateShop(BaseModel):
    create_shop: "CreateShopCreateShop" = Field(alias="createShop")


class CreateShopCreateShop(BaseModel):
    id: str
    name: str
    address: str
    phone: str


CreateShop.model_rebuild()
