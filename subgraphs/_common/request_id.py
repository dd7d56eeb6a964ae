"""The request id that follows one request through every process: the router's `x-request-id`, taken from the
incoming request, set for its log lines and passed on in the calls it makes."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
_MAX_LENGTH = 128  # a client's id is echoed and logged: a long one is cut, not refused

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request (or background work) being served, if any."""
    return _current.get()


def new() -> str:
    """A fresh id, for work that no request started (a scheduler fire, a retry round)."""
    return uuid.uuid4().hex


@contextmanager
def use(request_id: str | None) -> Iterator[None]:
    """Serve the block under `request_id` (under a fresh one when None)."""
    token = _current.set((request_id or new())[:_MAX_LENGTH])
    try:
        yield
    finally:
        _current.reset(token)


def headers() -> dict[str, str]:
    """The header that passes the current id on in a call to another process."""
    request_id = _current.get()
    return {HEADER: request_id} if request_id else {}


class RequestIdMiddleware:
    """Serves each HTTP request under its `x-request-id` (a new one when absent), echoed in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.encode())
        request_id = given.decode("latin-1")[:_MAX_LENGTH] if given else new()
        echoed = (HEADER.encode(), request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), echoed]
            await send(message)

        with use(request_id):
            await self.app(scope, receive, send_with_id)
