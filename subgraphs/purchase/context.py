"""Per-request context of the purchase subgraph."""

from dataclasses import dataclass, field

from starlette.requests import Request

from subgraphs._common.auth import Auth, request_auth
from subgraphs._common.db import Database
from subgraphs.purchase.loaders import Loaders
from subgraphs.purchase.settings import Settings


@dataclass
class Context:
    auth: Auth
    db: Database
    settings: Settings
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)


async def build_context(request: Request) -> Context:
    """The acting principal from the Authorization header, and fresh DataLoaders."""
    state = request.app.state
    return Context(auth=request_auth(request), db=state.db, settings=state.settings)
