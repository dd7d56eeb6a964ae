"""The identity side of a process that does not sign: its verifier (purchase's JWKS and ended-sessions feed,
polled in the background) and its own SERVICE tokens, opened and closed with the app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from subgraphs._common import live
from subgraphs._common.ended_sessions import EndedSessions
from subgraphs._common.jwks import KeyRing
from subgraphs._common.poller import Poller
from subgraphs._common.service_credentials import ServiceTokens
from subgraphs._common.settings import ServiceSettings
from subgraphs._common.verification import Verifier

JWKS_PATH = "/.well-known/jwks.json"
ENDED_SESSIONS_PATH = "/sessions/ended"
# An unknown key id makes a verifier fetch the JWKS again, but not more often than this.
JWKS_COOLDOWN_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Identity:
    """How a process checks its callers, and proves itself to its peers."""

    verifier: Verifier
    tokens: ServiceTokens


async def _get_json(http: httpx.AsyncClient, url: str, **params: str) -> dict[str, Any]:
    response = await http.get(url, params=params)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


@asynccontextmanager
async def polled(verifier: Verifier, *, jwks_max_age: float) -> AsyncIterator[Verifier]:
    """`verifier` with its JWKS and its ended sessions kept current in the background."""
    refresh = Poller("jwks", verifier.keys.refresh, interval=jwks_max_age)
    refresh.start()
    verifier.ended.poller.start()
    try:
        yield verifier
    finally:
        await verifier.ended.poller.stop(grace=5)
        await refresh.stop(grace=5)


@asynccontextmanager
async def identity_of(
    settings: ServiceSettings, *, service: str, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Identity]:
    """The verifier and SERVICE tokens of `service`, talking to purchase at `settings.identity_url` (through
    `transport` in tests)."""
    secret = settings.service_secret()
    base = settings.identity_url.rstrip("/")
    async with httpx.AsyncClient(timeout=5.0, transport=transport) as http:

        async def jwks() -> dict[str, Any]:
            return await _get_json(http, base + JWKS_PATH)

        async def ended(cursor: str | None) -> dict[str, Any]:
            return await _get_json(http, base + ENDED_SESSIONS_PATH, **({"after": cursor} if cursor else {}))

        keys = KeyRing(jwks, cooldown=JWKS_COOLDOWN_SECONDS, on_retired=live.recheck)
        verifier = Verifier(
            keys, EndedSessions(ended, interval=settings.ended_sessions_poll_seconds, on_end=live.recheck)
        )
        tokens = ServiceTokens(http, identity_url=base, service=service, secret=secret)
        async with polled(verifier, jwks_max_age=settings.jwks_max_age_seconds):
            yield Identity(verifier=verifier, tokens=tokens)
