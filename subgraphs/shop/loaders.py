"""DataLoaders of the shop subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.loaders import batched, by_id, groups
from subgraphs.shop import outbox, services
from subgraphs.shop.models import Category, Outbox, Shop


class Loaders:
    def __init__(self, db: Database, auth: Auth) -> None:
        self.shop = by_id(db, Shop)
        self.categories_of_shop = groups(db, Category, key="shop_id", order_by=["name"])
        self.product: DataLoader[int, services.ProductView | None] = batched(
            db, services.products_by_ids, None
        )
        self.recording: DataLoader[int, Outbox | None] = batched(
            db, lambda session, ids: outbox.recordings(session, actor=auth.require(), check_ids=ids), None
        )
