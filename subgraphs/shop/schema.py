"""Query and Mutation of the shop subgraph, and its federation schema."""

import dataclasses
import functools
from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from subgraphs._common import live, request_id
from subgraphs._common.connection import Connection
from subgraphs._common.db import Database
from subgraphs._common.events import Event, bus_of
from subgraphs._common.ids import parse_id, parse_ids, to_id
from subgraphs._common.schema import SubgraphSchema
from subgraphs._common.shared_answers import share
from subgraphs.shop import buying, checks, deliveries, services
from subgraphs.shop.types import (
    AddProductInput,
    BuyInput,
    Category,
    Check,
    CreateShopInput,
    DeliverInput,
    Delivery,
    Info,
    Product,
    Shop,
    UpdateProductInput,
    UpdateShopInput,
    User,
)


def _optional_ids(values: list[strawberry.ID] | None, field: str) -> list[int] | None:
    return parse_ids(values, field=field) if values is not None else None


def _optional_id(value: strawberry.ID | None, field: str) -> int | None:
    return parse_id(value, field=field) if value else None


def _order(input: DeliverInput) -> deliveries.DeliveryOrder:
    return deliveries.DeliveryOrder(
        product_id=parse_id(input.product_id, field="productId"), count=input.count, key=input.key
    )


@strawberry.type
class Query:
    @strawberry.field
    async def shops(self, info: Info, first: int | None = 20, after: str | None = None) -> Connection[Shop]:
        page = await info.context.db.read(services.list_shops, first=first, after=after)
        return Connection.of(page, Shop.from_row)

    @strawberry.field
    async def shop(self, info: Info, id: strawberry.ID) -> Shop | None:
        row = await info.context.loaders.shop.load(parse_id(id, field="id"))
        return Shop.from_row(row) if row else None

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        view = await info.context.loaders.product.load(parse_id(id, field="id"))
        return Product.of(view) if view else None

    @strawberry.field
    async def products(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        shop_ids: list[strawberry.ID] | None = None,
        category_ids: list[strawberry.ID] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Product]:
        page = await info.context.db.read(
            services.list_products,
            ids=_optional_ids(ids, "ids"),
            shop_ids=_optional_ids(shop_ids, "shopIds"),
            category_ids=_optional_ids(category_ids, "categoryIds"),
            first=first,
            after=after,
        )
        return Connection.of(page, Product.of)

    @strawberry.field(description="Case-insensitive substring of the name; both id filters optional.")
    async def search_products(
        self,
        info: Info,
        query: str,
        shop_ids: list[strawberry.ID] | None = None,
        category_ids: list[strawberry.ID] | None = None,
        first: int | None = 20,
    ) -> list[Product]:
        views = await info.context.db.read(
            services.search_products,
            query=query,
            shop_ids=_optional_ids(shop_ids, "shopIds"),
            category_ids=_optional_ids(category_ids, "categoryIds"),
            first=first,
        )
        return [Product.of(view) for view in views]

    @strawberry.field(description="Yours, or any for an ADMIN.")
    async def check(self, info: Info, id: strawberry.ID) -> Check | None:
        view = await info.context.db.read(
            checks.get_check, actor=info.context.auth.require(), check_id=parse_id(id, field="id")
        )
        return Check.of(view) if view else None

    @strawberry.field(description="Checks by id; unknown ids (or not yours) give null entries.")
    async def checks(self, info: Info, ids: list[strawberry.ID]) -> list[Check | None]:
        views = await info.context.db.read(
            checks.checks_by_ids, actor=info.context.auth.require(), ids=parse_ids(ids, field="ids")
        )
        return [Check.of(view) if view else None for view in views]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="ADMIN.")
    async def create_shop(self, info: Info, input: CreateShopInput) -> Shop:
        row = await info.context.db.write(
            services.create_shop,
            actor=info.context.auth.require(),
            name=input.name,
            address=input.address,
            phone=input.phone,
        )
        return Shop.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def update_shop(self, info: Info, input: UpdateShopInput) -> Shop:
        row = await info.context.db.write(
            services.update_shop,
            actor=info.context.auth.require(),
            shop_id=parse_id(input.id, field="id"),
            name=input.name,
            address=input.address,
            phone=input.phone,
        )
        return Shop.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def create_category(self, info: Info, shop_id: strawberry.ID, name: str) -> Category:
        row, shop = await info.context.db.write(
            services.create_category,
            actor=info.context.auth.require(),
            shop_id=parse_id(shop_id, field="shopId"),
            name=name,
        )
        return Category(id=to_id(row.id), name=row.name, shop=Shop.from_row(shop))

    @strawberry.mutation(description="ADMIN. Stock starts at 0 unless given.")
    async def add_product(self, info: Info, input: AddProductInput) -> Product:
        row = await info.context.db.write(
            services.add_product,
            actor=info.context.auth.require(),
            shop_id=parse_id(input.shop_id, field="shopId"),
            name=input.name,
            description=input.description,
            price=input.price,
            category_id=_optional_id(input.category_id, "categoryId"),
            stock=input.stock,
        )
        return Product.of(row)

    @strawberry.mutation(description="ADMIN.")
    async def update_product(self, info: Info, input: UpdateProductInput) -> Product:
        row = await info.context.db.write(
            services.update_product,
            actor=info.context.auth.require(),
            product_id=parse_id(input.id, field="id"),
            name=input.name,
            description=input.description,
            price=input.price,
            category_id=_optional_id(input.category_id, "categoryId"),
        )
        return Product.of(row)

    @strawberry.mutation(description="Any logged-in user, for themselves.")
    async def buy(self, info: Info, input: BuyInput) -> Check:
        actor = info.context.auth.require()
        items = [
            buying.Item(product_id=parse_id(item.product_id, field="items.productId"), quantity=item.quantity)
            for item in input.items
        ]
        records = await info.context.db.write(
            buying.buy,
            actor=actor,
            recorder=info.context.resources.relay,
            shop_id=parse_id(input.shop_id, field="shopId"),
            items=items,
            payment=input.payment,
            purchase_name=input.purchase_name,
            idempotency_key=input.idempotency_key,
            request_id=request_id.current(),
        )
        [check] = Check.of_records(records)  # the buyer's own check: never missing, never refused
        assert isinstance(check, Check)
        return check

    @strawberry.mutation(
        description="ADMIN or SERVICE; the same key twice gives the same Delivery, stock added once."
    )
    async def deliver(self, info: Info, input: DeliverInput) -> Delivery:
        row = await info.context.db.write(
            deliveries.deliver, actor=info.context.auth.require(), order=_order(input)
        )
        return Delivery.from_row(row)

    @strawberry.mutation(
        description="ADMIN or SERVICE. 1..1000 deliveries in one transaction, each once per key. One entry "
        "per input, in order: the delivery, or null with that input's error (code and field) at its index."
    )
    async def deliver_many(self, info: Info, inputs: list[DeliverInput]) -> list[Delivery | None]:
        results = await info.context.db.write(
            deliveries.deliver_many,
            actor=info.context.auth.require(),
            orders=[_order(item) for item in inputs],
        )
        # An error in place of an entry becomes that entry's GraphQL error (graphql-core raises it there).
        entries: list[Any] = [r if isinstance(r, Exception) else Delivery.from_row(r) for r in results]
        return entries


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Anyone. 1..100 products: each as it is now, then as it is after each committed change "
        "(buy, delivery, edit); never older than one sent before."
    )
    async def stock_changed(
        self, info: Info, product_ids: list[strawberry.ID]
    ) -> AsyncGenerator[Product, None]:
        ids = parse_ids(product_ids, field="productIds")
        db = info.context.db
        async with live.watch(
            bus_of(db), services.STOCK, field="stockChanged", auth=info.context.auth
        ) as changes:
            # Read after subscribing: a change committed in between comes as an event, and the versions
            # tell which of the two is newer.
            sent: dict[int, int] = {}
            for view in await db.read(services.watched_products, ids=ids):
                sent[view.product.id or 0] = view.product.version
                live.sent("stockChanged")
                yield Product.of(view)
            async for event in changes:
                fresh = [item for item in event.items if item["version"] > sent.get(item["id"], 2**63)]
                if not fresh:
                    continue
                products = await event.shared("products", functools.partial(_products_of, db, event))
                for item in fresh:
                    if (changed := products.get((item["id"], item["version"]))) is None:
                        continue  # deleted since (products are not deleted today)
                    sent[item["id"]] = item["version"]
                    live.sent("stockChanged")
                    yield changed


def prepare_stock_events(db: Database) -> None:
    """Read each stock event's products once as it comes, before stockChanged's subscribers take it (at
    start-up: `EventBus.prepare`)."""
    bus_of(db).prepare(services.STOCK, "products", functools.partial(_products_of, db))


async def _products_of(db: Database, event: Event) -> dict[tuple[int, int], Product]:
    """The products of an event by (id, version), read and built once for every subscriber of this process."""
    views = await db.read(services.products_by_ids, sorted({item["id"] for item in event.items}))
    # The stock of the change itself: a later change has its own event, in its turn. Shared: each is the same
    # object for every subscriber, never changed, so its answer is executed once for subscribers alike.
    return {
        (item["id"], item["version"]): share(
            dataclasses.replace(Product.of(views[item["id"]]), stock=item["stock"])
        )
        for item in event.items
        if item["id"] in views
    }


schema = SubgraphSchema(query=Query, mutation=Mutation, subscription=Subscription, types=[User])
