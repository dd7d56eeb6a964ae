"""Factory business rules: factories, crafts and their runs; each rule and permission check lives here."""

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import as_utc, utcnow
from subgraphs._common.errors import BadUserInput, Forbidden
from subgraphs._common.inputs import bounded, text
from subgraphs._common.rows import ensure_unique, get_required
from subgraphs.factory.clients import ShopClient
from subgraphs.factory.models import Craft, CraftRun, Factory

MAX_COUNT = 1_000_000
MAX_INTERVAL = 86_400
MAX_RUNS = 100
PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
_TAKEN = "A factory with that name exists"


def require_admin(actor: Principal) -> None:
    """Factories are run by admins."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only an ADMIN may do this")


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


def slot_of(craft: Craft, fired_at: datetime) -> datetime:
    """The grid point a fire at `fired_at` belongs to (a scheduler fires on the grid, a little late)."""
    anchor = as_utc(craft.anchor_at)
    step = max(1, round((fired_at - anchor).total_seconds() / craft.interval_seconds))
    return anchor + timedelta(seconds=step * craft.interval_seconds)


def run_key(craft_id: int, scheduled_at: datetime) -> str:
    """Deterministic: the same craft and scheduled time always give the same key."""
    return f"craft-{craft_id}-{scheduled_at.strftime('%Y%m%dT%H%M%S.%fZ')}"


async def create_factory(session: AsyncSession, *, actor: Principal, name: str) -> Factory:
    """A new factory."""
    require_admin(actor)
    factory = Factory(name=text(name, field="name", max_length=200))
    await ensure_unique(session, Factory, message=_TAKEN, field="name", name=factory.name)
    session.add(factory)
    await session.flush()
    return factory


async def get_factory(session: AsyncSession, factory_id: int, *, field: str = "id") -> Factory:
    """A factory that must exist."""
    return await get_required(session, Factory, factory_id, message="No such factory", field=field)


async def rename_factory(session: AsyncSession, *, actor: Principal, factory_id: int, name: str) -> Factory:
    """Rename a factory."""
    require_admin(actor)
    factory = await get_factory(session, factory_id)
    new_name = text(name, field="name", max_length=200)
    await ensure_unique(session, Factory, message=_TAKEN, field="name", exclude_id=factory_id, name=new_name)
    factory.name = new_name
    session.add(factory)
    await session.flush()
    return factory


async def delete_factory(session: AsyncSession, *, actor: Principal, factory_id: int) -> list[int]:
    """Delete a factory with its crafts and their runs; the ids of the deleted crafts."""
    require_admin(actor)
    await get_factory(session, factory_id)
    craft_ids = list((await session.exec(select(Craft.id).where(Craft.factory_id == factory_id))).all())
    await session.exec(delete(CraftRun).where(col(CraftRun.craft_id).in_(craft_ids)))
    await session.exec(delete(Craft).where(col(Craft.factory_id) == factory_id))
    await session.exec(delete(Factory).where(col(Factory.id) == factory_id))
    return [craft_id for craft_id in craft_ids if craft_id is not None]


async def list_factories(session: AsyncSession, *, actor: Principal) -> list[Factory]:
    """Every factory, by id."""
    require_admin(actor)
    return list((await session.exec(select(Factory).order_by(col(Factory.id)))).all())


async def get_craft(session: AsyncSession, craft_id: int, *, field: str = "id") -> Craft:
    """A craft that must exist."""
    return await get_required(session, Craft, craft_id, message="No such craft", field=field)


async def existing_product(*, actor: Principal, shop: ShopClient, product_id: int) -> int:
    """`product_id`, once the shop confirms the product exists (BAD_USER_INPUT otherwise). An HTTP call:
    make it before opening a write transaction."""
    require_admin(actor)
    if not await shop.product_exists(product_id):
        raise BadUserInput("No such product in any shop", field="productId")
    return product_id


async def create_craft(
    session: AsyncSession,
    *,
    actor: Principal,
    factory_id: int,
    product_id: int,
    count_per_run: int,
    interval_seconds: int,
    active: bool,
) -> Craft:
    """A new craft of a product checked with `existing_product`."""
    require_admin(actor)
    await get_factory(session, factory_id, field="factoryId")
    craft = Craft(
        factory_id=factory_id,
        product_id=product_id,
        count_per_run=validate_count(count_per_run),
        interval_seconds=validate_interval(interval_seconds),
        active=active,
    )
    session.add(craft)
    await session.flush()
    return craft


async def update_craft(
    session: AsyncSession,
    *,
    actor: Principal,
    craft_id: int,
    product_id: int | None,
    count_per_run: int | None,
    interval_seconds: int | None,
) -> Craft:
    """Change what a craft makes, how much, or how often (a new interval restarts its grid now)."""
    require_admin(actor)
    craft = await get_craft(session, craft_id)
    if product_id is not None:
        craft.product_id = product_id
    if count_per_run is not None:
        craft.count_per_run = validate_count(count_per_run)
    if interval_seconds is not None and interval_seconds != craft.interval_seconds:
        craft.interval_seconds = validate_interval(interval_seconds)
        craft.anchor_at = utcnow()
    session.add(craft)
    await session.flush()
    return craft


async def set_active(session: AsyncSession, *, actor: Principal, craft_id: int, active: bool) -> Craft:
    """Pause or resume a craft; resuming restarts its grid now."""
    require_admin(actor)
    craft = await get_craft(session, craft_id)
    if craft.active != active:
        craft.active = active
        if active:
            craft.anchor_at = utcnow()
        session.add(craft)
        await session.flush()
    return craft


async def delete_craft(session: AsyncSession, *, actor: Principal, craft_id: int) -> None:
    """Delete a craft and its runs."""
    require_admin(actor)
    await get_craft(session, craft_id)
    await session.exec(delete(CraftRun).where(col(CraftRun.craft_id) == craft_id))
    await session.exec(delete(Craft).where(col(Craft.id) == craft_id))


async def active_crafts(session: AsyncSession) -> list[Craft]:
    """Every craft the scheduler should fire."""
    return list((await session.exec(select(Craft).where(col(Craft.active).is_(True)))).all())


async def factories_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Factory]:
    """Factories keyed by id."""
    rows = (await session.exec(select(Factory).where(col(Factory.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def crafts_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Craft]:
    """Crafts keyed by id."""
    rows = (await session.exec(select(Craft).where(col(Craft.id).in_(ids)))).all()
    return {row.id: row for row in rows if row.id is not None}


async def crafts_of_factories(session: AsyncSession, factory_ids: Sequence[int]) -> dict[int, list[Craft]]:
    """Each factory's crafts, by id."""
    grouped: dict[int, list[Craft]] = {factory_id: [] for factory_id in factory_ids}
    query = select(Craft).where(col(Craft.factory_id).in_(factory_ids)).order_by(col(Craft.id))
    for row in (await session.exec(query)).all():
        grouped[row.factory_id].append(row)
    return grouped


async def crafts_of_products(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, list[Craft]]:
    """Each product's crafts, by id."""
    grouped: dict[int, list[Craft]] = {product_id: [] for product_id in product_ids}
    query = select(Craft).where(col(Craft.product_id).in_(product_ids)).order_by(col(Craft.id))
    for row in (await session.exec(query)).all():
        grouped[row.product_id].append(row)
    return grouped


async def latest_runs(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[CraftRun]]:
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
    rows = sorted(
        (await session.exec(query)).all(), key=lambda run: (run.scheduled_at, run.id or 0), reverse=True
    )
    return {
        (craft_id, last): [run for run in rows if run.craft_id == craft_id][:last] for craft_id, last in keys
    }


def validate_last(last: int) -> int:
    """How many runs to list."""
    return bounded(last, field="last", low=0, high=MAX_RUNS)


async def record_fires(session: AsyncSession, fires: Sequence[tuple[int, datetime]]) -> list[CraftRun]:
    """Write the PENDING runs of `fires` (craft id, fire time), skipping crafts gone or paused and slots
    that already have a run: the same slot never gets two runs."""
    crafts = await crafts_by_ids(session, sorted({craft_id for craft_id, _ in fires}))
    wanted: dict[str, CraftRun] = {}
    for craft_id, fired_at in fires:
        craft = crafts.get(craft_id)
        if craft is None or not craft.active:
            continue
        scheduled_at = slot_of(craft, fired_at)
        key = run_key(craft_id, scheduled_at)
        wanted[key] = CraftRun(
            craft_id=craft_id,
            key=key,
            product_id=craft.product_id,
            count=craft.count_per_run,
            scheduled_at=scheduled_at,
        )
    if not wanted:
        return []
    taken = set((await session.exec(select(CraftRun.key).where(col(CraftRun.key).in_(list(wanted))))).all())
    runs = [run for key, run in wanted.items() if key not in taken]
    session.add_all(runs)
    await session.flush()
    return runs


async def due_runs(session: AsyncSession, *, limit: int) -> list[CraftRun]:
    """PENDING runs whose next attempt is due, oldest first."""
    query = (
        select(CraftRun)
        .where(CraftRun.status == PENDING, col(CraftRun.next_attempt_at) <= utcnow())
        .order_by(col(CraftRun.scheduled_at))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def mark_delivered(session: AsyncSession, *, run_ids: Sequence[int]) -> None:
    """The shop confirmed these deliveries."""
    await session.exec(
        update(CraftRun)
        .where(col(CraftRun.id).in_(run_ids), col(CraftRun.status) == PENDING)
        .values(status=DELIVERED, finished_at=utcnow(), attempts=CraftRun.attempts + 1, error=None)
    )


async def mark_attempt_failed(
    session: AsyncSession,
    *,
    run_id: int,
    error: str,
    permanent: bool,
    max_attempts: int,
    retry: float,
    max_backoff: float,
) -> None:
    """A delivery attempt failed: retry with backoff, or give up (FAILED) when permanent or exhausted."""
    run = await session.get(CraftRun, run_id)
    if run is None or run.status != PENDING:
        return
    run.attempts += 1
    run.error = error[:500]
    if permanent or run.attempts >= max_attempts:
        run.status = FAILED
        run.finished_at = utcnow()
    else:
        run.next_attempt_at = utcnow() + timedelta(seconds=min(max_backoff, retry * 2 ** (run.attempts - 1)))
    session.add(run)
