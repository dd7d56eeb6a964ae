"""Guessing slowed down: after a few failed logins of one login name, that name is blocked for a while
(RATE_LIMITED with retryAfterSeconds), whichever replica of the purchase subgraph is asked; refresh tokens
that match nothing count the same way against the client's address (`address_key`)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import Session, col, delete

from subgraphs._common import rows
from subgraphs._common.db import as_utc
from subgraphs._common.errors import RateLimited
from subgraphs.purchase.models import LoginFailure


@dataclass(frozen=True, slots=True)
class Policy:
    """`max_failures` failed logins within `window` block the login name for `block`."""

    max_failures: int
    window: timedelta
    block: timedelta


def address_key(address: str) -> str:
    """The key under which a client address's failures count (logins cannot hold a colon: no clash)."""
    return f"address:{address}"[:64]


def ensure_not_blocked(session: Session, *, login: str, now: datetime) -> bool:
    """RATE_LIMITED while `login` is blocked; whether it has failures on record (a success clears them)."""
    row = session.get(LoginFailure, login)
    if row is None:
        return False
    if row.blocked_until is not None and as_utc(row.blocked_until) > now:
        wait = math.ceil((as_utc(row.blocked_until) - now).total_seconds())
        raise RateLimited("Too many failed attempts; try again later", retry_after_seconds=wait)
    return True


def record_failure(session: Session, *, login: str, now: datetime, policy: Policy) -> None:
    """One more failed login; at `policy.max_failures` within the window the login name is blocked."""
    # One upsert: concurrent failures on several replicas all count, and never race to create the row.
    statement = rows.insert_of(session.get_bind().dialect.name)(LoginFailure).values(
        login=login, failures=1, window_started_at=now, blocked_until=None
    )
    table = LoginFailure.__table__  # type: ignore[attr-defined]
    stale = table.c.window_started_at < now - policy.window
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.login],
            set_={
                "failures": case((stale, 1), else_=table.c.failures + 1),
                "window_started_at": case((stale, now), else_=table.c.window_started_at),
            },
        )
    )
    row = session.get(LoginFailure, login, populate_existing=True)
    if row is not None and row.failures >= policy.max_failures:
        row.blocked_until = now + policy.block
        row.failures, row.window_started_at = 0, now
        session.add(row)


def clear(session: Session, *, login: str) -> None:
    """A successful login forgets the failures of its login name."""
    session.execute(delete(LoginFailure).where(col(LoginFailure.login) == login))
