"""Calls from the shop to the purchase subgraph (directly, not through the router)."""

import httpx

from subgraphs._common.service_client import ServiceClient
from subgraphs.shop.sales import PurchaseRecord

_RECORD = """
mutation RecordPurchase($input: RecordPurchaseInput!) {
  recordPurchase(input: $input) { id }
}
"""


# The purchase subgraph refused the record itself: retrying cannot help.
_PERMANENT = {"BAD_USER_INPUT", "NOT_FOUND"}


class RecordFailed(Exception):
    """The purchase subgraph did not confirm the record: the outbox tries again, unless `permanent`."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class PurchaseClient(ServiceClient):
    async def record(self, record: PurchaseRecord, *, wait_seconds: float | None = None) -> None:
        """Record the purchase behind a check; safe to repeat (the purchase subgraph records a check once)."""
        variables = {
            "input": {
                "checkId": str(record.check_id),
                "userId": str(record.user_id),
                "name": record.name,
                "payment": record.payment,
                "total": record.total,
                "createdAt": record.created_at.isoformat(),
            }
        }
        try:
            body = await self.post(_RECORD, variables, wait_seconds=wait_seconds)
        except (httpx.HTTPError, ValueError) as error:
            raise RecordFailed(f"purchase subgraph unreachable: {type(error).__name__}") from error
        errors = body.get("errors") or []
        if errors or not (body.get("data") or {}).get("recordPurchase"):
            codes = {(error.get("extensions") or {}).get("code") for error in errors}
            raise RecordFailed(
                f"purchase subgraph refused: {errors}", permanent=bool(codes) and codes <= _PERMANENT
            )
