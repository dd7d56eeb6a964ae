"""The purchase subgraph's ASGI app: GraphQL, and the identity endpoints only purchase serves."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette

from subgraphs._common import live
from subgraphs._common.app import create_subgraph_app
from subgraphs._common.context import context_builder
from subgraphs._common.db import Database
from subgraphs._common.ended_sessions import EndedSessions
from subgraphs._common.identity import JWKS_COOLDOWN_SECONDS, polled
from subgraphs._common.jwks import KeyRing
from subgraphs._common.keys import KeyFolder
from subgraphs._common.verification import Verifier
from subgraphs.purchase.context import Resources
from subgraphs.purchase.endpoints import ROUTES, ended_sessions
from subgraphs.purchase.loaders import Loaders
from subgraphs.purchase.schema import schema
from subgraphs.purchase.settings import Settings
from subgraphs.purchase.signing import Issuer, Signer

# Purchase reads its own key folder (a stat a second when unchanged), not a JWKS over HTTP.
_LOCAL_KEYS_MAX_AGE = 1.0


@asynccontextmanager
async def _resources(settings: Settings, db: Database) -> AsyncIterator[Resources]:
    settings.credentials_file()  # a missing file is a start-up error naming its setting
    folder = KeyFolder(settings.keys_folder())

    async def jwks() -> dict[str, Any]:
        return folder.current(fresh=True).jwks

    async def ended(cursor: str | None) -> dict[str, Any]:
        return await ended_sessions(db, settings, cursor)

    keys = KeyRing(jwks, cooldown=JWKS_COOLDOWN_SECONDS, on_retired=live.recheck)
    verifier = Verifier(
        keys, EndedSessions(ended, interval=settings.ended_sessions_poll_seconds, on_end=live.recheck)
    )
    issuer = Issuer(
        signer=Signer(folder),
        access_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_ttl=timedelta(seconds=settings.refresh_token_ttl_seconds),
        service_ttl_seconds=settings.service_token_ttl_seconds,
    )
    async with polled(verifier, jwks_max_age=_LOCAL_KEYS_MAX_AGE):
        yield Resources(db=db, settings=settings, verifier=verifier, issuer=issuer)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; the database is opened in the lifespan, not at import."""
    return create_subgraph_app(
        schema=schema,
        settings=settings or Settings(),
        resources=_resources,
        build_context=context_builder(Loaders),
        routes=ROUTES,
    )
