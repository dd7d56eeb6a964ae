"""DataLoaders of the purchase subgraph, created per request."""

from strawberry.dataloader import DataLoader

from subgraphs._common.db import Database
from subgraphs._common.loaders import batched
from subgraphs.purchase import services
from subgraphs.purchase.models import Purchase, User, UserCategory


class Loaders:
    def __init__(self, db: Database) -> None:
        self.user: DataLoader[int, User | None] = batched(db, services.users_by_ids, None)
        self.purchase: DataLoader[int, Purchase | None] = batched(db, services.purchases_by_ids, None)
        self.purchase_by_check: DataLoader[int, Purchase | None] = batched(
            db, services.purchases_by_check_ids, None
        )
        self.category: DataLoader[int, UserCategory | None] = batched(db, services.categories_by_ids, None)
        self.categories_of_user: DataLoader[int, list[UserCategory]] = batched(
            db, services.categories_of_users, []
        )
