from datetime import datetime
from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import Payment


class MyPurchases(BaseModel):
    me: Optional["MyPurchasesMe"]


class MyPurchasesMe(BaseModel):
    login: str
    purchases: "MyPurchasesMePurchases"


class MyPurchasesMePurchases(BaseModel):
    total_count: int = Field(alias="totalCount")
    nodes: list["MyPurchasesMePurchasesNodes"]


class MyPurchasesMePurchasesNodes(BaseModel):
    name: str
    payment: Payment
    total: int
    created_at: datetime = Field(alias="createdAt")
    user_category: Optional["MyPurchasesMePurchasesNodesUserCategory"] = Field(
        alias="userCategory"
    )
    check: "MyPurchasesMePurchasesNodesCheck"


class MyPurchasesMePurchasesNodesUserCategory(BaseModel):
    name: str


class MyPurchasesMePurchasesNodesCheck(BaseModel):
    number: int
    created_at: datetime = Field(alias="createdAt")
    shop: "MyPurchasesMePurchasesNodesCheckShop"
    lines: list["MyPurchasesMePurchasesNodesCheckLines"]


class MyPurchasesMePurchasesNodesCheckShop(BaseModel):
    name: str
    address: str


class MyPurchasesMePurchasesNodesCheckLines(BaseModel):
    quantity: int
    unit_price: int = Field(alias="unitPrice")
    product: "MyPurchasesMePurchasesNodesCheckLinesProduct"


class MyPurchasesMePurchasesNodesCheckLinesProduct(BaseModel):
    name: str
    category: Optional["MyPurchasesMePurchasesNodesCheckLinesProductCategory"]


class MyPurchasesMePurchasesNodesCheckLinesProductCategory(BaseModel):
    name: str


MyPurchases.model_rebuild()
MyPurchasesMe.model_rebuild()
MyPurchasesMePurchases.model_rebuild()
MyPurchasesMePurchasesNodes.model_rebuild()
MyPurchasesMePurchasesNodesCheck.model_rebuild()
MyPurchasesMePurchasesNodesCheckLines.model_rebuild()
MyPurchasesMePurchasesNodesCheckLinesProduct.model_rebuild()
