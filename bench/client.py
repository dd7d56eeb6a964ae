"""A small GraphQL client for the benchmarks, and the operator step that makes an admin."""

import subprocess
import sys
from typing import Any

import httpx

from tools.stack import ROOT, Stack


class Client:
    """POSTs operations to one endpoint with an optional bearer token; raises on GraphQL errors."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token: str | None = None
        self.http = httpx.Client(timeout=60)

    def call(self, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = self.http.post(self.url, json={"query": query, "variables": variables}, headers=headers).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        data: dict[str, Any] = body["data"]
        return data


def login_admin(stack: Stack, client: Client) -> None:
    """Create an ADMIN with the operator command and log `client` in as it."""
    env = {"PURCHASE_DATABASE_URL": stack.database_url("purchase"), "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-m",
        "subgraphs.purchase.cli",
        "create-admin",
        "--login",
        "bench",
        "--password-stdin",
    ]
    subprocess.run(command, input="bench-password\n", text=True, env=env, check=True, capture_output=True)
    login = client.call(
        "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }",
        l="bench",
        p="bench-password",
    )
    client.token = login["login"]["token"]
