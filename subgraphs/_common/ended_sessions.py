"""Sessions ended while access tokens of theirs may still be live, as every verifier process knows them: a set
in memory, kept current by polling purchase's feed (`GET /sessions/ended?after=<cursor>`) once a second, so a
request costs one set lookup and the purchase database one small indexed query per verifier process per
second, whatever the request rate. An entry is dropped once every token of its session has expired.

While the feed cannot be reached the last set stays (purchase down must not stop the shop selling); the age of
the last answer is logged and exposed as a metric.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Gauge

from subgraphs._common.poller import Poller

logger = logging.getLogger(__name__)

# When the feed last answered, the oldest of the live processes of a subgraph: `time() - this` is how stale
# the knowledge of ended sessions may be anywhere in it (an alert when it passes a few seconds).
FEED_ANSWERED = Gauge(
    "service_tree_ended_sessions_answered_timestamp_seconds",
    "When the ended-sessions feed last answered this subgraph's processes (the oldest of them), Unix time",
    multiprocess_mode="livemin",
)

# Why a session ended (the feed's `reason`), as the refusal of its tokens says it.
REASONS = {
    "LOGOUT": "you logged out",
    "LOGOUT_EVERYWHERE": "you logged out everywhere",
    "PASSWORD_CHANGED": "the password was changed",
    "ENDED": "it was ended from another session",
    "DISABLED": "the account is disabled",
    "REUSE": "its refresh token was used twice",
    "MISUSE": "its refresh token was presented by another user",
}

FeedSource = Callable[[str | None], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Ended:
    """An ended session: why, and the time (epoch seconds) after which no token of it can be live."""

    reason: str
    until: float


def refusal(reason: str) -> str:
    """The message that refuses a token of a session ended for `reason`."""
    return f"Session ended: {REASONS.get(reason, 'it was ended')}"


class EndedSessions:
    """The sessions ended while their tokens may be live, by session id; polled from `source` every
    `interval` seconds once `poller` is started; `on_end` is called whenever sessions become known as ended
    (what outlives a request, a live subscription, is ended then rather than at its next check)."""

    def __init__(
        self, source: FeedSource, *, interval: float, on_end: Callable[[], object] | None = None
    ) -> None:
        self._source = source
        self._on_end = on_end
        self._ended: dict[str, Ended] = {}
        self._cursor: str | None = None
        self._answered_at: float | None = None  # wall time of the feed's last answer
        self._failing = False
        self.poller = Poller("ended-sessions", self.poll, interval=interval)

    def get(self, sid: str) -> Ended | None:
        """The ended session `sid`, or None when it has not ended (as far as this process knows)."""
        return self._ended.get(sid)

    def age(self) -> float | None:
        """Seconds since the feed last answered (None: never)."""
        return None if self._answered_at is None else time.time() - self._answered_at

    async def poll(self) -> None:
        """Ask the feed what ended since the last answer; forget what can no longer have live tokens."""
        try:
            answer = await self._source(self._cursor)
        except Exception as error:
            if not self._failing:
                logger.warning("the ended-sessions feed cannot be read (%s); keeping the last set", error)
            self._failing = True
            return
        if self._failing:
            logger.info("the ended-sessions feed answers again")
        self._failing = False
        entries = answer.get("ended") or []
        for entry in entries:
            self._ended[str(entry["sid"])] = Ended(reason=str(entry["reason"]), until=float(entry["until"]))
        self._cursor = answer.get("cursor") or self._cursor
        self._answered_at = now = time.time()
        FEED_ANSWERED.set(now)
        for sid in [sid for sid, ended in self._ended.items() if ended.until < now]:
            del self._ended[sid]
        if entries:
            self._told()

    def _told(self) -> None:
        if self._on_end is not None:
            self._on_end()
