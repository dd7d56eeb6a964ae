"""A craft on a real schedule through the real router: every run delivered once, on its 1 s grid, until paused.

What the schedule does at a given time (exact runs; pause, resume, a new interval, delete) is asserted without
waiting, by driving it: tests/factory/test_schedule.py. This test shows the real thing, and polls for it.
"""

import logging
import time
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from client.service_tree_client import CraftRunsCraftRuns
from tests.e2e.helpers import (
    PAUSE_CRAFT,
    SECOND,
    SLACK,
    Router,
    craft_runs,
    create_craft,
    create_factory,
    create_product,
    parse_time,
    poll,
    settled_runs,
    stock_of,
)

pytestmark = pytest.mark.e2e
logger = logging.getLogger(__name__)


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


async def test_a_craft_every_second_delivers_its_count_through_the_router_until_paused(
    router: Router, admin: str
) -> None:
    product = await create_product(router, admin, "Dairy", ("Milk", 8900, 5), prefix="Steady")
    factory = await create_factory(router, admin, "Steady works")
    initial = await stock_of(router, product.id)
    assert initial == 5

    before_create = time.time()
    craft = await create_craft(router, admin, factory.id, product.id, count=3, interval=1)
    created = time.time()
    # The first run fires one interval after create.
    first = parse_time(craft.next_run_at).timestamp()
    assert before_create + 1 - SLACK <= first <= created + 1 + SLACK, (before_create, first, created)

    delivered = await poll(
        lambda: craft_runs(router, admin, craft.id),
        lambda runs: sum(run.status == "DELIVERED" for run in runs) >= 3,
        within=15,
    )
    assert sum(run.status == "DELIVERED" for run in delivered) >= 3, delivered
    paused = (await router.data(PAUSE_CRAFT, {"id": craft.id}, token=admin))["pauseCraft"]
    pause_done = time.time()
    assert paused == {"id": craft.id, "active": False, "nextRunAt": None}

    runs = await settled_runs(router, admin, craft.id, within=10)  # a run in flight may finish
    logger.info("%d runs from createCraft to pauseCraft: %s", len(runs), runs)
    assert len(runs) >= 3, runs
    assert_delivered_once(runs, craft.id)
    assert_on_grid(runs, craft.next_run_at)
    assert all(parse_time(run.scheduled_at).timestamp() <= pause_done + SLACK for run in runs), runs
    # Newest first.
    assert [run.scheduled_at for run in runs] == sorted((run.scheduled_at for run in runs), reverse=True)
    assert await stock_of(router, product.id) == initial + 3 * len(runs)
