"""A small synchronous GraphQL client: for `make run`'s demo purchase and for the benchmarks."""

from typing import Any

import httpx

_LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }"


class GraphQLClient:
    """POSTs operations to one endpoint with an optional bearer token; raises on GraphQL errors."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self.http = httpx.Client(timeout=60)

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        """The `data` of the answer."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = self.http.post(self.url, json={"query": query, "variables": variables}, headers=headers).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    def login(self, login: str, password: str) -> None:
        """Log in; later calls carry the token."""
        self.token = self.call(_LOGIN, l=login, p=password)["login"]["token"]
