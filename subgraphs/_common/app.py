"""Builds a subgraph's Starlette app: /graphql with the shared limits, /health, a request body cap."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from cross_web import HTTPException  # what Strawberry raises for requests it cannot read
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.federation import Schema

from subgraphs._common.db import Database
from subgraphs._common.settings import SubgraphSettings

ContextBuilder = Callable[[Request], Awaitable[Any]]
Resources = Callable[[Starlette, Database], AbstractAsyncContextManager[None]]


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


class _SubgraphGraphQL(GraphQL[Any, None]):
    def __init__(self, schema: Schema, build_context: ContextBuilder) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self._build_context = build_context

    async def get_context(self, request: Any, response: Any) -> Any:
        return await self._build_context(request)

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


def create_subgraph_app(
    *,
    schema: Schema,
    settings: SubgraphSettings,
    build_context: ContextBuilder,
    resources: Resources | None = None,
) -> Starlette:
    """A Starlette app serving `schema` at /graphql and a database health check at /health.

    Its lifespan opens the database (`app.state.db`, beside `app.state.settings`), then enters the
    subgraph's own `resources(app, db)` (clients, background workers), and closes both in reverse order.
    """
    graphql = _SubgraphGraphQL(schema, build_context)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        app.state.settings, app.state.db = settings, db
        try:
            if resources is None:
                yield
            else:
                async with resources(app, db):
                    yield
        finally:
            await db.dispose()

    async def health(request: Request) -> Response:
        database: Database = request.app.state.db
        try:
            async with database.read() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception:  # the health check reports, it never raises
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/health", health)],
        lifespan=lifespan,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app
