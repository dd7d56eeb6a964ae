"""GraphQL over HTTP from one part of the system to another, as a SERVICE, and the one rule that tells a
failure retrying may fix from one it cannot."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from subgraphs._common import request_id
from subgraphs._common.service_credentials import ServiceTokens

# The peer refused the input itself (bad input, an unknown id): sending it again cannot help. Anything else
# (the peer down, slow, or failing inside) may pass on another attempt.
PERMANENT_CODES = frozenset({"BAD_USER_INPUT", "NOT_FOUND"})


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the peer did not confirm one item of a request; `permanent` when retrying cannot help."""

    error: str
    permanent: bool = False


def refusal(peer: str, errors: Sequence[dict[str, Any]]) -> Refusal:
    """The refusal of one item by its GraphQL errors: permanent when every one carries a permanent code."""
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    message = "; ".join(str(error.get("message")) for error in errors)
    return Refusal(f"{peer} refused: {message}", permanent=bool(codes) and codes <= PERMANENT_CODES)


class ServiceClient:
    """One pooled HTTP client per app, presenting the service's short-lived SERVICE token (from `tokens`);
    the transport is injectable for tests."""

    def __init__(
        self,
        *,
        url: str,
        tokens: ServiceTokens,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._tokens = tokens
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def post(
        self, query: str, variables: dict[str, Any], *, wait_seconds: float | None = None
    ) -> dict[str, Any]:
        """The JSON body of the answer; raises httpx.HTTPError (or ValueError for a body that is not JSON)."""
        token = await self._tokens.token()
        response = await self._http.post(
            self._url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}", **request_id.headers()},
            timeout=wait_seconds if wait_seconds is not None else httpx.USE_CLIENT_DEFAULT,
        )
        if response.status_code == 401:
            self._tokens.forget()  # refused (a key retired early, say): the next attempt fetches a new one
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def post_items(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        count: int,
        peer: str,
        answers: Callable[[dict[str, Any]], Sequence[object]],
        item_of: Callable[[Sequence[object]], int | None],
        wait_seconds: float | None = None,
    ) -> list[Refusal | None]:
        """Post one request that asks `count` things of the peer; per item, None when confirmed, else why not.
        `answers(data)` lists the items' answers in order, `item_of(path)` tells which item an error's path
        names (None: the whole request, which fails every item)."""
        try:
            body = await self.post(query, variables, wait_seconds=wait_seconds)
        except (httpx.HTTPError, ValueError) as error:
            return [Refusal(f"{peer} unreachable: {type(error).__name__}")] * count
        by_item: dict[int | None, list[dict[str, Any]]] = {}
        for problem in body.get("errors") or []:
            by_item.setdefault(item_of(problem.get("path") or []), []).append(problem)
        found = answers(body.get("data") or {})
        outcome: list[Refusal | None] = []
        for n in range(count):
            mine = by_item.get(n, []) + by_item.get(None, [])
            confirmed = not mine and n < len(found) and found[n] is not None
            outcome.append(None if confirmed else refusal(peer, mine or [{"message": "no answer"}]))
        return outcome

    async def aclose(self) -> None:
        await self._http.aclose()
