"""Builds a subgraph's Starlette app: /graphql with the shared limits, /health, a request body cap."""

import gc
import inspect
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import orjson
from cross_web import HTTPException  # what Strawberry raises for requests it cannot read
from sqlalchemy import text
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.federation import Schema
from strawberry.http.exceptions import WebSocketDisconnected

from subgraphs._common import logs, metrics, telemetry
from subgraphs._common.db import Database
from subgraphs._common.errors import fallback_code
from subgraphs._common.events import EventBus
from subgraphs._common.request_id import RequestIdMiddleware
from subgraphs._common.settings import SubgraphSettings

S = TypeVar("S", bound=SubgraphSettings)
R = TypeVar("R")


def _error_body(message: str, code: str) -> bytes:
    return json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except _BodyTooLarge:
            await self._refuse(send)

    @staticmethod
    async def _refuse(send: Send) -> None:
        body = _error_body("Request body too large", "PAYLOAD_TOO_LARGE")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class _TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames (Strawberry would send `encode_json` bytes as binary)."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


class _SubgraphGraphQL(GraphQL[Any, None], Generic[R]):
    websocket_adapter_class = _TextFrames

    def __init__(self, schema: Schema, build_context: Callable[[Request, R], Any]) -> None:
        # The router carries every subscription of one caller token (all anonymous ones alike) on one
        # WebSocket, so Strawberry's default of 100 per connection would refuse the 101st client: the router
        # limits each client's subscriptions instead.
        super().__init__(schema, graphql_ide="graphiql", max_subscriptions_per_connection=None)
        self._build_context = build_context
        self.resources: R | None = None  # set while the app's lifespan runs

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its JSONDecodeError is json's, which Strawberry turns into a 400

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)  # several times faster than json.dumps on a large answer

    async def process_result(self, request: Any, result: Any) -> Any:
        # Errors that never reach execution (the query cannot even be parsed) still get their code.
        body = await super().process_result(request, result)
        errors = cast(list[dict[str, Any]], body.get("errors") or [])
        for error in errors:
            extensions = error.setdefault("extensions", {})
            if "code" not in extensions:
                extensions["code"] = fallback_code(str(error.get("message", "")))
        return body

    async def get_context(self, request: Any, response: Any) -> Any:
        if self.resources is None:
            raise RuntimeError("the app's lifespan has not started")
        context = self._build_context(request, self.resources)
        # A subgraph that checks tokens builds its context asynchronously (a key may need fetching).
        context = await context if inspect.isawaitable(context) else context
        if isinstance(request, WebSocket):
            context.connection_params = None  # Strawberry sets it from `connection_init`
            context.peer = request.client  # for the context built again from `connection_init`
        return context

    async def on_ws_connect(self, context: Any) -> None:
        # A WebSocket's caller may send its token in `connection_init` (browsers cannot set headers, and the
        # router passes its caller's there): the context is built again as for a request carrying it.
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if isinstance(authorization, str) and self.resources is not None:
            carrier = _Headers({"authorization": authorization}, getattr(context, "peer", None))
            built = self._build_context(cast(Request, carrier), self.resources)
            built = await built if inspect.isawaitable(built) else built
            context.__dict__.update(vars(built))
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except (
            HTTPException
        ) as error:  # malformed JSON, no query, wrong method: a GraphQL error body, not text
            response = Response(
                _error_body(error.reason, "BAD_REQUEST"),
                status_code=error.status_code,
                media_type="application/json",
            )
        await response(scope, receive, send)


@dataclass(frozen=True)
class _Headers:
    """What a context builder reads of a request: its headers and its client's address."""

    headers: dict[str, str]
    client: Any


def _freeze_startup_objects() -> None:
    """Leave what start-up built (modules, the schema, compiled statements: most of the heap, and alive until
    the process ends) out of every later garbage collection. A full collection walked all of it again, every
    few hundred requests: a tenth of the shop's CPU on the flagship with 50 checks."""
    gc.collect()  # what start-up left as garbage is freed now, not frozen with the rest
    gc.freeze()


def _ping(session: Session) -> None:
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]


def create_subgraph_app(
    *,
    schema: Schema,
    settings: S,
    resources: Callable[[S, Database], AbstractAsyncContextManager[R]],
    build_context: Callable[[Request, R], Any],
    gauges: metrics.Gauges | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """A Starlette app serving `schema` at /graphql, a database health check at /health, Prometheus
    metrics at /metrics (with `gauges`, read from the database at each scrape) and the subgraph's own
    `routes`.

    Its lifespan opens the database, then enters the subgraph's `resources(settings, db)` (its typed
    resources: clients, background workers), from which `build_context` (plain or async) makes each
    request's context; both
    close in reverse order. `app.state.resources` holds them for tests and tools.
    """
    logs.configure()
    telemetry.configure()
    graphql: _SubgraphGraphQL[R] = _SubgraphGraphQL(schema, build_context)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        telemetry.instrument(db.engine)
        metrics.count_statements(db.engine)
        bus = EventBus(db, queue_limit=settings.subscriber_backlog)
        try:
            await bus.start()  # before serving: a subscription never starts while events could be missed
            async with resources(settings, db) as opened:
                graphql.resources = app.state.resources = opened
                app.state.db = db
                _freeze_startup_objects()
                try:
                    yield
                finally:
                    await bus.stop()
        finally:
            graphql.resources = None
            await bus.stop()
            await db.dispose()
            telemetry.shutdown()

    async def health(request: Request) -> Response:
        database: Database = request.app.state.db
        try:
            await database.read(_ping)
        except Exception:  # the health check reports, it never raises
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/metrics", metrics.endpoint(gauges)),
            *routes,
        ],
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(telemetry.middleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: even a refused body is answered under its id
    return app
