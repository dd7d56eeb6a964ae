"""Tables owned by the shop subgraph."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from subgraphs._common.db import utcnow


class Table(SQLModel, registry=registry()):
    """Base of this subgraph's tables: their own metadata, apart from other subgraphs'."""


class Shop(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    address: str = Field(max_length=500)
    phone: str = Field(max_length=32)
    # Check numbers are taken from here with one conditional UPDATE, so concurrent buys never share one.
    last_check_number: int = 0


class Category(Table, table=True):
    __table_args__ = (UniqueConstraint("shop_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id", index=True)
    name: str = Field(max_length=100)


class Product(Table, table=True):
    __table_args__ = (CheckConstraint("stock >= 0", name="ck_product_stock_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id", index=True)
    category_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    price: int
    stock: int = 0
    # Bumped in the same UPDATE as every change of the product (its stock above all): the order of its
    # changes, by which a live subscriber drops an event older than one it has sent.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Check(Table, table=True):
    __table_args__ = (
        UniqueConstraint("shop_id", "number"),
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_check_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shop.id")
    number: int
    user_id: int
    payment: str = Field(max_length=8)
    total: int
    purchase_name: str = Field(max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class CheckLine(Table, table=True):
    __tablename__ = "check_line"

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(sa_column=Column(Integer, ForeignKey("check.id"), nullable=False, index=True))
    product_id: int = Field(foreign_key="product.id")
    quantity: int
    unit_price: int


class Delivery(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    count: int
    delivered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Outbox(Table, table=True):
    """A purchase still to be recorded in the purchase subgraph; written in the buy's transaction."""

    id: int | None = Field(default=None, primary_key=True)
    check_id: int = Field(foreign_key="check.id", unique=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # Set when the purchase subgraph refused the record for good (retrying cannot help): kept for an ADMIN.
    failed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    # The buy's request id: the record is sent and logged under it, however late (one grep follows the buy).
    request_id: str | None = Field(default=None, max_length=128)
