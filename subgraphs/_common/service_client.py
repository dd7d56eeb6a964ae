"""GraphQL over HTTP from one part of the system to another, as a SERVICE."""

from typing import Any

import httpx

from subgraphs._common import request_id
from subgraphs._common.auth import service_token


class ServiceClient:
    """One pooled HTTP client per app, presenting a short-lived SERVICE token; the transport is injectable
    for tests."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        service: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._secret = secret
        self._service = service
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def post(
        self, query: str, variables: dict[str, Any], *, wait_seconds: float | None = None
    ) -> dict[str, Any]:
        """The JSON body of the answer; raises httpx.HTTPError (or ValueError for a body that is not JSON)."""
        token = service_token(secret=self._secret, service=self._service)
        response = await self._http.post(
            self._url,
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}", **request_id.headers()},
            timeout=wait_seconds if wait_seconds is not None else httpx.USE_CLIENT_DEFAULT,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self._http.aclose()
