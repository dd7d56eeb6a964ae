"""What every live subscription shares: the events of its topic, ended with a coded error when its caller
stops being valid (`Auth.still_valid`: asked on every event, at the token's expiry, on a timer, and at once
through `recheck` when a session ends), and its metrics."""

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Counter, Gauge

from subgraphs._common.auth import Auth
from subgraphs._common.errors import Unauthenticated
from subgraphs._common.events import Event, EventBus, Subscriber

RECHECK_SECONDS = 30.0  # how often an idle subscription asks again whether its caller is still valid
_ENDED = "Token expired or no longer valid; log in again"

OPEN = Gauge(
    "service_tree_subscriptions_open",
    "Live subscriptions open, by root field",
    ["field"],
    multiprocess_mode="livesum",
)
SENT = Counter(
    "service_tree_subscription_events_total", "Events sent to subscribers, by root field", ["field"]
)


# This process's open subscriptions and their callers, for `recheck`.
_WATCHING: dict[Subscriber, Auth] = {}


def recheck() -> int:
    """End every open subscription whose caller is no longer valid (a session just ended, a key was retired)
    with UNAUTHENTICATED; how many. Called when the ended sessions change: a set lookup per open subscription,
    only then, instead of every subscription waking up each second."""
    gone = [subscriber for subscriber, auth in _WATCHING.items() if not auth.still_valid()]
    for subscriber in gone:
        subscriber.end(Unauthenticated(_ENDED))
    return len(gone)


# Each field's series of SENT, looked up once: `labels()` per event and subscriber was a measurable part of
# a fan-out. Events sent are counted into it once per turn of the event loop (a fan-out's subscribers all send
# in one turn), not one increment of the shared memory-mapped value per subscriber.
_SENT_BY_FIELD: dict[str, Counter] = {}
_UNCOUNTED: collections.Counter[str] = collections.Counter()


def declare(fields: list[str]) -> None:
    """Every subscription field's series at zero from the start."""
    for name in fields:
        OPEN.labels(name)
        _SENT_BY_FIELD[name] = SENT.labels(name)


def sent(field: str, count: int = 1) -> None:
    """Count events sent to a subscriber of `field` (in SENT by the end of this turn of the event loop)."""
    if not _UNCOUNTED:
        asyncio.get_running_loop().call_soon(_count_sent)
    _UNCOUNTED[field] += count


def _count_sent() -> None:
    for field, count in _UNCOUNTED.items():
        series = _SENT_BY_FIELD.get(field)
        if series is None:
            series = _SENT_BY_FIELD[field] = SENT.labels(field)
        series.inc(count)
    _UNCOUNTED.clear()


@asynccontextmanager
async def watch(bus: EventBus, topic: str, *, field: str, auth: Auth) -> AsyncIterator[AsyncIterator[Event]]:
    """The events of `topic` for one subscription of `field` by the caller of `auth`, registered on entry
    (before the caller reads any state, so nothing committed meanwhile is missed).

    Iterating raises UNAUTHENTICATED as soon as the caller stops being valid (checked on each event, at its
    token's expiry and every RECHECK_SECONDS), SUBSCRIBER_TOO_SLOW or SUBSCRIPTION_INTERRUPTED when the bus
    ends the subscriber. A bad token is refused at once, as for any operation."""
    if auth.principal is None and auth.problem is not None:
        raise Unauthenticated(auth.problem)
    if not auth.still_valid():
        raise Unauthenticated(_ENDED)
    with bus.subscribe(topic) as subscriber:
        OPEN.labels(field).inc()
        _WATCHING[subscriber] = auth
        try:

            async def events() -> AsyncIterator[Event]:
                while True:
                    event = await subscriber.next(_wait(auth))
                    if not auth.still_valid():
                        raise Unauthenticated(_ENDED)
                    if event is not None:
                        yield event

            yield events()
        finally:
            del _WATCHING[subscriber]
            OPEN.labels(field).dec()


def _wait(auth: Auth) -> float:
    """Seconds until the next check: the token's expiry when it comes first, else RECHECK_SECONDS."""
    if auth.expires_at is None:
        return RECHECK_SECONDS
    return max(0.0, min(RECHECK_SECONDS, auth.expires_at - time.time()))
