"""DataLoaders of the shop subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.db import Database
from subgraphs._common.loaders import batched
from subgraphs.shop import sales, services
from subgraphs.shop.models import Category, Check, CheckLine, Product, Shop


class Loaders:
    def __init__(self, db: Database) -> None:
        self.shop: DataLoader[int, Shop | None] = batched(db, services.shops_by_ids, None)
        self.category: DataLoader[int, Category | None] = batched(db, services.categories_by_ids, None)
        self.categories_of_shop: DataLoader[int, list[Category]] = batched(
            db, services.categories_of_shops, []
        )
        self.product: DataLoader[int, Product | None] = batched(db, services.products_by_ids, None)
        self.check: DataLoader[int, Check | None] = batched(db, sales.checks_by_ids, None)
        self.lines_of_check: DataLoader[int, list[CheckLine]] = batched(db, sales.lines_of_checks, [])
