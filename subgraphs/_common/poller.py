"""A background loop that runs one round now and then: on a timer, sooner when woken, until stopped."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class Poller:
    """Calls `round` every `interval` seconds (or at once after `wake`); `stop` ends it between rounds."""

    def __init__(self, name: str, round: Callable[[], Awaitable[object]], *, interval: float) -> None:
        self._name = name
        self._round = round
        self._interval = interval
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background of the current event loop."""
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self, grace: float) -> None:
        """Let the current round finish (no cancellation in the middle of a write), then return."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout=grace)
        except TimeoutError:
            logger.warning("%s did not stop within %.0fs; cancelled", self._name, grace)

    def wake(self) -> None:
        """Make the next round start now."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._round()
            except Exception:  # a broken round must not end the loop; the next one retries
                logger.exception("%s: round failed", self._name)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
