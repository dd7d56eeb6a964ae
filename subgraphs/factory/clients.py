"""Calls from the factory to the shop, made through the router with a SERVICE token."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from subgraphs._common.errors import ServiceUnavailable
from subgraphs._common.service_client import ServiceClient

_PRODUCT = "query Product($id: ID!) { product(id: $id) { id } }"
# Retrying cannot help these: the product is gone or the input is wrong.
_PERMANENT = {"BAD_USER_INPUT", "NOT_FOUND"}


@dataclass(frozen=True, slots=True)
class DeliveryOrder:
    """One delivery to ask the shop for: `count` units of a product, once per `key`."""

    key: str
    product_id: int
    count: int


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a delivery was not confirmed; `permanent` when retrying cannot help."""

    error: str
    permanent: bool = False


_DELIVER_MANY = "mutation DeliverMany($inputs: [DeliverInput!]!) { deliverMany(inputs: $inputs) { key } }"


class RouterClient(ServiceClient):
    """The router, as the factory calls it: to deliver to the shop and to check products."""

    async def deliver(self, deliveries: Sequence[DeliveryOrder]) -> dict[str, Refusal | None]:
        """Deliver in one request (one transaction in the shop); per key, None when the shop confirmed it,
        else why not. Safe to repeat: the shop adds stock once per key."""
        inputs = [
            {"productId": str(item.product_id), "count": item.count, "key": item.key} for item in deliveries
        ]
        try:
            body = await self.post(_DELIVER_MANY, {"inputs": inputs})
        except (httpx.HTTPError, ValueError) as error:
            refusal = Refusal(f"shop unreachable through the router: {type(error).__name__}")
            return {item.key: refusal for item in deliveries}
        by_entry: dict[int, list[dict[str, Any]]] = {}
        whole: list[dict[str, Any]] = []  # errors of the whole request (validation, the router itself)
        for problem in body.get("errors") or []:
            path = problem.get("path") or []
            if len(path) >= 2 and isinstance(path[1], int):
                by_entry.setdefault(path[1], []).append(problem)
            else:
                whole.append(problem)
        entries = (body.get("data") or {}).get("deliverMany") or []
        outcome: dict[str, Refusal | None] = {}
        for n, item in enumerate(deliveries):
            mine = by_entry.get(n, []) + whole
            confirmed = n < len(entries) and entries[n] is not None and not mine
            outcome[item.key] = None if confirmed else _refusal(mine or [{"message": "no answer"}])
        return outcome

    async def product_exists(self, product_id: int) -> bool:
        """Ask the shop whether the product exists."""
        try:
            body = await self.post(_PRODUCT, {"id": str(product_id)})
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceUnavailable("The shop cannot be reached to check the product; try again") from error
        if body.get("errors"):
            raise ServiceUnavailable("The shop could not check the product; try again")
        return (body.get("data") or {}).get("product") is not None


def _refusal(errors: list[dict[str, Any]]) -> Refusal:
    codes = {(error.get("extensions") or {}).get("code") for error in errors}
    message = "; ".join(str(error.get("message")) for error in errors)
    return Refusal(f"shop refused: {message}", permanent=codes <= _PERMANENT)
