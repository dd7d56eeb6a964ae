"""Crafts on a real schedule through the router: every run delivered once, on its 1 s grid; pause, resume, delete."""

import asyncio
import logging
import time
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from client.service_tree_client import CraftRunsCraftRuns
from tests.e2e.helpers import (
    Router,
    craft_runs,
    create_catalog,
    create_craft,
    create_factory,
    parse_time,
    poll,
    settled_runs,
    stock_of,
)

pytestmark = pytest.mark.e2e
logger = logging.getLogger(__name__)

SECOND = timedelta(seconds=1)
# Wall clock slack between this process and the subgraphs (same host, same clock: only rounding and latency).
SLACK = 0.05

_PAUSE = "mutation($id: ID!) { pauseCraft(id: $id) { id active nextRunAt } }"
_RESUME = "mutation($id: ID!) { resumeCraft(id: $id) { id active nextRunAt } }"
_UPDATE = "mutation($input: UpdateCraftInput!) { updateCraft(input: $input) { id countPerRun intervalSeconds active nextRunAt } }"


def assert_on_grid(runs: list[CraftRunsCraftRuns], first: datetime | None) -> None:
    """Runs (newest first) fall on first, first + 1 s, first + 2 s ... with no gap and no repeat."""
    scheduled = sorted(parse_time(run.scheduled_at) for run in runs)
    assert scheduled[0] == parse_time(first), (scheduled[0], first)
    assert [later - earlier for earlier, later in pairwise(scheduled)] == [SECOND] * (len(scheduled) - 1), (
        scheduled
    )


def assert_delivered_once(runs: list[CraftRunsCraftRuns], craft_id: str) -> None:
    keys = [run.key for run in runs]
    assert len(set(keys)) == len(keys), keys
    assert all(key.startswith(f"craft-{craft_id}-") for key in keys), keys
    for run in runs:
        assert run.status == "DELIVERED", run
        assert run.attempts == 1, run  # nothing was down: the first attempt delivers
        assert run.error is None, run
        scheduled, finished = parse_time(run.scheduled_at), parse_time(run.finished_at)
        # Fired on its slot and delivered through the router soon after (generous for a loaded 2-core box).
        assert timedelta(0) <= finished - scheduled < timedelta(seconds=2), run


async def test_craft_every_second_delivers_count_per_run_for_each_run(router: Router, admin: str) -> None:
    catalog = await create_catalog(router, admin, {"Dairy": [("Milk", 8900, 5)]}, prefix="Steady")
    product = catalog.products["Milk"]
    factory = await create_factory(router, admin, "Steady works")
    initial = await stock_of(router, product.id)
    assert initial == 5

    before_create = time.time()
    craft = await create_craft(router, admin, factory.id, product.id, count=3, interval=1)
    created = time.time()
    # The first run fires one interval after create.
    first = parse_time(craft.next_run_at).timestamp()
    assert before_create + 1 - SLACK <= first <= created + 1 + SLACK, (before_create, first, created)

    await asyncio.sleep(5.2)
    pause_sent = time.time()
    paused = (await router.data(_PAUSE, {"id": craft.id}, token=admin))["pauseCraft"]
    pause_done = time.time()
    assert paused == {"id": craft.id, "active": False, "nextRunAt": None}

    runs = await settled_runs(router, admin, craft.id, within=10)
    elapsed = pause_sent - created
    logger.info("%d runs in %.2f s from createCraft to pauseCraft: %s", len(runs), elapsed, runs)
    assert abs(len(runs) - elapsed) <= 1, (len(runs), elapsed)
    assert 4 <= len(runs) <= 7, runs
    assert_delivered_once(runs, craft.id)
    assert_on_grid(runs, craft.next_run_at)
    assert all(parse_time(run.scheduled_at).timestamp() <= pause_done + SLACK for run in runs), runs
    # Newest first.
    assert [run.scheduled_at for run in runs] == sorted((run.scheduled_at for run in runs), reverse=True)
    assert await stock_of(router, product.id) == initial + 3 * len(runs)

    # Paused: nothing more is made.
    await asyncio.sleep(1.5)
    assert await craft_runs(router, admin, craft.id) == runs
    assert await stock_of(router, product.id) == initial + 3 * len(runs)


async def test_pause_stops_runs_resume_restarts_them_and_delete_factory_ends_them(
    router: Router, admin: str
) -> None:
    catalog = await create_catalog(router, admin, {"Orchard": [("Apples", 1200, 0)]}, prefix="Pausing")
    product = catalog.products["Apples"]
    factory = await create_factory(router, admin, "Pausing works")
    craft = await create_craft(router, admin, factory.id, product.id, count=2, interval=1)
    craft_id = craft.id

    runs = await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: sum(run.status == "DELIVERED" for run in runs) >= 2,
        within=10,
    )
    assert sum(run.status == "DELIVERED" for run in runs) >= 2, runs

    # Pause: no new run and no new stock, nextRunAt null.
    paused = (await router.data(_PAUSE, {"id": craft_id}, token=admin))["pauseCraft"]
    pause_done = time.time()
    assert paused == {"id": craft_id, "active": False, "nextRunAt": None}
    before_pause = await settled_runs(router, admin, craft_id, within=10)  # a run in flight may finish
    assert_delivered_once(before_pause, craft_id)
    assert_on_grid(before_pause, craft.next_run_at)
    assert all(parse_time(run.scheduled_at).timestamp() <= pause_done + SLACK for run in before_pause)
    stock_paused = await stock_of(router, product.id)
    assert stock_paused == 2 * len(before_pause)

    # A change while paused does not resume the craft.
    updated = (await router.data(_UPDATE, {"input": {"id": craft_id, "countPerRun": 5}}, token=admin))[
        "updateCraft"
    ]
    assert updated == {
        "id": craft_id,
        "countPerRun": 5,
        "intervalSeconds": 1,
        "active": False,
        "nextRunAt": None,
    }

    await asyncio.sleep(2.2)
    still = (await router.as_(admin).craft_runs(id=craft_id)).craft
    assert still is not None
    assert still.active is False
    assert still.next_run_at is None
    assert still.runs == before_pause
    assert await stock_of(router, product.id) == stock_paused

    # Resume: the first run fires one interval later, then every second, each with the new count.
    resume_sent = time.time()
    resumed = (await router.data(_RESUME, {"id": craft_id}, token=admin))["resumeCraft"]
    resume_done = time.time()
    assert resumed["active"] is True
    next_run = parse_time(resumed["nextRunAt"]).timestamp()
    assert resume_sent + 1 - SLACK <= next_run <= resume_done + 1 + SLACK, (resume_sent, next_run)

    def after_resume(runs: list[CraftRunsCraftRuns]) -> list[CraftRunsCraftRuns]:
        return [run for run in runs if run.key not in {old.key for old in before_pause}]

    runs = await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: sum(run.status == "DELIVERED" for run in after_resume(runs)) >= 2,
        within=10,
    )
    new_runs = after_resume(runs)
    logger.info(
        "resumed at %.3f, nextRunAt %s; runs after resume: %s", resume_sent, resumed["nextRunAt"], new_runs
    )
    assert len(new_runs) >= 2, runs
    assert runs[len(new_runs) :] == before_pause  # older runs untouched, newest first
    assert_on_grid(new_runs, resumed["nextRunAt"])

    # Delete the factory: its craft goes, and nothing more is delivered.
    deleted = await router.data(
        "mutation($id: ID!) { deleteFactory(id: $id) }", {"id": factory.id}, token=admin
    )
    assert deleted == {"deleteFactory": factory.id}
    gone = await router.data(
        "query($c: ID!, $f: ID!, $p: ID!) { craft(id: $c) { id } factory(id: $f) { id } product(id: $p) { crafts { id } } }",
        {"c": craft_id, "f": factory.id, "p": product.id},
        token=admin,
    )
    assert gone == {"craft": None, "factory": None, "product": {"crafts": []}}
    await asyncio.sleep(0.5)  # a delivery already in flight may still land
    stock_deleted = await stock_of(router, product.id)
    # Every run up to the delete added stock: 2 each before the pause, 5 each after the resume.
    delivered_after_resume = stock_deleted - stock_paused
    assert delivered_after_resume % 5 == 0, (stock_paused, stock_deleted)
    assert delivered_after_resume // 5 >= sum(run.status == "DELIVERED" for run in new_runs)
    assert delivered_after_resume // 5 <= len(new_runs) + 1, (new_runs, stock_deleted)
    await asyncio.sleep(2.2)
    assert await stock_of(router, product.id) == stock_deleted
