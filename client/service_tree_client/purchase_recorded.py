from datetime import datetime

from pydantic import Field

from .base_model import BaseModel


class PurchaseRecorded(BaseModel):
    purchase_recorded: "PurchaseRecordedPurchaseRecorded" = Field(
        alias="purchaseRecorded"
    )


class PurchaseRecordedPurchaseRecorded(BaseModel):
    id: str
    name: str
    total: int
    created_at: datetime = Field(alias="createdAt")
    check: "PurchaseRecordedPurchaseRecordedCheck"


class PurchaseRecordedPurchaseRecordedCheck(BaseModel):
    id: str
    number: int
    shop: "PurchaseRecordedPurchaseRecordedCheckShop"
    lines: list["PurchaseRecordedPurchaseRecordedCheckLines"]


class PurchaseRecordedPurchaseRecordedCheckShop(BaseModel):
    name: str


class PurchaseRecordedPurchaseRecordedCheckLines(BaseModel):
    quantity: int
    product: "PurchaseRecordedPurchaseRecordedCheckLinesProduct"


class PurchaseRecordedPurchaseRecordedCheckLinesProduct(BaseModel):
    name: str


PurchaseRecorded.model_rebuild()
PurchaseRecordedPurchaseRecorded.model_rebuild()
PurchaseRecordedPurchaseRecordedCheck.model_rebuild()
PurchaseRecordedPurchaseRecordedCheckLines.model_rebuild()
