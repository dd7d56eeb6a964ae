"""Demo data of the factory subgraph: one factory with two active crafts on short intervals."""

from sqlmodel import select

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database
from subgraphs.factory import services
from subgraphs.factory.models import Factory

_OPERATOR = Principal(subject="seed", role=Role.ADMIN)
# (product id in the demo shop, count per run, interval in seconds): milk and apples.
_CRAFTS = ((1, 3, 5), (5, 2, 7))


async def seed(db: Database) -> bool:
    """Create the demo factory unless a factory exists; True when it was created."""
    async with db.write() as session:
        if (await session.exec(select(Factory.id))).first() is not None:
            return False
        factory = await services.create_factory(session, actor=_OPERATOR, name="Dairy & Orchard Works")
        assert factory.id is not None
        for product_id, count, interval in _CRAFTS:
            await services.create_craft(
                session,
                actor=_OPERATOR,
                factory_id=factory.id,
                product_id=product_id,
                count_per_run=count,
                interval_seconds=interval,
                active=True,
            )
    return True
