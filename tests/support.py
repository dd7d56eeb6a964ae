"""Helpers shared by the tests: GraphQL calls, tokens, SQL statement counting."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from subgraphs._common.auth import Role, issue_token
from subgraphs._common.settings import DEVELOPMENT_SECRET


def token(subject: str | int, role: Role = Role.CUSTOMER, secret: str = DEVELOPMENT_SECRET) -> str:
    """A signed token, as login would issue."""
    value, _ = issue_token(secret=secret, subject=str(subject), role=role, ttl_seconds=600)
    return value


def auth(value: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"} if value else {}


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None
) -> dict[str, Any]:
    """POST a GraphQL operation; the whole JSON body (data and errors)."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=auth(as_)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    """The extensions.code of every error in a response."""
    return [error["extensions"]["code"] for error in body.get("errors") or []]


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect every SQL statement `engine` runs inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
