"""DataLoaders of the factory subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.loaders import batched, by_id, groups
from subgraphs.factory import services
from subgraphs.factory.models import Craft, CraftRun, Factory


class Loaders:
    def __init__(self, db: Database, auth: Auth) -> None:
        self.factory = by_id(db, Factory)
        self.craft = by_id(db, Craft)
        self.crafts_of_product = groups(db, Craft, key="product_id", order_by=["id"])
        # The caller is asked for when a batch loads: a request that never loads one needs no token.
        self.crafts_of_factory: DataLoader[int, list[Craft]] = batched(
            db, lambda session, ids: services.crafts_of_factories(session, ids, actor=auth.require()), []
        )
        self.runs: DataLoader[tuple[int, int], list[CraftRun]] = batched(
            db, lambda session, keys: services.latest_runs(session, keys, actor=auth.require()), []
        )
