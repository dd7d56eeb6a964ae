"""Calls from the factory to the shop, made through the router with a SERVICE token."""

from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from subgraphs._common.errors import ServiceUnavailable
from subgraphs._common.service_client import Refusal, ServiceClient

_PRODUCT = "query Product($id: ID!) { product(id: $id) { id } }"
_DELIVER_MANY = "mutation DeliverMany($inputs: [DeliverInput!]!) { deliverMany(inputs: $inputs) { key } }"


@dataclass(frozen=True, slots=True)
class DeliveryOrder:
    """One delivery to ask the shop for: `count` units of a product, once per `key`."""

    key: str
    product_id: int
    count: int


def _entry_number(path: Sequence[object]) -> int | None:
    """deliverMany's entry an error's path names (["deliverMany", n, ...]); None for the whole request."""
    return path[1] if len(path) >= 2 and isinstance(path[1], int) else None


class RouterClient(ServiceClient):
    """The router, as the factory calls it: to deliver to the shop and to check products."""

    async def deliver(
        self, deliveries: Sequence[DeliveryOrder], *, wait_seconds: float | None = None
    ) -> list[Refusal | None]:
        """Deliver in one request (one transaction in the shop); per delivery, None when the shop confirmed
        it, else why not. Safe to repeat: the shop adds stock once per key."""
        inputs = [
            {"productId": str(item.product_id), "count": item.count, "key": item.key} for item in deliveries
        ]
        return await self.post_items(
            _DELIVER_MANY,
            {"inputs": inputs},
            count=len(deliveries),
            peer="shop (through the router)",
            answers=lambda data: data.get("deliverMany") or [],
            item_of=_entry_number,
            wait_seconds=wait_seconds,
        )

    async def product_exists(self, product_id: int) -> bool:
        """Ask the shop whether the product exists."""
        try:
            body = await self.post(_PRODUCT, {"id": str(product_id)})
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceUnavailable("The shop cannot be reached to check the product; try again") from error
        if body.get("errors"):
            raise ServiceUnavailable("The shop could not check the product; try again")
        return (body.get("data") or {}).get("product") is not None
