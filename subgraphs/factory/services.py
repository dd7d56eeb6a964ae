"""Factory business rules: factories, crafts and their runs; each rule and permission check lives here."""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.backoff import next_attempt_at
from subgraphs._common.db import Database, after_commit, as_utc, utcnow
from subgraphs._common.errors import BadUserInput
from subgraphs._common.inputs import bounded, text
from subgraphs.factory.models import Craft, CraftRun, Factory, SchedulerState

_RUN = CraftRun.__table__  # type: ignore[attr-defined]
_CRAFT = Craft.__table__  # type: ignore[attr-defined]
MAX_COUNT = 1_000_000
MAX_INTERVAL = 86_400
MAX_RUNS = 100
PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
_TAKEN = "A factory with that name exists"


class Schedule(Protocol):
    """What fires crafts (the scheduler): told about every committed craft change."""

    def schedule(self, craft: Craft) -> None:
        """Fire `craft` on its grid from now on, or stop firing it when paused."""

    def unschedule(self, craft_id: int) -> None:
        """Stop firing a craft."""


class ProductCheck(Protocol):
    """Asks the shop whether a product exists (through the router)."""

    async def product_exists(self, product_id: int) -> bool:
        """True when the shop has the product."""
        ...


def validate_count(value: int) -> int:
    """A craft's countPerRun."""
    return bounded(value, field="countPerRun", low=1, high=MAX_COUNT)


def validate_interval(value: int) -> int:
    """A craft's intervalSeconds."""
    return bounded(value, field="intervalSeconds", low=1, high=MAX_INTERVAL)


def next_run_at(craft: Craft, now: datetime | None = None) -> datetime | None:
    """When the craft fires next: the first grid point after now, or None while paused."""
    if not craft.active:
        return None
    anchor = as_utc(craft.anchor_at)
    elapsed = ((now or utcnow()) - anchor).total_seconds()
    step = max(0, math.floor(elapsed / craft.interval_seconds)) + 1
    return anchor + timedelta(seconds=step * craft.interval_seconds)


def slot_of(craft: Craft | Any, fired_at: datetime) -> datetime:
    """The grid point a fire at `fired_at` belongs to (a scheduler fires on the grid, a little late)."""
    anchor = as_utc(craft.anchor_at)
    step = max(1, round((fired_at - anchor).total_seconds() / craft.interval_seconds))
    return anchor + timedelta(seconds=step * craft.interval_seconds)


def run_key(craft_id: int, scheduled_at: datetime) -> str:
    """Deterministic: the same craft and scheduled time always give the same key."""
    return f"craft-{craft_id}-{scheduled_at.strftime('%Y%m%dT%H%M%S.%fZ')}"


def create_factory(session: Session, *, actor: Principal, name: str) -> Factory:
    """A new factory."""
    actor.require(Role.ADMIN)
    factory = Factory(name=text(name, field="name", max_length=200))
    rows.ensure_unique(session, Factory, message=_TAKEN, field="name", name=factory.name)
    session.add(factory)
    session.flush()
    return factory


def get_factory(session: Session, factory_id: int, *, field: str = "id") -> Factory:
    """A factory that must exist."""
    return rows.get_required(session, Factory, factory_id, message="No such factory", field=field)


def rename_factory(session: Session, *, actor: Principal, factory_id: int, name: str) -> Factory:
    """Rename a factory."""
    actor.require(Role.ADMIN)
    factory = get_factory(session, factory_id)
    new_name = text(name, field="name", max_length=200)
    rows.ensure_unique(session, Factory, message=_TAKEN, field="name", exclude_id=factory_id, name=new_name)
    factory.name = new_name
    session.add(factory)
    session.flush()
    return factory


def delete_factory(session: Session, *, actor: Principal, scheduler: Schedule, factory_id: int) -> None:
    """Delete a factory with its crafts and their runs; their schedules stop once that is committed."""
    actor.require(Role.ADMIN)
    get_factory(session, factory_id)
    craft_ids = [c for c in session.exec(select(Craft.id).where(Craft.factory_id == factory_id)).all() if c]
    session.execute(delete(CraftRun).where(col(CraftRun.craft_id).in_(craft_ids)))
    session.execute(delete(Craft).where(col(Craft.factory_id) == factory_id))
    session.execute(delete(Factory).where(col(Factory.id) == factory_id))
    for craft_id in craft_ids:
        after_commit(session, functools.partial(scheduler.unschedule, craft_id))


def list_factories(session: Session, *, actor: Principal) -> list[Factory]:
    """Every factory, by id."""
    actor.require(Role.ADMIN)
    return list(session.exec(select(Factory).order_by(col(Factory.id))).all())


def get_craft(session: Session, craft_id: int, *, field: str = "id") -> Craft:
    """A craft that must exist."""
    return rows.get_required(session, Craft, craft_id, message="No such craft", field=field)


async def _confirmed_product(shop: ProductCheck, product_id: int) -> int:
    if not await shop.product_exists(product_id):
        raise BadUserInput("No such product in any shop", field="productId")
    return product_id


async def create_craft(
    db: Database,
    *,
    actor: Principal,
    shop: ProductCheck,
    scheduler: Schedule,
    factory_id: int,
    product_id: int,
    count_per_run: int,
    interval_seconds: int,
    active: bool,
) -> Craft:
    """A new craft of a product the shop confirms, scheduled once committed. The shop is asked (an HTTP
    call) before the write transaction opens, so this function owns its transaction."""
    actor.require(Role.ADMIN)
    craft = Craft(
        factory_id=factory_id,
        product_id=product_id,
        count_per_run=validate_count(count_per_run),
        interval_seconds=validate_interval(interval_seconds),
        active=active,
    )
    await _confirmed_product(shop, product_id)
    return await db.write(_add_craft, craft=craft, scheduler=scheduler)


def _add_craft(session: Session, *, craft: Craft, scheduler: Schedule) -> Craft:
    get_factory(session, craft.factory_id, field="factoryId")
    session.add(craft)
    session.flush()
    after_commit(session, functools.partial(scheduler.schedule, craft))
    return craft


async def update_craft(
    db: Database,
    *,
    actor: Principal,
    shop: ProductCheck,
    scheduler: Schedule,
    craft_id: int,
    product_id: int | None,
    count_per_run: int | None,
    interval_seconds: int | None,
) -> Craft:
    """Change what a craft makes (a product the shop confirms), how much, or how often (a new interval
    restarts its grid now). Like `create_craft`, it asks the shop before its own write transaction."""
    actor.require(Role.ADMIN)
    if count_per_run is not None:
        validate_count(count_per_run)
    if interval_seconds is not None:
        validate_interval(interval_seconds)
    if product_id is not None:
        await _confirmed_product(shop, product_id)
    return await db.write(
        _change_craft,
        craft_id=craft_id,
        product_id=product_id,
        count_per_run=count_per_run,
        interval_seconds=interval_seconds,
        scheduler=scheduler,
    )


def _change_craft(
    session: Session,
    *,
    craft_id: int,
    product_id: int | None,
    count_per_run: int | None,
    interval_seconds: int | None,
    scheduler: Schedule,
) -> Craft:
    craft = get_craft(session, craft_id)
    if product_id is not None:
        craft.product_id = product_id
    if count_per_run is not None:
        craft.count_per_run = count_per_run
    if interval_seconds is not None and interval_seconds != craft.interval_seconds:
        craft.interval_seconds = interval_seconds
        craft.anchor_at = utcnow()
    session.add(craft)
    session.flush()
    after_commit(session, functools.partial(scheduler.schedule, craft))
    return craft


def set_active(
    session: Session, *, actor: Principal, scheduler: Schedule, craft_id: int, active: bool
) -> Craft:
    """Pause or resume a craft (resuming restarts its grid now); its schedule follows once committed."""
    actor.require(Role.ADMIN)
    craft = get_craft(session, craft_id)
    if craft.active != active:
        craft.active = active
        if active:
            craft.anchor_at = utcnow()
        session.add(craft)
        session.flush()
    after_commit(session, functools.partial(scheduler.schedule, craft))
    return craft


def delete_craft(session: Session, *, actor: Principal, scheduler: Schedule, craft_id: int) -> None:
    """Delete a craft and its runs; its schedule stops once that is committed."""
    actor.require(Role.ADMIN)
    get_craft(session, craft_id)
    session.execute(delete(CraftRun).where(col(CraftRun.craft_id) == craft_id))
    session.execute(delete(Craft).where(col(Craft.id) == craft_id))
    after_commit(session, functools.partial(scheduler.unschedule, craft_id))


class Grid(Protocol):
    """What the scheduler needs of a craft: when and how often it fires."""

    id: int | None
    active: bool
    anchor_at: datetime
    interval_seconds: int


_GRIDS = select(_CRAFT.c.id, _CRAFT.c.active, _CRAFT.c.anchor_at, _CRAFT.c.interval_seconds).where(
    _CRAFT.c.active.is_(True)
)


def active_crafts(session: Session) -> list[Grid]:
    """The grid of every craft the scheduler should fire (plain rows: read every second, for thousands)."""
    grids: list[Grid] = list(session.execute(_GRIDS).all())
    return grids


def latest_runs(session: Session, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[CraftRun]]:
    """For each (craft id, last) key, that craft's `last` newest runs, in one statement."""
    limit = max(last for _, last in keys)
    craft_ids = sorted({craft_id for craft_id, _ in keys})
    position = func.row_number().over(
        partition_by=col(CraftRun.craft_id),
        order_by=(col(CraftRun.scheduled_at).desc(), col(CraftRun.id).desc()),
    )
    ranked = (
        select(CraftRun, position.label("position")).where(col(CraftRun.craft_id).in_(craft_ids)).subquery()
    )
    query = select(CraftRun).join(ranked, col(CraftRun.id) == ranked.c.id).where(ranked.c.position <= limit)
    rows_ = sorted(session.exec(query).all(), key=lambda run: (run.scheduled_at, run.id or 0), reverse=True)
    return {
        (craft_id, last): [run for run in rows_ if run.craft_id == craft_id][:last] for craft_id, last in keys
    }


def validate_last(last: int) -> int:
    """How many runs to list."""
    return bounded(last, field="last", low=0, high=MAX_RUNS)


@dataclass(frozen=True, slots=True)
class DueRun:
    """A run claimed for one delivery attempt."""

    id: int
    key: str
    product_id: int
    count: int
    scheduled_at: datetime


def record_fires(
    session: Session, fires: Sequence[tuple[int, datetime]], *, due_at: datetime | None = None
) -> int:
    """Write the PENDING runs of `fires` (craft id, fire time), first due at `due_at` (now, unless given),
    skipping crafts gone or paused and slots that already have a run: the same slot never gets two runs.
    How many were written."""
    craft_ids = sorted({craft_id for craft_id, _ in fires})
    crafts = {
        row.id: row
        for row in session.execute(
            select(_CRAFT).where(_CRAFT.c.id.in_(craft_ids), _CRAFT.c.active.is_(True))
        ).all()
    }
    wanted: dict[str, dict[str, object]] = {}
    due_at = due_at or utcnow()
    for craft_id, fired_at in fires:
        craft = crafts.get(craft_id)
        if craft is None:
            continue
        scheduled_at = slot_of(craft, fired_at)
        key = run_key(craft_id, scheduled_at)
        wanted[key] = {
            "craft_id": craft_id,
            "key": key,
            "product_id": craft.product_id,
            "count": craft.count_per_run,
            "scheduled_at": scheduled_at,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": due_at,
        }
    if not wanted:
        return 0
    taken = set(session.execute(select(_RUN.c.key).where(_RUN.c.key.in_(list(wanted)))).scalars())
    new = [run for key, run in wanted.items() if key not in taken]
    if new:
        session.execute(insert(_RUN), new)
    return len(new)


def claim_due(
    session: Session, *, due_by: datetime, lease_until: datetime, limit: int, request_id: str | None = None
) -> list[DueRun]:
    """Claim up to `limit` PENDING runs due by `due_by`, oldest first, for one attempt (sent in request
    `request_id`): they are not due again before `lease_until` (another worker, or the next round, leaves them
    to this attempt)."""
    due = (
        select(_RUN.c.id)
        .where(_RUN.c.status == PENDING, _RUN.c.next_attempt_at <= due_by)
        .order_by(_RUN.c.scheduled_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: replicas claim disjoint runs; SQLite has one writer
    )
    claimed = session.execute(
        update(_RUN)
        .where(_RUN.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_until, request_id=request_id)
        .returning(_RUN.c.id, _RUN.c.key, _RUN.c.product_id, _RUN.c.count, _RUN.c.scheduled_at)
    ).all()
    # Row.count is the tuple method: the run's count is read by position.
    runs = [DueRun(row[0], row[1], row[2], row[3], as_utc(row[4])) for row in claimed]
    return sorted(runs, key=lambda run: run.scheduled_at)


def mark_delivered(session: Session, *, run_ids: Sequence[int]) -> None:
    """The shop confirmed these deliveries."""
    session.execute(
        update(CraftRun)
        .where(col(CraftRun.id).in_(run_ids), col(CraftRun.status) == PENDING)
        .values(status=DELIVERED, finished_at=utcnow(), attempts=CraftRun.attempts + 1, error=None)
    )


def mark_attempt_failed(
    session: Session,
    *,
    run_id: int,
    error: str,
    permanent: bool,
    retry: float,
    max_backoff: float,
) -> None:
    """A delivery attempt failed: retry with backoff for as long as the failure lasts, or end FAILED when
    retrying cannot help (`permanent`: an unknown product, bad input)."""
    run = session.get(CraftRun, run_id)
    if run is None or run.status != PENDING:
        return
    run.attempts += 1
    run.error = error[:500]
    if permanent:
        run.status = FAILED
        run.finished_at = utcnow()
    else:
        run.next_attempt_at = next_attempt_at(run.attempts, first=retry, cap=max_backoff)
    session.add(run)


def prune_runs(session: Session, before: datetime, limit: int) -> int:
    """Delete at most `limit` finished runs (DELIVERED or FAILED) that finished before `before`."""
    old = (
        select(_RUN.c.id)
        .where(_RUN.c.status != PENDING, _RUN.c.finished_at < before)
        .limit(limit)
        .scalar_subquery()
    )
    return len(session.execute(delete(_RUN).where(_RUN.c.id.in_(old)).returning(_RUN.c.id)).all())


def beat(session: Session, *, holder: str, leading: bool) -> None:
    """A factory process is alive (and, when `leading`, runs the scheduler)."""
    now = utcnow()
    values: dict[str, object] = {"any_seen_at": now}
    if leading:
        values |= {"holder": holder, "leader_seen_at": now}
    session.execute(update(SchedulerState).where(col(SchedulerState.id) == 1).values(**values))


def slots_between(craft: Grid, start: datetime, end: datetime) -> list[datetime]:
    """The craft's grid points after `start`, up to `end`."""
    anchor, step = as_utc(craft.anchor_at), timedelta(seconds=craft.interval_seconds)
    first = max(1, math.floor((start - anchor) / step) + 1)
    slots = []
    while anchor + first * step <= end:
        slots.append(anchor + first * step)
        first += 1
    return slots


def take_lead(session: Session, *, holder: str, now: datetime, window: timedelta, alive_within: float) -> int:
    """Record `holder` as the scheduler; when a factory process was alive until now (a handover, not a
    restart after downtime), write the runs of the slots since the last leader was seen, at most `window`
    back: late, not skipped. How many runs were written."""
    state = session.get(SchedulerState, 1)
    assert state is not None, "migration 0002 creates the scheduler_state row"
    made_up = 0
    seen = as_utc(state.any_seen_at) if state.any_seen_at else None
    if seen is not None and state.leader_seen_at is not None and (now - seen).total_seconds() <= alive_within:
        since = max(as_utc(state.leader_seen_at) - timedelta(seconds=1), now - window)
        fires = [
            (craft.id, slot) for craft in active_crafts(session) for slot in slots_between(craft, since, now)
        ]
        made_up = record_fires(
            session, [(craft_id, slot) for craft_id, slot in fires if craft_id], due_at=now
        )
    state.holder, state.leader_seen_at, state.any_seen_at = holder, now, now
    session.add(state)
    return made_up
