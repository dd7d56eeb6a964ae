"""Factory business rules: factories, crafts and their runs as the API shows them; each rule and permission
check lives here.

Service functions take the session first and run whole as one transaction (`db.read` or `db.write`), like
every subgraph's. The one exception is work that must not hold a transaction open: a service that does slow
work before writing takes the `Database` and opens its transaction after it. Here `create_craft` and
`update_craft` ask the shop about the product (an HTTP call); the purchase subgraph's `create_user`,
`register` and `login` hash a password.
"""

import functools
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import Database, after_commit, utcnow
from subgraphs._common.errors import BadUserInput
from subgraphs._common.inputs import bounded, text
from subgraphs.factory.models import Craft, CraftRun, Factory

MAX_COUNT = 1_000_000
MAX_INTERVAL = 86_400
MAX_RUNS = 100
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


def create_factory(session: Session, *, actor: Principal, name: str) -> Factory:
    """A new factory."""
    actor.require(Role.ADMIN)
    factory = Factory(name=text(name, field="name", max_length=200))
    rows.ensure_unique(session, Factory, message=_TAKEN, field="name", name=factory.name)
    return rows.save(session, factory)


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
    return rows.save(session, factory)


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
    """Every factory, by id (ADMIN)."""
    actor.require(Role.ADMIN)
    return list(session.exec(select(Factory).order_by(col(Factory.id))).all())


def check_watch(session: Session, *, actor: Principal, factory_id: int | None) -> None:
    """May the actor watch the runs of the factory `factory_id` (of every factory when None)? ADMIN, and an
    unknown factory is BAD_USER_INPUT naming it."""
    actor.require(Role.ADMIN)
    if factory_id is not None and session.get(Factory, factory_id) is None:
        raise BadUserInput(f"No such factory: {factory_id}", field="factoryId")


def find_factory(session: Session, *, actor: Principal, factory_id: int) -> Factory | None:
    """A factory by id, or None (ADMIN)."""
    actor.require(Role.ADMIN)
    return session.get(Factory, factory_id)


def crafts_of_factories(
    session: Session, factory_ids: Sequence[int], *, actor: Principal
) -> dict[int, list[Craft]]:
    """Each factory's crafts, by id (ADMIN; who makes a product is public, through the product)."""
    actor.require(Role.ADMIN)
    return rows.grouped(session, Craft, key="factory_id", keys=factory_ids, order_by=["id"])


def find_craft(session: Session, *, actor: Principal, craft_id: int) -> Craft | None:
    """A craft by id, or None (ADMIN)."""
    actor.require(Role.ADMIN)
    return session.get(Craft, craft_id)


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
    rows.save(session, craft)
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
    rows.save(session, craft)
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
        rows.save(session, craft)
    after_commit(session, functools.partial(scheduler.schedule, craft))
    return craft


def delete_craft(session: Session, *, actor: Principal, scheduler: Schedule, craft_id: int) -> None:
    """Delete a craft and its runs; its schedule stops once that is committed."""
    actor.require(Role.ADMIN)
    get_craft(session, craft_id)
    session.execute(delete(CraftRun).where(col(CraftRun.craft_id) == craft_id))
    session.execute(delete(Craft).where(col(Craft.id) == craft_id))
    after_commit(session, functools.partial(scheduler.unschedule, craft_id))


def latest_runs(
    session: Session, keys: Sequence[tuple[int, int]], *, actor: Principal
) -> dict[tuple[int, int], list[CraftRun]]:
    """For each (craft id, last) key, that craft's `last` newest runs, in one statement (ADMIN)."""
    actor.require(Role.ADMIN)
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
