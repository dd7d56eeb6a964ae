"""Catalog rules of the shop subgraph: shops, categories, products, search."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.auth import Principal, Role
from subgraphs._common.errors import BadUserInput, Forbidden
from subgraphs._common.inputs import bounded, text
from subgraphs._common.pagination import Page, decode_cursor, encode_cursor, page_size
from subgraphs._common.rows import ensure_unique, get_required
from subgraphs.shop.models import Category, Product, Shop

MAX_PRICE = 10**12
MAX_STOCK = 10**9

_SHOP_TAKEN = "A shop with that name exists"


def require_admin(actor: Principal) -> None:
    """Catalog changes are for admins."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only an ADMIN may do this")


async def paginate(
    session: AsyncSession, query: Any, model: Any, *, first: int | None, after: str | None
) -> Page[Any]:
    """One page of `query` ordered by id, and the total count of its rows."""
    size = page_size(first)
    cursor = decode_cursor(after, arity=1)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    if cursor is not None:
        query = query.where(col(model.id) > int(cursor[0]))
    rows = list((await session.exec(query.order_by(col(model.id)).limit(size + 1))).all())
    has_next = len(rows) > size
    rows = rows[:size]
    return Page(
        rows=rows, has_next=has_next, end_cursor=encode_cursor(rows[-1].id) if rows else None, total=total
    )


async def create_shop(
    session: AsyncSession, *, actor: Principal, name: str, address: str, phone: str
) -> Shop:
    """A new shop."""
    require_admin(actor)
    shop = Shop(
        name=text(name, field="name", max_length=200),
        address=text(address, field="address", max_length=500),
        phone=text(phone, field="phone", max_length=32),
    )
    await ensure_unique(session, Shop, message=_SHOP_TAKEN, field="name", name=shop.name)
    session.add(shop)
    await session.flush()
    return shop


async def get_shop(session: AsyncSession, shop_id: int, *, field: str = "shopId") -> Shop:
    """A shop that must exist."""
    return await get_required(session, Shop, shop_id, message="No such shop", field=field)


async def update_shop(
    session: AsyncSession,
    *,
    actor: Principal,
    shop_id: int,
    name: str | None,
    address: str | None,
    phone: str | None,
) -> Shop:
    """Change a shop's name, address or phone."""
    require_admin(actor)
    shop = await get_shop(session, shop_id, field="id")
    if name is not None:
        new_name = text(name, field="name", max_length=200)
        await ensure_unique(
            session, Shop, message=_SHOP_TAKEN, field="name", exclude_id=shop_id, name=new_name
        )
        shop.name = new_name
    if address is not None:
        shop.address = text(address, field="address", max_length=500)
    if phone is not None:
        shop.phone = text(phone, field="phone", max_length=32)
    session.add(shop)
    await session.flush()
    return shop


async def create_category(session: AsyncSession, *, actor: Principal, shop_id: int, name: str) -> Category:
    """A new category in a shop."""
    require_admin(actor)
    await get_shop(session, shop_id)
    name = text(name, field="name", max_length=100)
    await ensure_unique(
        session,
        Category,
        message="That shop has a category with that name",
        field="name",
        shop_id=shop_id,
        name=name,
    )
    category = Category(shop_id=shop_id, name=name)
    session.add(category)
    await session.flush()
    return category


async def _category_of_shop(session: AsyncSession, *, category_id: int, shop_id: int) -> None:
    category = await session.get(Category, category_id)
    if category is None or category.shop_id != shop_id:
        raise BadUserInput("No such category in this shop", field="categoryId")


async def add_product(
    session: AsyncSession,
    *,
    actor: Principal,
    shop_id: int,
    name: str,
    description: str,
    price: int,
    category_id: int | None,
    stock: int,
) -> Product:
    """A new product in a shop."""
    require_admin(actor)
    await get_shop(session, shop_id)
    if category_id is not None:
        await _category_of_shop(session, category_id=category_id, shop_id=shop_id)
    product = Product(
        shop_id=shop_id,
        name=text(name, field="name", max_length=200),
        description=text(description, field="description", max_length=5000, allow_empty=True),
        price=bounded(price, field="price", low=0, high=MAX_PRICE),
        category_id=category_id,
        stock=bounded(stock, field="stock", low=0, high=MAX_STOCK),
    )
    session.add(product)
    await session.flush()
    return product


async def update_product(
    session: AsyncSession,
    *,
    actor: Principal,
    product_id: int,
    name: str | None,
    description: str | None,
    price: int | None,
    category_id: int | None,
) -> Product:
    """Change a product's name, description, price or category (stock changes only by buy and deliver)."""
    require_admin(actor)
    product = await get_required(session, Product, product_id, message="No such product", field="id")
    if name is not None:
        product.name = text(name, field="name", max_length=200)
    if description is not None:
        product.description = text(description, field="description", max_length=5000, allow_empty=True)
    if price is not None:
        product.price = bounded(price, field="price", low=0, high=MAX_PRICE)
    if category_id is not None:
        await _category_of_shop(session, category_id=category_id, shop_id=product.shop_id)
        product.category_id = category_id
    session.add(product)
    await session.flush()
    return product


def product_query(
    *,
    ids: Sequence[int] | None = None,
    shop_ids: Sequence[int] | None = None,
    category_ids: Sequence[int] | None = None,
    name_contains: str | None = None,
) -> Any:
    """Products filtered by whichever filters are given."""
    query = select(Product)
    if ids is not None:
        query = query.where(col(Product.id).in_(ids))
    if shop_ids is not None:
        query = query.where(col(Product.shop_id).in_(shop_ids))
    if category_ids is not None:
        query = query.where(col(Product.category_id).in_(category_ids))
    if name_contains is not None:
        # autoescape: % and _ in the user's text match themselves, not as wildcards.
        query = query.where(col(Product.name).icontains(name_contains, autoescape=True))
    return query


async def search_products(
    session: AsyncSession,
    *,
    query: str,
    shop_ids: Sequence[int] | None,
    category_ids: Sequence[int] | None,
    first: int | None,
) -> list[Product]:
    """Products whose name contains `query`, case-insensitively."""
    needle = text(query, field="query", max_length=200)
    size = page_size(first)
    statement = product_query(shop_ids=shop_ids, category_ids=category_ids, name_contains=needle)
    return list((await session.exec(statement.order_by(col(Product.id)).limit(size))).all())


async def shops_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Shop]:
    """Shops keyed by id."""
    rows = (await session.exec(select(Shop).where(col(Shop.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def categories_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Category]:
    """Categories keyed by id."""
    rows = (await session.exec(select(Category).where(col(Category.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def categories_of_shops(session: AsyncSession, shop_ids: Sequence[int]) -> dict[int, list[Category]]:
    """Each shop's categories, by name."""
    query = select(Category).where(col(Category.shop_id).in_(shop_ids)).order_by(Category.name)
    grouped: dict[int, list[Category]] = {shop_id: [] for shop_id in shop_ids}
    for row in (await session.exec(query)).all():
        grouped[row.shop_id].append(row)
    return grouped


async def products_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Product]:
    """Products keyed by id."""
    rows = (await session.exec(select(Product).where(col(Product.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}
