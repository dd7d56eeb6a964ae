"""DataLoaders of the shop subgraph, created per request."""

from sqlmodel import col

from subgraphs._common.db import Database
from subgraphs._common.loaders import by_id, groups
from subgraphs.shop.models import Category, Check, CheckLine, Product, Shop


class Loaders:
    def __init__(self, db: Database) -> None:
        self.shop = by_id(db, Shop)
        self.category = by_id(db, Category)
        self.categories_of_shop = groups(
            db, Category, key=col(Category.shop_id), order_by=[col(Category.name)]
        )
        self.product = by_id(db, Product)
        self.check = by_id(db, Check)
        self.lines_of_check = groups(db, CheckLine, key=col(CheckLine.check_id), order_by=[col(CheckLine.id)])
