"""The public keys a verifier trusts: a JWKS read from its source (purchase's endpoint, or for purchase
itself its own key folder), kept in memory, read again every `max_age` seconds and at once for a key id it
does not know, at most once per `cooldown`: a flood of made-up key ids costs one fetch per cooldown, not one
per request. A key gone from it (retired) is told to `on_retired` at once: the live subscriptions of that
key's tokens end then (`live.recheck`), not at their next 30-second check."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from subgraphs._common.keys import ALGORITHM

logger = logging.getLogger(__name__)

JwksSource = Callable[[], Awaitable[dict[str, Any]]]


def parse_jwks(document: dict[str, Any]) -> dict[str, Any]:
    """kid -> public key, for the ES256 signing keys of a JWKS (anything else is ignored: never trusted)."""
    keys: dict[str, Any] = {}
    for entry in document.get("keys") or []:
        if not isinstance(entry, dict) or entry.get("kty") != "EC" or entry.get("crv") != "P-256":
            continue
        if entry.get("alg", ALGORITHM) != ALGORITHM or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or "d" in entry:  # a private key is never published
            continue
        try:
            keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM).key
        except jwt.PyJWTError:
            logger.warning("ignoring a JWKS entry that is not a usable key: %s", kid)
    return keys


class KeyRing:
    """The trusted keys by id, with `document` as fetched (served again by whoever needs it)."""

    def __init__(
        self, source: JwksSource, *, cooldown: float, on_retired: Callable[[], object] | None = None
    ) -> None:
        self._source = source
        self._cooldown = cooldown
        self._on_retired = on_retired
        self.keys: dict[str, Any] = {}
        self.document: dict[str, Any] = {"keys": []}
        self._raw: dict[str, Any] | None = None
        self._fetched_at = -float("inf")  # monotonic time of the last fetch's start
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Fetch now (the periodic refresh, every max age); a failure keeps the keys already known."""
        async with self._lock:
            await self._fetch()

    async def find(self, kid: str) -> Any | None:
        """The key `kid`, fetching the JWKS again when it is unknown: coalesced (a request that arrived
        before a fetch started takes that fetch's answer), at most once per cooldown (later ones wait)."""
        if (key := self.keys.get(kid)) is not None:
            return key
        arrived = time.monotonic()
        async with self._lock:
            if self._fetched_at < arrived:
                wait = self._fetched_at + self._cooldown - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._fetch()
        return self.keys.get(kid)

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            document = await self._source()
        except Exception as error:  # purchase down: keep what we know, and say so
            logger.warning("could not fetch the JWKS: %s: %s", type(error).__name__, error)
            return
        if document is self._raw:
            return  # the same document (a key folder that did not change): nothing to parse again
        self._raw = document
        keys = parse_jwks(document)
        retired = self.keys.keys() - keys.keys()
        self.keys = keys
        self.document = {
            "keys": [entry for entry in document.get("keys") or [] if entry.get("kid") in self.keys]
        }
        if retired and self._on_retired is not None:
            self._on_retired()
