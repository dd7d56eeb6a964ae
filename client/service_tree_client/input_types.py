from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Payment


class CreateCraftInput(BaseModel):
    factory_id: str = Field(alias="factoryId")
    product_id: str = Field(alias="productId")
    count_per_run: int = Field(alias="countPerRun")
    interval_seconds: int = Field(alias="intervalSeconds")
    active: bool = True


class RegisterInput(BaseModel):
    login: str
    password: str
    first_name: str = Field(alias="firstName")
    second_name: str = Field(alias="secondName")


class AddProductInput(BaseModel):
    shop_id: str = Field(alias="shopId")
    name: str
    price: int
    description: str = ""
    category_id: Optional[str] = Field(alias="categoryId", default=None)
    stock: int = 0
    "Starts at 0 unless given."


class BuyInput(BaseModel):
    shop_id: str = Field(alias="shopId")
    items: list["BuyItem"]
    "1..100 distinct products, all of this shop."
    payment: Payment
    purchase_name: str = Field(alias="purchaseName")
    idempotency_key: Optional[str] = Field(alias="idempotencyKey", default=None)
    "Repeating a buy with the same key returns the first check."


class BuyItem(BaseModel):
    product_id: str = Field(alias="productId")
    quantity: int
    "1..10000"


class CreateShopInput(BaseModel):
    name: str
    address: str
    phone: str


class DeliverInput(BaseModel):
    product_id: str = Field(alias="productId")
    count: int
    "1..1000000"
    key: str
    "1..200 characters; the same key twice delivers once."


BuyInput.model_rebuild()
