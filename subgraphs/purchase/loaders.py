"""DataLoaders of the purchase subgraph, created per request."""

import functools

from strawberry.dataloader import DataLoader

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.loaders import batched, by_id, groups
from subgraphs.purchase import services
from subgraphs.purchase.models import User, UserCategory


class Loaders:
    def __init__(self, db: Database, auth: Auth) -> None:
        self.user = by_id(db, User)
        self.categories_of_user = groups(db, UserCategory, key="user_id", order_by=["name"])
        self.purchase_by_check: DataLoader[int, services.PurchaseView | None] = batched(
            db, functools.partial(services.purchases_of_checks, actor=auth.principal), None
        )
