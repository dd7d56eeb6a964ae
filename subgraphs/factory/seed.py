"""Demo data of the factory subgraph: one factory with two active crafts on short intervals."""

import logging
from collections.abc import Mapping

from sqlmodel import select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database
from subgraphs.factory import services
from subgraphs.factory.models import Factory

logger = logging.getLogger(__name__)

_OPERATOR = Principal(subject="seed", role=Role.ADMIN)
# (product name in the demo shop, count per run, interval in seconds)
CRAFTS = (("Milk 1 l", 3, 5), ("Apples 1 kg", 2, 7))


async def seed(db: Database, products: Mapping[str, int]) -> bool:
    """Create the demo factory unless a factory exists, crafting the demo shop's `products` (name -> id);
    True when it was created."""
    async with db.write() as session:
        if (await session.exec(select(Factory.id))).first() is not None:
            return False
        factory = await services.create_factory(session, actor=_OPERATOR, name="Dairy & Orchard Works")
        assert factory.id is not None
        for product_name, count, interval in CRAFTS:
            if product_name not in products:
                logger.warning("demo craft skipped: the demo shop has no product %r", product_name)
                continue
            await services.create_craft(
                session,
                actor=_OPERATOR,
                factory_id=factory.id,
                product_id=products[product_name],
                count_per_run=count,
                interval_seconds=interval,
                active=True,
            )
    return True
