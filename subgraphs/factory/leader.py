"""Exactly one scheduler per factory database, whatever the number of factory processes.

On PostgreSQL every factory process may lead: one holds a session advisory lock on a connection of its own
and runs the scheduler; the others stand by and try again every second. The server drops the lock when the
leader's connection goes (a crash, a kill), so a standby takes over within about a second, and makes up the
slots that fell during the handover (late, not skipped: a process was alive all along).

On SQLite the database belongs to one machine: an OS file lock beside the database file lets one process
run the scheduler; a second one refuses to start (the OS drops the lock of a killed process).
"""

import asyncio
import contextlib
import fcntl
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col

from subgraphs._common.db import Database, as_utc, utcnow
from subgraphs.factory import metrics
from subgraphs.factory.grid import active_crafts, slots_between
from subgraphs.factory.models import SchedulerState
from subgraphs.factory.runs import last_slots, record_fires

logger = logging.getLogger(__name__)
_LOCK_KEY = 7_402_119_305  # one advisory lock per factory database: the scheduler's
_BEAT = 1.0  # seconds between heartbeats and between a standby's tries
# A leader seen this recently hands the lead over: the one taking it makes up the slots since, as after a
# standby's takeover; a leader unseen for longer was down, and the slots of its downtime are skipped.
HANDOVER_SECONDS = 5 * _BEAT
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def beat(session: Session, *, holder: str, leading: bool) -> None:
    """A factory process is alive (and, when `leading`, runs the scheduler)."""
    now = utcnow()
    values: dict[str, object] = {"any_seen_at": now}
    if leading:
        values |= {"holder": holder, "leader_seen_at": now}
    session.execute(update(SchedulerState).where(col(SchedulerState.id) == 1).values(**values))


def take_lead(session: Session, *, holder: str, now: datetime, window: timedelta, alive_within: float) -> int:
    """Record `holder` as the scheduler; when a factory process was alive until now (a handover, not a
    restart after downtime), write the runs of every craft's slots since its last recorded run (since a second
    before the last leader was seen, for a craft without runs), at most `window` back: late, not skipped. How
    many runs were written."""
    state = session.get(SchedulerState, 1)
    assert state is not None, "migration 0002 creates the scheduler_state row"
    made_up = 0
    seen = as_utc(state.any_seen_at) if state.any_seen_at else None
    if seen is not None and state.leader_seen_at is not None and (now - seen).total_seconds() <= alive_within:
        crafts = [craft for craft in active_crafts(session) if craft.id is not None]
        # From each craft's last run, not from when the last leader was seen: a fire the old leader noted but
        # had not written when it died (a loaded machine delays the write) is made up too.
        recorded = last_slots(session, [craft.id for craft in crafts if craft.id is not None])
        unseen = as_utc(state.leader_seen_at) - timedelta(seconds=1)
        fires = [
            (craft.id, slot)
            for craft in crafts
            if craft.id is not None
            for slot in slots_between(craft, max(recorded.get(craft.id, unseen), now - window), now)
        ]
        made_up = record_fires(session, fires, due_at=now)
    state.holder, state.leader_seen_at, state.any_seen_at = holder, now, now
    session.add(state)
    return made_up


class SchedulerTaken(RuntimeError):
    """Another process runs the scheduler on this SQLite database."""


class FileLead:
    """The SQLite rule: this process leads for its lifetime, or refuses to start."""

    def __init__(self, database_url: str) -> None:
        path = make_url(database_url).database or "factory.db"
        self.path = Path(f"{path}.scheduler.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Hold the lock, or raise SchedulerTaken naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SchedulerTaken(
                f"{holder} already runs the scheduler on this database (lock {self.path}); a second "
                "scheduler would fire every craft twice. Start API-only replicas with "
                "FACTORY_SCHEDULER_ENABLED=false."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(HOLDER)
        handle.flush()
        self._file = handle
        logger.info("scheduler: %s holds the lead (lock file %s)", HOLDER, self.path)

    def release(self) -> None:
        """Let another process lead."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AdvisoryLead:
    """The PostgreSQL rule: lead while holding the advisory lock; stand by otherwise."""

    def __init__(
        self,
        db: Database,
        *,
        on_lead: Callable[[datetime], Awaitable[None]],
        on_loss: Callable[[], Awaitable[None]],
        catch_up_window: timedelta,
    ) -> None:
        self._db = db
        self._on_lead = on_lead
        self._on_loss = on_loss
        self._catch_up_window = catch_up_window
        # The lock's own connection, outside the pool: it must never serve (or outlive) anything else.
        self._engine = create_engine(db.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self._connection: Any = None
        self._task: asyncio.Task[None] | None = None
        self.leading = False

    def start(self) -> None:
        """Stand by, and lead whenever the lock is free."""
        self._task = asyncio.create_task(self._run(), name="scheduler-lead")

    async def stop(self) -> None:
        """Stop leading or standing by; the lock goes with the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.leading:
            self.leading = False
            await self._on_loss()
        await asyncio.to_thread(self._close)

    async def _run(self) -> None:
        while True:
            try:
                if not self.leading and await asyncio.to_thread(self._try_lock):
                    await self._take_lead()
                elif self.leading and not await asyncio.to_thread(self._still_held):
                    self.leading = False
                    logger.warning("scheduler: %s lost the lead (its database connection is gone)", HOLDER)
                    await self._on_loss()
                await self._db.write(beat, holder=HOLDER, leading=self.leading)
                metrics.forget_dead_processes()  # a killed process must not count as a holder
            except Exception:  # the database may be away for a while: stand by and try again
                logger.exception("scheduler: lead check failed; trying again")
                await asyncio.to_thread(self._close)
                if self.leading:
                    self.leading = False
                    await self._on_loss()
            await asyncio.sleep(_BEAT)

    async def _take_lead(self) -> None:
        now = utcnow()
        made_up = await self._db.write(
            take_lead, holder=HOLDER, now=now, window=self._catch_up_window, alive_within=HANDOVER_SECONDS
        )
        self.leading = True
        logger.info("scheduler: %s took the lead; made up %d slots of the handover", HOLDER, made_up)
        # The scheduler fires from the catch-up's `now` on, not from when it starts: a slot falling between
        # the two (a loaded machine can take a while) would otherwise be neither made up nor fired.
        await self._on_lead(now)

    def _try_lock(self) -> bool:
        if self._connection is None:
            self._connection = self._engine.connect()
            # Named in pg_stat_activity: an operator sees which process holds the scheduler's lock.
            self._connection.execute(
                text("SELECT set_config('application_name', :name, false)"), {"name": f"scheduler {HOLDER}"}
            )
        locked = self._connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}
        ).scalar()
        return bool(locked)

    def _still_held(self) -> bool:
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:  # the connection, and the lock with it, is gone
            self._close()
            return False

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None
