"""Demo data of the factory subgraph: one factory with two active crafts on short intervals."""

import logging
from collections.abc import Mapping

from sqlmodel import Session, select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database
from subgraphs.factory import services
from subgraphs.factory.models import Craft, Factory

logger = logging.getLogger(__name__)

_OPERATOR = Principal(subject="seed", role=Role.ADMIN)
# (product name in the demo shop, count per run, interval in seconds)
CRAFTS = (("Milk 1 l", 3, 5), ("Apples 1 kg", 2, 7))


class _DemoProducts:
    """The demo shop's products as the seed knows them: the shop is not running yet to be asked."""

    def __init__(self, products: Mapping[str, int]) -> None:
        self._ids = set(products.values())

    async def product_exists(self, product_id: int) -> bool:
        return product_id in self._ids


class _NotScheduled:
    """The seed runs before the factory process: its scheduler picks the crafts up when it starts."""

    def schedule(self, craft: Craft) -> None:
        return None

    def unschedule(self, craft_id: int) -> None:
        return None


async def seed(db: Database, products: Mapping[str, int]) -> bool:
    """Create the demo factory unless a factory exists, crafting the demo shop's `products` (name -> id);
    True when it was created."""
    factory = await db.write(_create_factory)
    if factory is None:
        return False
    assert factory.id is not None
    for product_name, count, interval in CRAFTS:
        if product_name not in products:
            logger.warning("demo craft skipped: the demo shop has no product %r", product_name)
            continue
        await services.create_craft(
            db,
            actor=_OPERATOR,
            shop=_DemoProducts(products),
            scheduler=_NotScheduled(),
            factory_id=factory.id,
            product_id=products[product_name],
            count_per_run=count,
            interval_seconds=interval,
            active=True,
        )
    return True


def _create_factory(session: Session) -> Factory | None:
    if session.exec(select(Factory.id)).first() is not None:
        return None
    return services.create_factory(session, actor=_OPERATOR, name="Dairy & Orchard Works")
