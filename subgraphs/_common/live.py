"""What every live subscription shares: the events of its topic, ended with a coded error when its caller
stops being valid (`still_valid`, asked on every event and on a timer), and its metrics."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from prometheus_client import Counter, Gauge

from subgraphs._common.auth import Auth, Principal
from subgraphs._common.db import utcnow
from subgraphs._common.errors import Unauthenticated
from subgraphs._common.events import Event, EventBus

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


async def still_valid(principal: Principal | None, now: datetime) -> bool:
    """Whether a subscription of `principal` may go on at `now`: the one check every live subscription makes
    (today, that its token has not expired; whatever else ends a principal belongs here too). An anonymous
    caller stays valid."""
    return principal is None or principal.expires_at is None or now < principal.expires_at


def declare(fields: list[str]) -> None:
    """Every subscription field's series at zero from the start."""
    for name in fields:
        OPEN.labels(name)
        SENT.labels(name)


def sent(field: str, count: int = 1) -> None:
    """Count events sent to a subscriber of `field`."""
    SENT.labels(field).inc(count)


@asynccontextmanager
async def watch(bus: EventBus, topic: str, *, field: str, auth: Auth) -> AsyncIterator[AsyncIterator[Event]]:
    """The events of `topic` for one subscription of `field` by the caller of `auth`, registered on entry
    (before the caller reads any state, so nothing committed meanwhile is missed).

    Iterating raises UNAUTHENTICATED as soon as the caller stops being valid (checked on each event, at its
    token's expiry and every RECHECK_SECONDS), SUBSCRIBER_TOO_SLOW or SUBSCRIPTION_INTERRUPTED when the bus
    ends the subscriber. A bad token is refused at once, as for any operation."""
    principal = auth.principal
    if principal is None and auth.problem is not None:
        raise Unauthenticated(auth.problem)
    if not await still_valid(principal, utcnow()):
        raise Unauthenticated(_ENDED)
    with bus.subscribe(topic) as subscriber:
        OPEN.labels(field).inc()
        try:

            async def events() -> AsyncIterator[Event]:
                while True:
                    event = await subscriber.next(_wait(principal))
                    if not await still_valid(principal, utcnow()):
                        raise Unauthenticated(_ENDED)
                    if event is not None:
                        yield event

            yield events()
        finally:
            OPEN.labels(field).dec()


def _wait(principal: Principal | None) -> float:
    """Seconds until the next check: the token's expiry when it comes first, else RECHECK_SECONDS."""
    if principal is None or principal.expires_at is None:
        return RECHECK_SECONDS
    left = (principal.expires_at - utcnow()).total_seconds()
    return max(0.0, min(RECHECK_SECONDS, left))
