"""Catalog rules of the shop subgraph: shops, categories, products, search."""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from subgraphs._common import events, rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.errors import BadUserInput
from subgraphs._common.inputs import bounded, text
from subgraphs._common.pagination import Listing, Page, Sort, page_size
from subgraphs.shop.models import Category, Product, Shop

# Every number the API returns must fit GraphQL's Int (32 bits) and PostgreSQL's integer: bounds below 2^31.
MAX_INT = 2**31 - 1
MAX_PRICE = 10**9
MAX_STOCK = 10**9

_SHOP_TAKEN = "A shop with that name exists"
STOCK = "stock"  # the topic of products' committed changes (the stockChanged subscription)


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product with the shop that sells it and its category: everything a product shows."""

    product: Product
    shop: Shop
    category: Category | None


def product_views(session: Session, products: Iterable[Product]) -> list[ProductView]:
    """`products` with their shops and categories, in two statements whatever their number."""
    products = list(products)
    shop_ids = sorted({product.shop_id for product in products})
    category_ids = sorted({product.category_id for product in products if product.category_id is not None})
    shops = rows.by_ids(session, Shop, shop_ids) if shop_ids else {}
    categories = rows.by_ids(session, Category, category_ids) if category_ids else {}
    return [
        ProductView(
            product=product,
            shop=shops[product.shop_id],
            category=categories.get(product.category_id) if product.category_id is not None else None,
        )
        for product in products
    ]


def products_by_ids(session: Session, ids: Sequence[int]) -> dict[int, ProductView]:
    """Products with their shops and categories, keyed by id (missing ids are absent)."""
    return {
        view.product.id or 0: view
        for view in product_views(session, rows.by_ids(session, Product, ids).values())
    }


MAX_WATCHED = 100  # products one stockChanged subscription may watch


def watched_products(session: Session, *, ids: Sequence[int]) -> list[ProductView]:
    """The products a live subscriber asks to watch, as they are now: 1 to MAX_WATCHED known ids."""
    if not 1 <= len(ids) <= MAX_WATCHED:
        raise BadUserInput(f"'productIds' must hold 1 to {MAX_WATCHED} ids", field="productIds")
    found = products_by_ids(session, sorted(set(ids)))
    unknown = [str(product_id) for product_id in ids if product_id not in found]
    if unknown:
        raise BadUserInput(f"No such product: {', '.join(unknown)}", field="productIds")
    return [found[product_id] for product_id in dict.fromkeys(ids)]


def stock_changed(session: Session, changes: Iterable[tuple[int, int, int]]) -> None:
    """Publish products' changes (id, stock, version after the change) once the transaction commits."""
    events.publish(session, STOCK, _stock_items(changes))


def stock_notice(session: Session, changes: Iterable[tuple[int, int, int]]) -> str | None:
    """`stock_changed` for a change that sends the event in a statement of its own (`events.notice`)."""
    return events.notice(session, STOCK, _stock_items(changes))


def _stock_items(changes: Iterable[tuple[int, int, int]]) -> list[dict[str, Any]]:
    return [{"id": pid, "stock": stock, "version": version} for pid, stock, version in changes]


def get_shop(session: Session, shop_id: int, *, field: str = "shopId") -> Shop:
    """A shop that must exist."""
    return rows.get_required(session, Shop, shop_id, message="No such shop", field=field)


_SHOPS = Listing(select(Shop), order=(Sort(col(Shop.id)),))


def list_shops(session: Session, *, first: int | None, after: str | None) -> Page[Shop]:
    """Every shop, by id."""
    return _SHOPS.page(session, first=first, after=after)


def create_shop(session: Session, *, actor: Principal, name: str, address: str, phone: str) -> Shop:
    """A new shop."""
    actor.require(Role.ADMIN)
    shop = Shop(
        name=text(name, field="name", max_length=200),
        address=text(address, field="address", max_length=500),
        phone=text(phone, field="phone", max_length=32),
    )
    rows.ensure_unique(session, Shop, message=_SHOP_TAKEN, field="name", name=shop.name)
    return rows.save(session, shop)


def update_shop(
    session: Session,
    *,
    actor: Principal,
    shop_id: int,
    name: str | None,
    address: str | None,
    phone: str | None,
) -> Shop:
    """Change a shop's name, address or phone."""
    actor.require(Role.ADMIN)
    shop = get_shop(session, shop_id, field="id")
    if name is not None:
        new_name = text(name, field="name", max_length=200)
        rows.ensure_unique(
            session, Shop, message=_SHOP_TAKEN, field="name", exclude_id=shop_id, name=new_name
        )
        shop.name = new_name
    if address is not None:
        shop.address = text(address, field="address", max_length=500)
    if phone is not None:
        shop.phone = text(phone, field="phone", max_length=32)
    return rows.save(session, shop)


def create_category(session: Session, *, actor: Principal, shop_id: int, name: str) -> tuple[Category, Shop]:
    """A new category in a shop, and the shop."""
    actor.require(Role.ADMIN)
    shop = get_shop(session, shop_id)
    name = text(name, field="name", max_length=100)
    rows.ensure_unique(
        session,
        Category,
        message="That shop has a category with that name",
        field="name",
        shop_id=shop_id,
        name=name,
    )
    category = Category(shop_id=shop_id, name=name)
    rows.save(session, category)
    return category, shop


def _category_of_shop(session: Session, *, category_id: int, shop_id: int) -> None:
    category = session.get(Category, category_id)
    if category is None or category.shop_id != shop_id:
        raise BadUserInput("No such category in this shop", field="categoryId")


def add_product(
    session: Session,
    *,
    actor: Principal,
    shop_id: int,
    name: str,
    description: str,
    price: int,
    category_id: int | None,
    stock: int,
) -> ProductView:
    """A new product in a shop."""
    actor.require(Role.ADMIN)
    get_shop(session, shop_id)
    if category_id is not None:
        _category_of_shop(session, category_id=category_id, shop_id=shop_id)
    product = Product(
        shop_id=shop_id,
        name=text(name, field="name", max_length=200),
        description=text(description, field="description", max_length=5000, allow_empty=True),
        price=bounded(price, field="price", low=0, high=MAX_PRICE),
        category_id=category_id,
        stock=bounded(stock, field="stock", low=0, high=MAX_STOCK),
    )
    rows.save(session, product)
    return product_views(session, [product])[0]


def update_product(
    session: Session,
    *,
    actor: Principal,
    product_id: int,
    name: str | None,
    description: str | None,
    price: int | None,
    category_id: int | None,
) -> ProductView:
    """Change a product's name, description, price or category (stock changes only by buy and deliver)."""
    actor.require(Role.ADMIN)
    product = rows.get_required(session, Product, product_id, message="No such product", field="id")
    if name is not None:
        product.name = text(name, field="name", max_length=200)
    if description is not None:
        product.description = text(description, field="description", max_length=5000, allow_empty=True)
    if price is not None:
        product.price = bounded(price, field="price", low=0, high=MAX_PRICE)
    if category_id is not None:
        _category_of_shop(session, category_id=category_id, shop_id=product.shop_id)
        product.category_id = category_id
    rows.save(session, product)
    stock_changed(session, [bump_version(session, product_id)])
    return product_views(session, [product])[0]


def bump_version(session: Session, product_id: int) -> tuple[int, int, int]:
    """The product's next version, taken in one UPDATE ... RETURNING like a buy's (a concurrent buy on another
    replica queues on the row, so no two changes share a version); its id, stock and version."""
    row = session.execute(
        update(Product)
        .where(col(Product.id) == product_id)
        .values(version=col(Product.version) + 1)
        .returning(col(Product.id), col(Product.stock), col(Product.version))
    ).one()
    return row[0], row[1], row[2]


def _products(
    *,
    ids: bool = False,
    shop_ids: bool = False,
    category_ids: bool = False,
    name_contains: str | None = None,
) -> Any:
    """Products filtered by whichever filters are on (each a bound parameter of its name), and by name."""
    query = select(Product)
    if ids:
        query = query.where(col(Product.id).in_(bindparam("ids", expanding=True)))
    if shop_ids:
        query = query.where(col(Product.shop_id).in_(bindparam("shop_ids", expanding=True)))
    if category_ids:
        query = query.where(col(Product.category_id).in_(bindparam("category_ids", expanding=True)))
    if name_contains is not None:
        # autoescape: % and _ in the user's text match themselves, not as wildcards.
        query = query.where(col(Product.name).icontains(name_contains, autoescape=True))
    return query


def _filter_params(**filters: Sequence[int] | None) -> dict[str, list[int]]:
    """The bound parameters of the filters given (a filter left as None is off)."""
    return {name: list(values) for name, values in filters.items() if values is not None}


@functools.cache
def _product_listing(ids: bool, shop_ids: bool, category_ids: bool) -> Listing:
    # One listing per combination of filters: each is built and compiled once.
    return Listing(
        _products(ids=ids, shop_ids=shop_ids, category_ids=category_ids), order=(Sort(col(Product.id)),)
    )


def list_products(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    shop_ids: Sequence[int] | None = None,
    category_ids: Sequence[int] | None = None,
    first: int | None,
    after: str | None,
) -> Page[ProductView]:
    """Products by id, filtered by whichever filters are given."""
    params = _filter_params(ids=ids, shop_ids=shop_ids, category_ids=category_ids)
    listing = _product_listing("ids" in params, "shop_ids" in params, "category_ids" in params)
    page = listing.page(session, first=first, after=after, **params)
    return replace(page, rows=product_views(session, page.rows))


def search_products(
    session: Session,
    *,
    query: str,
    shop_ids: Sequence[int] | None,
    category_ids: Sequence[int] | None,
    first: int | None,
) -> list[ProductView]:
    """Products whose name contains `query`, case-insensitively."""
    needle = text(query, field="query", max_length=200)
    statement = _products(
        shop_ids=shop_ids is not None, category_ids=category_ids is not None, name_contains=needle
    )
    params: dict[str, Any] = {
        "limit": page_size(first),
        **_filter_params(shop_ids=shop_ids, category_ids=category_ids),
    }
    found = session.exec(statement.order_by(col(Product.id)).limit(bindparam("limit")), params=params).all()
    return product_views(session, found)
