"""Waiting for a condition, never for a fixed time: the one polling helper of the launcher, the tests and the
benchmark, in a synchronous and an asynchronous form."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def poll(probe: Callable[[], T], done: Callable[[T], bool], *, within: float, interval: float = 0.1) -> T:
    """Call `probe` until `done(result)` or `within` seconds pass; the last result either way."""
    deadline = time.monotonic() + within
    while not done(result := probe()) and time.monotonic() < deadline:
        time.sleep(interval)
    return result


async def poll_async(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, within: float, interval: float = 0.05
) -> T:
    """`poll` for a coroutine `probe`, on the running event loop."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result) or time.monotonic() >= deadline:
            return result
        await asyncio.sleep(interval)
