"""Resources of the factory subgraph's app, and the per-request context built from them."""

from dataclasses import dataclass, field

from starlette.requests import Request

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.verification import Verifier, request_auth
from subgraphs.factory.clients import RouterClient
from subgraphs.factory.jobs import Deliveries
from subgraphs.factory.loaders import Loaders
from subgraphs.factory.scheduler import CraftScheduler
from subgraphs.factory.settings import Settings


@dataclass(frozen=True, slots=True)
class Resources:
    """What the app opens in its lifespan and every request shares."""

    db: Database
    settings: Settings
    router: RouterClient
    scheduler: CraftScheduler
    deliveries: Deliveries
    verifier: Verifier


@dataclass
class Context:
    auth: Auth
    db: Database
    settings: Settings
    router: RouterClient
    scheduler: CraftScheduler
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, self.auth)


async def build_context(request: Request, resources: Resources) -> Context:
    """The acting principal from the Authorization header, and fresh DataLoaders."""
    return Context(
        auth=await request_auth(request, resources.verifier),
        db=resources.db,
        settings=resources.settings,
        router=resources.router,
        scheduler=resources.scheduler,
    )
