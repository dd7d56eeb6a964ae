"""What every subgraph's app opens for its requests, and what each request carries: a subgraph's `Resources`
extend `SubgraphResources` with its own clients, and its `Context` is a `SubgraphContext` of them."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from starlette.requests import Request

from subgraphs._common.auth import Auth
from subgraphs._common.db import Database
from subgraphs._common.settings import SubgraphSettings
from subgraphs._common.verification import Verifier, request_auth

S = TypeVar("S", bound=SubgraphSettings)
R = TypeVar("R", bound="SubgraphResources[Any]")
L = TypeVar("L")


@dataclass(frozen=True, slots=True)
class SubgraphResources(Generic[S]):
    """What the app opens in its lifespan and every request shares."""

    db: Database
    settings: S
    verifier: Verifier


@dataclass
class SubgraphContext(Generic[R, L]):
    """A request's caller and address, the app's resources, and the request's own DataLoaders."""

    auth: Auth
    resources: R
    # The client's address: the connection's, or the one the router forwarded (uvicorn trusts the
    # X-Forwarded-For of the addresses in FORWARDED_ALLOW_IPS only).
    address: str
    loaders: L

    @property
    def db(self) -> Database:
        """The subgraph's database (nearly every resolver's one resource, hence the shortcut)."""
        return self.resources.db


def context_builder(
    loaders: Callable[[Database, Auth], L],
) -> Callable[[Request, R], Awaitable[SubgraphContext[R, L]]]:
    """How each request's context is made: the caller from its Authorization header, and fresh `loaders`."""

    async def build(request: Request, resources: R) -> SubgraphContext[R, L]:
        auth = await request_auth(request, resources.verifier)
        return SubgraphContext(
            auth=auth,
            resources=resources,
            address=request.client.host if request.client else "unknown",
            loaders=loaders(resources.db, auth),
        )

    return build
