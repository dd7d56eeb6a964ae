"""Helpers shared by the tests: GraphQL calls, tokens, SQL statement counting, links that fail, polling
(`poll`, the launcher's own, for coroutines)."""

import atexit
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event

from subgraphs._common.auth import Role
from subgraphs._common.keys import KeyFolder
from subgraphs.purchase.signing import Signer
from tools import identity
from tools.polling import poll_async

# The identity every test process's apps and stacks trust (a signing key and the services' credentials, made
# here, per test process, never committed): `token` signs with its key, as purchase would.
IDENTITY = Path(tempfile.mkdtemp(prefix="service-tree-test-identity-"))
IDENTITY_ENV = identity.ensure(IDENTITY)
atexit.register(shutil.rmtree, IDENTITY, ignore_errors=True)


def token(
    subject: str | int,
    role: Role = Role.CUSTOMER,
    *,
    keys: Path = IDENTITY,
    session: str | None = None,
    ttl_seconds: int = 24 * 3600,
) -> str:
    """A token signed with the key of the identity folder `keys`, as purchase would sign it; a user's
    belongs to `session` (a new random one by default, which no database knows and none has ended)."""
    # A day by default: module-level tokens are made at collection, and the end-to-end tests before them take
    # minutes.
    if role is not Role.SERVICE:
        session = session or secrets.token_urlsafe(16)
    signer = Signer(KeyFolder(keys / identity.KEYS))
    value, _ = signer.sign(subject=str(subject), role=role, ttl_seconds=ttl_seconds, session=session)
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


_counting: ContextVar[bool] = ContextVar("counting_statements", default=False)


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements `engine` runs for the code inside the block: the requests it makes to in-process
    apps (which run in its context, as do the database threads they hand work to), not background timers."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _counting.get() and not statement.startswith(("BEGIN", "PRAGMA", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    token = _counting.set(True)
    try:
        yield statements
    finally:
        _counting.reset(token)
        event.remove(engine, "before_cursor_execute", record)


class Link(httpx.AsyncBaseTransport):
    """The connection from one in-process app to another, which a test can cut: it counts what is sent
    and fails requests while `down`, or as `script` says for the next requests ("down": the peer is not
    reached; "lost": the peer handles the request but its answer never comes back)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.down = False
        self.script: list[str] = []
        self.sent: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The script and the count are of GraphQL requests, not of the identity endpoints' background calls
        # (keys, service tokens, the ended-sessions feed); `down` cuts everything.
        graphql = request.url.path.endswith("/graphql")
        if graphql:
            self.sent.append(json.loads(request.content or b"{}"))
        fault = self.script.pop(0) if self.script and graphql else ("down" if self.down else None)
        if fault == "down":
            raise httpx.ConnectError("peer down", request=request)
        response = await self._inner.handle_async_request(request)
        if fault == "lost":
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    def operations(self, name: str) -> int:
        """How many requests sent so far carried a document that mentions `name`."""
        return sum(name in str(body.get("query", "")) for body in self.sent)


# Call a coroutine `probe` until `done(result)` or `within` seconds pass: the launcher's helper, one for all.
poll = poll_async
