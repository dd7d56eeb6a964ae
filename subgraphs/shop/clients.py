"""Calls from the shop to the purchase subgraph (directly, not through the router)."""

from collections.abc import Sequence
from typing import Any

import httpx

from subgraphs._common.service_client import ServiceClient
from subgraphs.shop.sales import PurchaseRecord

# The purchase subgraph refused the record itself: retrying cannot help.
_PERMANENT = {"BAD_USER_INPUT", "NOT_FOUND"}


class RecordFailed(Exception):
    """The purchase subgraph did not confirm the record: the outbox tries again, unless `permanent`."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _record_many(count: int) -> str:
    """One mutation with a recordPurchase per record, aliased r0, r1, ... (each its own transaction there)."""
    variables = ", ".join(f"$i{n}: RecordPurchaseInput!" for n in range(count))
    fields = " ".join(f"r{n}: recordPurchase(input: $i{n}) {{ id }}" for n in range(count))
    return f"mutation RecordPurchases({variables}) {{ {fields} }}"


def _input(record: PurchaseRecord) -> dict[str, object]:
    return {
        "checkId": str(record.check_id),
        "userId": str(record.user_id),
        "name": record.name,
        "payment": record.payment,
        "total": record.total,
        "createdAt": record.created_at.isoformat(),
        "requestId": record.request_id,
    }


def _refused(errors: list[dict[str, Any]]) -> RecordFailed:
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    return RecordFailed(f"purchase subgraph refused: {errors}", permanent=bool(codes) and codes <= _PERMANENT)


class PurchaseClient(ServiceClient):
    """The purchase subgraph, as the shop calls it to record purchases."""

    async def record(
        self, records: Sequence[PurchaseRecord], *, wait_seconds: float | None = None
    ) -> list[RecordFailed | None]:
        """Record the purchases behind these checks in one request; per record, None when confirmed, else
        why not. Safe to repeat: the purchase subgraph records a check once."""
        variables = {f"i{n}": _input(record) for n, record in enumerate(records)}
        try:
            body = await self.post(_record_many(len(records)), variables, wait_seconds=wait_seconds)
        except (httpx.HTTPError, ValueError) as error:
            unreachable = RecordFailed(f"purchase subgraph unreachable: {type(error).__name__}")
            return [unreachable for _ in records]
        by_alias: dict[str, list[dict[str, Any]]] = {}
        for problem in body.get("errors") or []:
            path = problem.get("path") or [None]
            by_alias.setdefault(str(path[0]), []).append(problem)
        whole = by_alias.get("None", [])  # errors of the whole request
        data = body.get("data") or {}
        outcome: list[RecordFailed | None] = []
        for n in range(len(records)):
            mine = by_alias.get(f"r{n}", []) + whole
            confirmed = not mine and data.get(f"r{n}") is not None
            outcome.append(None if confirmed else _refused(mine or [{"message": "no answer"}]))
        return outcome
