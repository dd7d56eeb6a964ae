"""The retry rule of every background sender (the shop's outbox, the factory's deliveries): a transient
failure is retried for as long as it lasts, with capped exponential backoff and jitter."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from subgraphs._common.db import utcnow


def retry_delay(attempts: int, *, first: float, cap: float) -> float:
    """Seconds to wait after `attempts` failed attempts: `first`, doubling each time, at most `cap`, of which
    a random half (jitter: senders that failed together do not all retry together)."""
    delay = min(cap, first * 2.0 ** min(max(attempts, 1) - 1, 32))
    return delay / 2 + random.uniform(0, delay / 2)


@dataclass(frozen=True, slots=True)
class Backoff:
    """A sender's retry settings: `first` seconds after the first failure, doubling up to `cap`."""

    first: float
    cap: float

    def next_attempt_at(self, attempts: int) -> datetime:
        """When to try again after `attempts` failed attempts."""
        return utcnow() + timedelta(seconds=retry_delay(attempts, first=self.first, cap=self.cap))
