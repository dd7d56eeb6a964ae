"""Demo data of the shop subgraph: a shop with categories and stocked products, on the first start."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database
from subgraphs.shop import services
from subgraphs.shop.models import Product, Shop

_OPERATOR = Principal(subject="seed", role=Role.ADMIN)
SHOP_NAME = "Corner Store"
MILK = "Milk 1 l"
RYE_BREAD = "Rye bread"
APPLES = "Apples 1 kg"
# category -> (product name, description, price, stock)
CATALOG = {
    "Dairy": [(MILK, "Pasteurised, 3.2%", 8900, 120), ("Kefir 0.5 l", "", 6500, 80)],
    "Bakery": [(RYE_BREAD, "Borodinsky, 400 g", 5500, 60), ("Baguette", "", 7000, 40)],
    "Produce": [(APPLES, "Antonovka", 12000, 200), ("Bananas 1 kg", "", 9900, 150)],
}


@dataclass(frozen=True)
class DemoShop:
    """The demo shop's id and its products' ids by name; `created` on the start that made them."""

    shop_id: int | None
    products: dict[str, int]
    created: bool


async def seed(db: Database) -> DemoShop:
    """Create the demo shop unless a shop exists; the demo shop's ids either way (none if it is gone)."""
    return await db.write(_seed)


def _seed(session: Session) -> DemoShop:
    if session.exec(select(Shop.id)).first() is None:
        shop_id, products = _create(session)
        return DemoShop(shop_id=shop_id, products=products, created=True)
    return _look_up(session)


def _look_up(session: Session) -> DemoShop:
    """The demo shop made on an earlier start, found by its name and its products' names."""
    found = session.exec(select(Shop.id).where(Shop.name == SHOP_NAME)).first()
    if found is None:
        return DemoShop(shop_id=None, products={}, created=False)
    rows = session.exec(
        select(Product.name, Product.id).where(Product.shop_id == found).order_by(col(Product.id))
    )
    products = {name: product_id for name, product_id in rows if product_id is not None}
    return DemoShop(shop_id=found, products=products, created=False)


def _create(session: Session) -> tuple[int, dict[str, int]]:
    shop = services.create_shop(
        session, actor=_OPERATOR, name=SHOP_NAME, address="1 Tverskaya St, Moscow", phone="+7 495 000-00-00"
    )
    assert shop.id is not None
    products: dict[str, int] = {}
    for category_name, items in CATALOG.items():
        category, _ = services.create_category(session, actor=_OPERATOR, shop_id=shop.id, name=category_name)
        for name, description, price, stock in items:
            product = services.add_product(
                session,
                actor=_OPERATOR,
                shop_id=shop.id,
                name=name,
                description=description,
                price=price,
                category_id=category.id,
                stock=stock,
            )
            assert product.product.id is not None
            products[name] = product.product.id
    return shop.id, products
