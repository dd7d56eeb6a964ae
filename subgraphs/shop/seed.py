"""Demo data of the shop subgraph: a shop with categories and stocked products, on the first start."""

from sqlmodel import select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database
from subgraphs.shop import services
from subgraphs.shop.models import Shop

_OPERATOR = Principal(subject="seed", role=Role.ADMIN)
_CATALOG = {
    "Dairy": [("Milk 1 l", "Pasteurised, 3.2%", 8900, 120), ("Kefir 0.5 l", "", 6500, 80)],
    "Bakery": [("Rye bread", "Borodinsky, 400 g", 5500, 60), ("Baguette", "", 7000, 40)],
    "Produce": [("Apples 1 kg", "Antonovka", 12000, 200), ("Bananas 1 kg", "", 9900, 150)],
}


async def seed(db: Database) -> bool:
    """Create the demo shop unless a shop exists; True when it was created."""
    async with db.write() as session:
        if (await session.exec(select(Shop.id))).first() is not None:
            return False
        shop = await services.create_shop(
            session,
            actor=_OPERATOR,
            name="Corner Store",
            address="1 Tverskaya St, Moscow",
            phone="+7 495 000-00-00",
        )
        assert shop.id is not None
        for category_name, products in _CATALOG.items():
            category = await services.create_category(
                session, actor=_OPERATOR, shop_id=shop.id, name=category_name
            )
            for name, description, price, stock in products:
                await services.add_product(
                    session,
                    actor=_OPERATOR,
                    shop_id=shop.id,
                    name=name,
                    description=description,
                    price=price,
                    category_id=category.id,
                    stock=stock,
                )
    return True
