"""Calls from the shop to the purchase subgraph (directly, not through the router)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from subgraphs._common.service_client import Refusal, ServiceClient


@dataclass(frozen=True, slots=True)
class PurchaseRecord:
    """What the purchase subgraph is told about a check."""

    check_id: int
    user_id: int
    name: str
    payment: str
    total: int
    created_at: datetime
    request_id: str | None = None  # of the buy that made the check: the record is sent under it

    @property
    def work_key(self) -> int:
        """Its outbox row's key: the check."""
        return self.check_id


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


def _alias_number(path: Sequence[object]) -> int | None:
    alias = str(path[0]) if path else ""
    return int(alias[1:]) if alias[:1] == "r" and alias[1:].isdigit() else None


class PurchaseClient(ServiceClient):
    """The purchase subgraph, as the shop calls it to record purchases."""

    async def record(
        self, records: Sequence[PurchaseRecord], *, wait_seconds: float | None = None
    ) -> list[Refusal | None]:
        """Record the purchases behind these checks in one request; per record, None when confirmed, else
        why not. Safe to repeat: the purchase subgraph records a check once."""
        return await self.post_items(
            _record_many(len(records)),
            {f"i{n}": _input(record) for n, record in enumerate(records)},
            count=len(records),
            peer="purchase subgraph",
            answers=lambda data: [data.get(f"r{n}") for n in range(len(records))],
            item_of=_alias_number,
            wait_seconds=wait_seconds,
        )
