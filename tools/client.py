"""The typed client of the public graph (client/service_tree_client, generated) as the tools, the benchmarks
and the end-to-end tests use it: one per bearer token over a shared httpx client, the codes of the errors an
operation was refused with, and a bridge for synchronous code (`make run`'s demo purchase, the benchmarks)."""

import asyncio
import threading
from collections.abc import Awaitable, Coroutine
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from graphql import OperationDefinitionNode, parse, print_ast

from client.service_tree_client import Client, GraphQLClientGraphQLMultiError

__all__ = [
    "Client",
    "GraphQLClientGraphQLMultiError",
    "SyncGraph",
    "codes",
    "document",
    "graph",
    "refused",
    "socket_url",
]

T = TypeVar("T")

OPERATIONS = Path(__file__).resolve().parents[1] / "client" / "operations"


class _Bearer:
    """The generated client's HTTP client: a shared httpx client, sending one bearer token (or none)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def post(
        self,
        url: Any,
        json: Any | None = None,
        data: Any | None = None,
        files: Any | None = None,
        headers: Any | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST through the shared client with the token."""
        return await self.http.post(
            url, json=json, data=data, files=files, headers={**self.headers, **(headers or {})}, **kwargs
        )

    async def aclose(self) -> None:
        """Nothing: the shared client is closed by whoever made it."""


def socket_url(url: str) -> str:
    """The WebSocket URL of the graph at the HTTP `url` (subscriptions: ws:// for http://, wss:// for https://)."""
    return "ws" + url.removeprefix("http") if url.startswith("http") else url


def graph(http: httpx.AsyncClient, url: str, token: str | None = None) -> Client:
    """The typed client of the graph at `url`, calling it through `http` with `token` (anonymous without);
    its subscriptions open a WebSocket each, the token in `connection_init` as a browser sends it."""
    return Client(
        url=url,
        http_client=_Bearer(http, token),
        ws_url=socket_url(url),
        ws_connection_init_payload={"Authorization": f"Bearer {token}"} if token else None,
    )


def codes(error: GraphQLClientGraphQLMultiError) -> list[str]:
    """The extensions.code of every error an operation was refused with."""
    return [str((each.extensions or {}).get("code")) for each in error.errors]


async def refused(call: Awaitable[T]) -> T | GraphQLClientGraphQLMultiError:
    """The answer of `call`, or the GraphQL errors it was refused with (`codes` lists their codes)."""
    try:
        return await call
    except GraphQLClientGraphQLMultiError as error:
        return error


@cache
def document(name: str) -> str:
    """The operation `name` of client/operations, printed alone: for a load generator, which posts raw bodies
    (the operations use no fragments)."""
    for path in sorted(OPERATIONS.glob("*.graphql")):
        for definition in parse(path.read_text()).definitions:
            if (
                isinstance(definition, OperationDefinitionNode)
                and definition.name
                and definition.name.value == name
            ):
                return print_ast(definition)
    raise KeyError(f"no operation {name} in {OPERATIONS}")


class SyncGraph:
    """The typed client for synchronous code: its operations run on an event loop of their own in a background
    thread, so any thread may call `run` (calls from several threads proceed concurrently)."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="graph", daemon=True)
        self._thread.start()
        self._http = httpx.AsyncClient(timeout=60)

    @property
    def api(self) -> Client:
        """The typed client with this graph's token."""
        return self.as_(self.token)

    def as_(self, token: str | None) -> Client:
        """The typed client with another token (anonymous with None), on the same connections."""
        return graph(self._http, self.url, token)

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        """Run one operation of the typed client: `graph.run(graph.api.product_stock(id=...))`."""
        return asyncio.run_coroutine_threadsafe(call, self._loop).result()

    def login(self, login: str, password: str) -> None:
        """Log in; later operations through `api` carry the token."""
        self.token = self.run(self.api.login(login=login, password=password)).login.token

    def close(self) -> None:
        """Close the connections and stop the loop."""
        self.run(self._http.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
