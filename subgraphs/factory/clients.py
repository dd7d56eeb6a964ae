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


def _deliver_many(count: int) -> str:
    """One mutation with a `deliver` per item, aliased d0, d1, ... (each its own transaction in the shop)."""
    variables = ", ".join(f"$i{n}: DeliverInput!" for n in range(count))
    fields = " ".join(f"d{n}: deliver(input: $i{n}) {{ id }}" for n in range(count))
    return f"mutation Deliver({variables}) {{ {fields} }}"


class RouterClient(ServiceClient):
    """The router, as the factory calls it: to deliver to the shop and to check products."""

    async def deliver(self, deliveries: Sequence[DeliveryOrder]) -> dict[str, Refusal | None]:
        """Deliver in one request; per key, None when the shop confirmed it, else why not. Safe to repeat:
        the shop adds stock once per key."""
        variables = {
            f"i{n}": {"productId": str(item.product_id), "count": item.count, "key": item.key}
            for n, item in enumerate(deliveries)
        }
        try:
            body = await self.post(_deliver_many(len(deliveries)), variables)
        except (httpx.HTTPError, ValueError) as error:
            refusal = Refusal(f"shop unreachable through the router: {type(error).__name__}")
            return {item.key: refusal for item in deliveries}
        errors: list[dict[str, Any]] = body.get("errors") or []
        by_alias: dict[str, list[dict[str, Any]]] = {}
        for problem in errors:
            path = problem.get("path") or [None]
            by_alias.setdefault(str(path[0]), []).append(problem)
        unplaced = by_alias.get("None", [])  # errors of the whole request (validation, the router itself)
        outcome: dict[str, Refusal | None] = {}
        for n, item in enumerate(deliveries):
            mine = by_alias.get(f"d{n}", []) + unplaced
            outcome[item.key] = _refusal(mine) if mine else None
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
