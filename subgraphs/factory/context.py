"""Per-request context of the factory subgraph."""

from dataclasses import dataclass, field

from starlette.requests import Request

from subgraphs._common.auth import Auth, request_auth
from subgraphs._common.db import Database
from subgraphs.factory.clients import ShopClient
from subgraphs.factory.jobs import CraftScheduler
from subgraphs.factory.loaders import Loaders
from subgraphs.factory.settings import Settings


@dataclass
class Context:
    auth: Auth
    db: Database
    settings: Settings
    shop: ShopClient
    scheduler: CraftScheduler
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


async def build_context(request: Request) -> Context:
    """The acting principal from the Authorization header, and fresh DataLoaders."""
    state = request.app.state
    return Context(
        auth=request_auth(request),
        db=state.db,
        settings=state.settings,
        shop=state.shop,
        scheduler=state.scheduler,
    )
