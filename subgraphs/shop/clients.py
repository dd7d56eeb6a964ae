"""Calls from the shop to the purchase subgraph (directly, with a SERVICE token)."""

from typing import Any

import httpx

from subgraphs._common.auth import service_token
from subgraphs.shop.sales import PurchaseRecord

_RECORD = """
mutation RecordPurchase($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { id }
}
"""


class RecordFailed(Exception):
    """The purchase subgraph did not confirm the record; the outbox will try again."""


class PurchaseClient:
    """One pooled HTTP client per app, with timeouts; the transport is injectable for tests."""

    def __init__(
        self, *, url: str, secret: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = url
        self._secret = secret
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def record(self, record: PurchaseRecord, *, wait_seconds: float | None = None) -> None:
        """Record the purchase behind a check; safe to repeat (`wait_seconds` overrides the timeout)."""
        variables: dict[str, Any] = {
            "input": {
                "checkId": str(record.check_id),
                "userId": str(record.user_id),
                "name": record.name,
                "payment": record.payment,
                "total": record.total,
                "createdAt": record.created_at.isoformat(),
            }
        }
        token = service_token(secret=self._secret, service="shop")
        try:
            response = await self._http.post(
                self._url,
                json={"query": _RECORD, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
                timeout=wait_seconds if wait_seconds is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as error:
            raise RecordFailed(f"purchase subgraph unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise RecordFailed(f"purchase subgraph answered HTTP {response.status_code}")
        body = response.json()
        if body.get("errors") or not (body.get("data") or {}).get("recordPurchase"):
            raise RecordFailed(f"purchase subgraph refused: {body.get('errors')}")

    async def aclose(self) -> None:
        await self._http.aclose()
