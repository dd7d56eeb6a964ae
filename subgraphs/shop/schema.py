"""Query and Mutation of the shop subgraph, and its federation schema."""

import strawberry
from sqlmodel import select

from subgraphs._common.ids import parse_id, parse_ids
from subgraphs._common.schema import SubgraphSchema
from subgraphs.shop import models, sales, services
from subgraphs.shop.types import (
    AddProductInput,
    BuyInput,
    Category,
    Check,
    CreateShopInput,
    DeliverInput,
    Delivery,
    Info,
    PageInfo,
    Product,
    ProductConnection,
    Shop,
    ShopConnection,
    UpdateProductInput,
    UpdateShopInput,
    User,
)


def _optional_ids(values: list[strawberry.ID] | None, field: str) -> list[int] | None:
    return parse_ids(values, field=field) if values is not None else None


@strawberry.type
class Query:
    @strawberry.field
    async def shops(self, info: Info, first: int | None = 20, after: str | None = None) -> ShopConnection:
        async with info.context.db.read() as session:
            page = await services.paginate(
                session, select(models.Shop), models.Shop, first=first, after=after
            )
        return ShopConnection(
            nodes=[Shop.from_row(row) for row in page.rows],
            page_info=PageInfo.of(page),
            total_count=page.total,
        )

    @strawberry.field
    async def shop(self, info: Info, id: strawberry.ID) -> Shop | None:
        row = await info.context.loaders.shop.load(parse_id(id, field="id"))
        return Shop.from_row(row) if row else None

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        row = await info.context.loaders.product.load(parse_id(id, field="id"))
        return Product.from_row(row) if row else None

    @strawberry.field
    async def products(
        self,
        info: Info,
        ids: list[strawberry.ID] | None = None,
        shop_ids: list[strawberry.ID] | None = None,
        category_ids: list[strawberry.ID] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> ProductConnection:
        query = services.product_query(
            ids=_optional_ids(ids, "ids"),
            shop_ids=_optional_ids(shop_ids, "shopIds"),
            category_ids=_optional_ids(category_ids, "categoryIds"),
        )
        async with info.context.db.read() as session:
            page = await services.paginate(session, query, models.Product, first=first, after=after)
        return ProductConnection.of(page)

    @strawberry.field(description="Case-insensitive substring of the name; both id filters optional.")
    async def search_products(
        self,
        info: Info,
        query: str,
        shop_ids: list[strawberry.ID] | None = None,
        category_ids: list[strawberry.ID] | None = None,
        first: int | None = 20,
    ) -> list[Product]:
        async with info.context.db.read() as session:
            rows = await services.search_products(
                session,
                query=query,
                shop_ids=_optional_ids(shop_ids, "shopIds"),
                category_ids=_optional_ids(category_ids, "categoryIds"),
                first=first,
            )
        return [Product.from_row(row) for row in rows]

    @strawberry.field(description="Yours, or any for an ADMIN.")
    async def check(self, info: Info, id: strawberry.ID) -> Check | None:
        actor = info.context.auth.require()
        async with info.context.db.read() as session:
            row = await sales.get_check(session, actor=actor, check_id=parse_id(id, field="id"))
        return Check.from_row(row) if row else None

    @strawberry.field(description="Checks by id; unknown ids (or not yours) give null entries.")
    async def checks(self, info: Info, ids: list[strawberry.ID]) -> list[Check | None]:
        actor = info.context.auth.require()
        rows = await info.context.loaders.check.load_many(parse_ids(ids, field="ids"))
        return [Check.from_row(row) if row and sales.can_see_check(actor, row) else None for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="ADMIN.")
    async def create_shop(self, info: Info, input: CreateShopInput) -> Shop:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.create_shop(
                session, actor=actor, name=input.name, address=input.address, phone=input.phone
            )
        return Shop.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def update_shop(self, info: Info, input: UpdateShopInput) -> Shop:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.update_shop(
                session,
                actor=actor,
                shop_id=parse_id(input.id, field="id"),
                name=input.name,
                address=input.address,
                phone=input.phone,
            )
        return Shop.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def create_category(self, info: Info, shop_id: strawberry.ID, name: str) -> Category:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.create_category(
                session, actor=actor, shop_id=parse_id(shop_id, field="shopId"), name=name
            )
        return Category.from_row(row)

    @strawberry.mutation(description="ADMIN. Stock starts at 0 unless given.")
    async def add_product(self, info: Info, input: AddProductInput) -> Product:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.add_product(
                session,
                actor=actor,
                shop_id=parse_id(input.shop_id, field="shopId"),
                name=input.name,
                description=input.description,
                price=input.price,
                category_id=parse_id(input.category_id, field="categoryId") if input.category_id else None,
                stock=input.stock,
            )
        return Product.from_row(row)

    @strawberry.mutation(description="ADMIN.")
    async def update_product(self, info: Info, input: UpdateProductInput) -> Product:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await services.update_product(
                session,
                actor=actor,
                product_id=parse_id(input.id, field="id"),
                name=input.name,
                description=input.description,
                price=input.price,
                category_id=parse_id(input.category_id, field="categoryId") if input.category_id else None,
            )
        return Product.from_row(row)

    @strawberry.mutation(description="Any logged-in user, for themselves.")
    async def buy(self, info: Info, input: BuyInput) -> Check:
        actor = info.context.auth.require()
        items = [
            sales.Item(product_id=parse_id(item.product_id, field="items.productId"), quantity=item.quantity)
            for item in input.items
        ]
        async with info.context.db.write() as session:
            row = await sales.buy(
                session,
                actor=actor,
                shop_id=parse_id(input.shop_id, field="shopId"),
                items=items,
                payment=input.payment.value,
                purchase_name=input.purchase_name,
                idempotency_key=input.idempotency_key,
            )
        # The check is committed; record the purchase now so the buyer sees it at once (from the row in hand,
        # no re-read). If the purchase subgraph is down, the outbox relay keeps trying: the buy has succeeded.
        if not await info.context.relay.record_now(sales.purchase_record(row)):
            info.context.relay.poller.wake()
        return Check.from_row(row)

    @strawberry.mutation(
        description="ADMIN or SERVICE; the same key twice gives the same Delivery, stock added once."
    )
    async def deliver(self, info: Info, input: DeliverInput) -> Delivery:
        actor = info.context.auth.require()
        async with info.context.db.write() as session:
            row = await sales.deliver(
                session,
                actor=actor,
                product_id=parse_id(input.product_id, field="productId"),
                count=input.count,
                key=input.key,
            )
        return Delivery.from_row(row)


schema = SubgraphSchema(query=Query, mutation=Mutation, types=[User])
