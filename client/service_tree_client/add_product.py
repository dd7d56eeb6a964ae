from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class AddProduct(BaseModel):
    add_product: "AddProductAddProduct" = Field(alias="addProduct")


class AddProductAddProduct(BaseModel):
    id: str
    name: str
    price: int
    stock: int
    category: Optional["AddProductAddProductCategory"]
    shop: "AddProductAddProductShop"


class AddProductAddProductCategory(BaseModel):
    id: str
    name: str


class AddProductAddProductShop(BaseModel):
    id: str


AddProduct.model_rebuild()
AddProductAddProduct.model_rebuild()
