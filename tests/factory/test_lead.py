"""Taking over the scheduler: the slots of a handover are made up when a factory process was alive all along,
and skipped after downtime; the SQLite rule allows one scheduler per database."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete
from sqlmodel import col
from starlette.applications import Starlette

from subgraphs._common.db import utcnow
from subgraphs.factory.grid import slots_between
from subgraphs.factory.leader import FileLead, SchedulerTaken, take_lead
from subgraphs.factory.models import Craft, CraftRun, SchedulerState
from subgraphs.factory.runs import record_fires
from tests.factory.fixtures import make_craft, make_factory
from tests.shop.fixtures import catalog

WINDOW = timedelta(minutes=10)


async def _craft_every_second(factory: httpx.AsyncClient, factory_app: Starlette) -> Craft:
    """A craft firing every second for a minute already."""
    craft_id = await make_craft(factory, await make_factory(factory), count=1, interval=1)

    def a_minute_old(session: Any) -> Craft:
        craft: Craft = session.get(Craft, int(craft_id))
        craft.anchor_at = utcnow() - timedelta(minutes=1)
        session.add(craft)
        return craft

    craft: Craft = await factory_app.state.resources.db.write(a_minute_old)
    return craft


def _seen(session: object, *, now: datetime, leader_ago: float, any_ago: float) -> None:
    state = session.get(SchedulerState, 1)  # type: ignore[attr-defined]
    state.leader_seen_at, state.any_seen_at = (
        now - timedelta(seconds=leader_ago),
        now - timedelta(seconds=any_ago),
    )
    session.add(state)  # type: ignore[attr-defined]


async def test_a_handover_makes_up_the_slots_since_the_last_leader_was_seen(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop)
    craft = await _craft_every_second(factory, factory_app)
    db = factory_app.state.resources.db
    now = utcnow()  # the same instant for the beats and the takeover: the expected slots are exact
    await db.write(lambda s: _seen(s, now=now, leader_ago=5.5, any_ago=0.5))  # a standby beat 0.5 s ago
    made_up = await db.write(take_lead, holder="test:1", now=now, window=WINDOW, alive_within=5)
    expected = slots_between(craft, now - timedelta(seconds=6.5), now)
    assert made_up == len(expected) >= 6
    again = await db.write(take_lead, holder="test:2", now=now, window=WINDOW, alive_within=5)
    assert again == 0  # the same slots never get a second run


async def test_after_downtime_the_missed_slots_are_skipped(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop)
    await _craft_every_second(factory, factory_app)
    db = factory_app.state.resources.db
    now = utcnow()
    await db.write(lambda s: _seen(s, now=now, leader_ago=30, any_ago=30))  # nobody was alive for 30 s
    assert await db.write(take_lead, holder="test:1", now=now, window=WINDOW, alive_within=5) == 0


async def test_a_handover_makes_up_a_fire_the_old_leader_noted_but_never_wrote(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop)
    craft = await _craft_every_second(factory, factory_app)
    craft_id = craft.id
    assert craft_id is not None
    now = utcnow()
    last_written = slots_between(craft, now - timedelta(seconds=11), now - timedelta(seconds=10))[0]

    def died_after_noting_fires(session: Any) -> int:
        # In one transaction, so the test's own scheduler writes nothing in between: the old leader wrote the
        # run of a slot 10 s ago, beat 2 s ago (it lived on, noting fires it never wrote), then died.
        session.execute(delete(CraftRun).where(col(CraftRun.craft_id) == craft_id))
        record_fires(session, [(craft_id, last_written)])
        _seen(session, now=now, leader_ago=2, any_ago=0.5)
        return take_lead(session, holder="test:1", now=now, window=WINDOW, alive_within=5)

    made_up = await factory_app.state.resources.db.write(died_after_noting_fires)
    assert made_up == len(slots_between(craft, last_written, now)) >= 9  # not only the 3 s since the beat


def test_on_sqlite_one_process_holds_the_scheduler(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'factory.db'}"
    first, second = FileLead(url), FileLead(url)
    first.acquire()
    with pytest.raises(SchedulerTaken, match="FACTORY_SCHEDULER_ENABLED=false"):
        second.acquire()
    first.release()
    second.acquire()  # the lock is free once its holder lets go (or dies: the OS drops it)
    second.release()
