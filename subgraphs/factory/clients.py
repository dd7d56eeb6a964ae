"""Calls from the factory to the shop, through the router with a SERVICE token."""

from typing import Any

import httpx

from subgraphs._common.auth import service_token
from subgraphs._common.errors import ServiceUnavailable

_DELIVER = """
mutation Deliver($input: DeliverInput!) { deliver(input: $input) { id } }
"""
_PRODUCT = "query Product($id: ID!) { product(id: $id) { id } }"
_PERMANENT = {"BAD_USER_INPUT", "NOT_FOUND"}


class DeliveryFailed(Exception):
    """The shop did not confirm a delivery; `permanent` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ShopClient:
    """One pooled HTTP client per app, with timeouts; the transport is injectable for tests."""

    def __init__(
        self, *, url: str, secret: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = url
        self._secret = secret
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def _post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        token = service_token(secret=self._secret, service="factory")
        response = await self._http.post(
            self._url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def deliver(self, *, product_id: int, count: int, key: str) -> None:
        """Deliver `count` units under `key`; safe to repeat (the shop adds stock once per key)."""
        variables = {"input": {"productId": str(product_id), "count": count, "key": key}}
        try:
            body = await self._post(_DELIVER, variables)
        except (httpx.HTTPError, ValueError) as error:
            raise DeliveryFailed(f"shop unreachable through the router: {type(error).__name__}") from error
        errors = body.get("errors") or []
        if errors or not (body.get("data") or {}).get("deliver"):
            codes = {(error.get("extensions") or {}).get("code") for error in errors}
            message = "; ".join(str(error.get("message")) for error in errors) or "no delivery returned"
            raise DeliveryFailed(f"shop refused: {message}", permanent=bool(codes) and codes <= _PERMANENT)

    async def product_exists(self, product_id: int) -> bool:
        """Ask the shop whether the product exists."""
        try:
            body = await self._post(_PRODUCT, {"id": str(product_id)})
        except (httpx.HTTPError, ValueError) as error:
            raise ServiceUnavailable("The shop cannot be reached to check the product; try again") from error
        if body.get("errors"):
            raise ServiceUnavailable("The shop could not check the product; try again")
        return (body.get("data") or {}).get("product") is not None

    async def aclose(self) -> None:
        await self._http.aclose()
