"""DataLoaders of the purchase subgraph, created per request."""

from sqlmodel import col

from subgraphs._common.db import Database
from subgraphs._common.loaders import by_id, groups
from subgraphs.purchase.models import Purchase, User, UserCategory


class Loaders:
    def __init__(self, db: Database) -> None:
        self.user = by_id(db, User)
        self.purchase = by_id(db, Purchase)
        self.purchase_by_check = by_id(db, Purchase, key=col(Purchase.check_id))  # check_id is unique
        self.category = by_id(db, UserCategory)
        self.categories_of_user = groups(
            db, UserCategory, key=col(UserCategory.user_id), order_by=[col(UserCategory.name)]
        )
