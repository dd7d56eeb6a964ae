"""Live subscriptions from a test: a graphql-transport-ws client raw enough to send bad frames (`Socket`), and
a Server-Sent Events client (`sse`). Waits are bounded, and a wait that ends unanswered fails the test."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection

from tests.support import auth, poll
from tools.client import socket_url
from tools.stack import Stack

WITHIN = 10.0  # seconds a test waits for a message that must come


class Ended(Exception):
    """The subscription completed (or its connection closed) instead of sending what was awaited."""


@dataclass
class Subscription:
    """The messages of one subscription: payloads of `next` (data and errors), then its end."""

    id: str
    messages: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def next(self, within: float = WITHIN) -> dict[str, Any]:
        """The next payload (its `data` and any `errors`); Ended when the subscription ends first."""
        message = await asyncio.wait_for(self.messages.get(), within)
        if message["type"] == "next":
            payload: dict[str, Any] = message["payload"]
            return payload
        if message["type"] == "error":
            return {"data": None, "errors": message["payload"]}
        raise Ended(message)

    async def data(self, within: float = WITHIN) -> Any:
        """The value of the root field of the next payload, which must carry no error."""
        payload = await self.next(within)
        assert not payload.get("errors"), payload
        return next(iter(payload["data"].values()))

    async def codes(self, within: float = WITHIN) -> list[str]:
        """The codes of the errors of the next payload, which must carry some."""
        payload = await self.next(within)
        assert payload.get("errors"), payload
        return [str(error.get("extensions", {}).get("code")) for error in payload["errors"]]

    async def ended(self, within: float = WITHIN) -> None:
        """Wait for the end (`complete`, or the connection's close), failing on anything else."""
        message = await asyncio.wait_for(self.messages.get(), within)
        assert message["type"] in ("complete", "closed"), message


class Socket:
    """One graphql-transport-ws connection: subscriptions by id, and the close code and reason once closed."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.subscriptions: dict[str, Subscription] = {}
        self.acknowledged = asyncio.Event()
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, token: str | None = None, *, init: bool = True, payload: Any = None
    ) -> AsyncIterator["Socket"]:
        """A connection to the graph at the HTTP `url`, initialised with `token` (unless not `init`)."""
        async with websockets.connect(
            socket_url(url), subprotocols=[websockets.Subprotocol("graphql-transport-ws")], max_size=None
        ) as connection:
            socket = cls(connection)
            try:
                if init:
                    init_payload = payload if payload is not None else auth(token)
                    await socket.send({"type": "connection_init", "payload": init_payload})
                    await asyncio.wait_for(socket.acknowledged.wait(), WITHIN)
                yield socket
            finally:
                socket._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await socket._reader

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        """Send a message (a dict as JSON text; text or bytes as they are)."""
        await self.connection.send(json.dumps(message) if isinstance(message, dict) else message)

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, *, extensions: dict[str, Any] | None = None
    ) -> Subscription:
        """Start an operation; its messages arrive on the returned subscription."""
        subscription = Subscription(uuid.uuid4().hex)
        self.subscriptions[subscription.id] = subscription
        payload: dict[str, Any] = {"query": query, "variables": variables or {}}
        if extensions is not None:
            payload["extensions"] = extensions
        await self.send({"type": "subscribe", "id": subscription.id, "payload": payload})
        return subscription

    async def complete(self, subscription: Subscription) -> None:
        """Stop a subscription."""
        await self.send({"type": "complete", "id": subscription.id})

    async def close_code(self, within: float = WITHIN) -> tuple[int | None, str]:
        """The code and reason the server closed this connection with."""
        return await asyncio.wait_for(asyncio.shield(self.closed), within)

    async def _read(self) -> None:
        try:
            async for raw in self.connection:
                message = json.loads(raw)
                if message.get("type") == "connection_ack":
                    self.acknowledged.set()
                elif message.get("type") == "ping":
                    await self.send({"type": "pong"})
                elif (subscription := self.subscriptions.get(message.get("id", ""))) is not None:
                    await subscription.messages.put(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.connection.close_code, self.connection.close_reason or ""))
            for subscription in self.subscriptions.values():
                subscription.messages.put_nowait({"type": "closed"})


async def sse(
    http: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """The payloads of a subscription over Server-Sent Events (the token in the Authorization header), until
    the stream completes."""
    body = {"query": query, "variables": variables or {}}
    headers = {"accept": "text/event-stream", **auth(token)}
    async with http.stream("POST", url, json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event == "next":
                yield json.loads(line.removeprefix("data:"))
            elif event == "complete":
                return


async def open_subscriptions(stack: Stack, subgraph: str, field: str) -> float:
    """How many subscriptions of `field` are open at `subgraph`, by its /metrics."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(stack.metrics_url(subgraph))).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "service_tree_subscriptions_open" and sample.labels.get("field") == field
    )


async def subscribed(stack: Stack, subgraph: str, field: str, count: int) -> None:
    """Wait until `count` subscriptions of `field` are open at `subgraph`: a subscription that sends nothing
    at first (runs, purchases) has no other sign that it is in place."""
    opened = await poll(
        lambda: open_subscriptions(stack, subgraph, field), lambda n: n >= count, within=WITHIN
    )
    assert opened >= count


RUNS = (
    "subscription($factory: ID) { craftRunChanged(factoryId: $factory) "
    "{ id status attempts craft { id product { id name stock } } } }"
)


async def watch_runs(socket: Socket, stack: Stack, factory_id: str) -> Subscription:
    """A craftRunChanged subscription of one factory's runs, in place at the factory once this returns."""
    watching = await socket.subscribe(RUNS, {"factory": factory_id})
    await subscribed(stack, "factory", "craftRunChanged", 1)
    return watching
