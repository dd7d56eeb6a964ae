"""DataLoaders of the factory subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.db import Database
from subgraphs._common.loaders import batched
from subgraphs.factory import services
from subgraphs.factory.models import Craft, CraftRun, Factory


class Loaders:
    def __init__(self, db: Database) -> None:
        self.factory: DataLoader[int, Factory | None] = batched(db, services.factories_by_ids, None)
        self.craft: DataLoader[int, Craft | None] = batched(db, services.crafts_by_ids, None)
        self.crafts_of_factory: DataLoader[int, list[Craft]] = batched(db, services.crafts_of_factories, [])
        self.crafts_of_product: DataLoader[int, list[Craft]] = batched(db, services.crafts_of_products, [])
        self.runs: DataLoader[tuple[int, int], list[CraftRun]] = batched(db, services.latest_runs, [])
