"""DataLoaders of the factory subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.db import Database
from subgraphs._common.loaders import batched, by_id, groups
from subgraphs.factory import services
from subgraphs.factory.models import Craft, CraftRun, Factory


class Loaders:
    def __init__(self, db: Database) -> None:
        self.factory = by_id(db, Factory)
        self.craft = by_id(db, Craft)
        self.crafts_of_factory = groups(db, Craft, key="factory_id", order_by=["id"])
        self.crafts_of_product = groups(db, Craft, key="product_id", order_by=["id"])
        self.runs: DataLoader[tuple[int, int], list[CraftRun]] = batched(db, services.latest_runs, [])
