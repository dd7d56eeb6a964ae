"""GraphQL types of the shop subgraph (tables never double as GraphQL types)."""

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry
from sqlalchemy import Row
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from subgraphs._common.connection import Connection
from subgraphs._common.db import as_utc
from subgraphs._common.driver_sql import stored_datetime
from subgraphs._common.ids import parse_ids, to_id
from subgraphs._common.loaders import load_required
from subgraphs._common.payment import Payment
from subgraphs._common.rows import by_ids
from subgraphs.shop import checks, deliveries, models, services
from subgraphs.shop.context import Context

Info = strawberry.Info[Context, None]


@strawberry.federation.type(directives=[Key(fields=FieldSet("id"), resolvable=False)])
class User:
    id: strawberry.ID


@strawberry.federation.type(keys=["id"])
class Shop:
    id: strawberry.ID
    name: str
    address: str
    phone: str

    @classmethod
    def from_row(cls, row: models.Shop | Row[Any, *tuple[Any, ...]]) -> Self:
        return cls(id=to_id(row.id), name=row.name, address=row.address, phone=row.phone)

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        found = await info.context.db.read(by_ids, models.Shop, parse_ids(ids, field="id"))
        return [cls.from_row(found[key]) if key in found else None for key in parse_ids(ids, field="id")]

    @strawberry.field
    async def categories(self, info: Info) -> list["Category"]:
        rows = await info.context.loaders.categories_of_shop.load(int(self.id))
        return [Category(id=to_id(row.id), name=row.name, shop=self) for row in rows]

    @strawberry.field
    async def products(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        category_ids: list[strawberry.ID] | None = None,
    ) -> "Connection[Product]":
        page = await info.context.db.read(
            services.list_products,
            shop_ids=[int(self.id)],
            category_ids=parse_ids(category_ids, field="categoryIds") if category_ids is not None else None,
            first=first,
            after=after,
        )
        return Connection.of(page, Product.of)

    @strawberry.field(description="ADMIN only.")
    async def checks(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> "Connection[Check]":
        page = await info.context.db.read(
            checks.shop_checks,
            actor=info.context.auth.require(),
            shop_id=int(self.id),
            first=first,
            after=after,
        )
        return Connection.of(page, Check.of)


@strawberry.type
class Category:
    id: strawberry.ID
    name: str
    shop: Shop


@strawberry.federation.type(keys=["id"])
class Product:
    id: strawberry.ID
    name: str
    description: str
    price: int
    stock: int
    category: Category | None
    shop: Shop

    @classmethod
    def of(cls, view: services.ProductView) -> Self:
        row, shop = view.product, Shop.from_row(view.shop)
        category = view.category
        return cls(
            id=to_id(row.id),
            name=row.name,
            description=row.description,
            price=row.price,
            stock=row.stock,
            category=Category(id=to_id(category.id), name=category.name, shop=shop) if category else None,
            shop=shop,
        )

    @classmethod
    def of_line(cls, line: Sequence[Any], shops: dict[int, Shop]) -> Self:
        """The product of a check line's row (checks.check_records), with its shop among `shops`."""
        _, _, _, product_id, shop_id, name, description, price, stock, category_id, category_name = line
        shop = shops[shop_id]
        return cls(
            id=to_id(product_id),
            name=name,
            description=description,
            price=price,
            stock=stock,
            category=Category(id=to_id(category_id), name=category_name, shop=shop)
            if category_id is not None
            else None,
            shop=shop,
        )

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        keys = parse_ids(ids, field="id")
        found = await info.context.db.read(services.products_by_ids, keys)
        return [cls.of(found[key]) if key in found else None for key in keys]


@strawberry.type
class CheckLine:
    quantity: int
    unit_price: int
    total: int
    product: Product

    @classmethod
    def of(cls, quantity: int, unit_price: int, product: Product) -> Self:
        return cls(quantity=quantity, unit_price=unit_price, total=quantity * unit_price, product=product)


@strawberry.federation.type(keys=["id"], description="Visible to its buyer and to ADMIN.")
class Check:
    id: strawberry.ID
    number: int = strawberry.field(description="1, 2, 3 ... per shop, never repeated.")
    payment: Payment
    total: int
    created_at: datetime
    shop: Shop
    user: User
    lines: list[CheckLine]

    @classmethod
    def of(cls, view: checks.CheckView) -> Self:
        lines = [
            CheckLine.of(line.quantity, line.unit_price, Product.of(product)) for line, product in view.lines
        ]
        row = view.check
        return cls._of(
            id=row.id,
            user_id=row.user_id,
            number=row.number,
            payment=row.payment,
            total=row.total,
            created_at=row.created_at,
            shop=Shop.from_row(view.shop),
            lines=lines,
        )

    @classmethod
    def of_records(cls, records: checks.CheckRecords) -> list[Self | Exception | None]:
        """From the flagship's reads in the driver's SQL: rows mapped straight to the types, no ORM objects.
        Each shop and product is mapped once, however many checks and lines show it (one read: one row for one
        id)."""
        shops = {
            shop_id: Shop(id=to_id(shop_id), name=name, address=address, phone=phone)
            for shop_id, name, address, phone in records.shops.values()
        }
        products: dict[int, Product] = {}
        answers: list[Self | Exception | None] = []
        for found in records.checks:
            if found is None or isinstance(found, Exception):
                answers.append(found)
                continue
            check_id, user_id, shop_id, number, payment, total, created_at = found
            lines = []
            for line in records.lines[check_id]:
                _, quantity, unit_price, product_id, *_ = line
                product = products.get(product_id)
                if product is None:
                    product = products[product_id] = Product.of_line(line, shops)
                lines.append(CheckLine.of(quantity, unit_price, product))
            answers.append(
                cls._of(
                    id=check_id,
                    user_id=user_id,
                    number=number,
                    payment=payment,
                    total=total,
                    created_at=stored_datetime(created_at),
                    shop=shops[shop_id],
                    lines=lines,
                )
            )
        return answers

    @classmethod
    def _of(
        cls,
        *,
        id: int | None,
        user_id: int,
        number: int,
        payment: str,
        total: int,
        created_at: datetime,
        shop: Shop,
        lines: list[CheckLine],
    ) -> Self:
        """A check from its columns (of its model or of a compiled read's row), its shop and lines."""
        return cls(
            id=to_id(id),
            number=number,
            payment=Payment(payment),
            total=total,
            created_at=as_utc(created_at),
            shop=shop,
            user=User(id=to_id(user_id)),
            lines=lines,
        )

    @strawberry.field(description="ADMIN only.")
    async def recording(self, info: Info) -> "PurchaseRecording | None":
        row = await info.context.loaders.recording.load(int(self.id))
        return PurchaseRecording.from_row(row) if row else None

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | Exception | None]:
        records = await info.context.db.read(
            checks.check_records, actor=info.context.auth.require(), ids=parse_ids(ids, field="id")
        )
        return cls.of_records(records)


@strawberry.enum
class RecordingStatus(enum.Enum):
    PENDING = "PENDING"
    RECORDED = "RECORDED"
    FAILED = "FAILED"


@strawberry.type(description="How recording a check's purchase in the purchase subgraph went.")
class PurchaseRecording:
    status: RecordingStatus = strawberry.field(
        description="PENDING is retried for as long as it takes; FAILED was refused for good."
    )
    attempts: int = strawberry.field(description="Attempts that failed.")
    last_error: str | None

    @classmethod
    def from_row(cls, row: models.Outbox) -> Self:
        status = (
            RecordingStatus.RECORDED
            if row.sent_at
            else RecordingStatus.FAILED
            if row.failed_at
            else RecordingStatus.PENDING
        )
        return cls(status=status, attempts=row.attempts, last_error=row.last_error)


@strawberry.type
class Delivery:
    id: strawberry.ID
    key: str
    count: int
    delivered_at: datetime
    product_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: deliveries.DeliveryRecord) -> Self:
        return cls(
            id=to_id(row.id),
            key=row.key,
            count=row.count,
            delivered_at=as_utc(row.delivered_at),
            product_id=row.product_id,
        )

    @strawberry.field
    async def product(self, info: Info) -> Product:
        return Product.of(await load_required(info.context.loaders.product, self.product_id, "product"))


@strawberry.input
class CreateShopInput:
    name: str
    address: str
    phone: str


@strawberry.input
class UpdateShopInput:
    id: strawberry.ID
    name: str | None = None
    address: str | None = None
    phone: str | None = None


@strawberry.input
class AddProductInput:
    shop_id: strawberry.ID
    name: str
    price: int
    description: str = ""
    category_id: strawberry.ID | None = None
    stock: int = strawberry.field(default=0, description="Starts at 0 unless given.")


@strawberry.input
class UpdateProductInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    price: int | None = None
    category_id: strawberry.ID | None = None


@strawberry.input
class BuyItem:
    product_id: strawberry.ID
    quantity: int = strawberry.field(description="1..10000")


@strawberry.input
class BuyInput:
    shop_id: strawberry.ID
    items: list[BuyItem] = strawberry.field(description="1..100 distinct products, all of this shop.")
    payment: Payment
    purchase_name: str
    idempotency_key: str | None = strawberry.field(
        default=None, description="Repeating a buy with the same key returns the first check."
    )


@strawberry.input
class DeliverInput:
    product_id: strawberry.ID
    count: int = strawberry.field(description="1..1000000")
    key: str = strawberry.field(description="1..200 characters; the same key twice delivers once.")
