"""Resources of the purchase subgraph's app, and the per-request context built from them."""

from dataclasses import dataclass, field

from starlette.requests import Request

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.verification import Verifier, request_auth
from subgraphs.purchase.loaders import Loaders
from subgraphs.purchase.settings import Settings
from subgraphs.purchase.signing import Issuer


@dataclass(frozen=True, slots=True)
class Resources:
    """What the app opens in its lifespan and every request shares."""

    db: Database
    settings: Settings
    verifier: Verifier
    issuer: Issuer


@dataclass
class Context:
    auth: Auth
    db: Database
    settings: Settings
    issuer: Issuer
    # The client's address: the connection's, or the one the router forwarded (uvicorn trusts the
    # X-Forwarded-For of the addresses in FORWARDED_ALLOW_IPS only); refresh-token guesses count against it.
    address: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db, self.auth.principal)


async def build_context(request: Request, resources: Resources) -> Context:
    """The acting principal from the Authorization header, and fresh DataLoaders."""
    return Context(
        auth=await request_auth(request, resources.verifier),
        db=resources.db,
        settings=resources.settings,
        issuer=resources.issuer,
        address=request.client.host if request.client else "unknown",
    )
