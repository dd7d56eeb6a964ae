"""The schedule, driven instead of waited for: `advance(until)` fires what the jobs would fire by then and
`drain(due_by=...)` delivers it, so each test asserts the exact runs of a time it chose, hours ahead.

Crafts here fire every minute or more: the real jobs, which keep running, fire nothing while a test runs.
How the jobs are wired (trigger, next fire time) is asserted without waiting; tests/e2e/test_factory_schedule.py
shows a craft firing in real time through the real router.
"""

from datetime import datetime, timedelta
from typing import Any

import httpx
from apscheduler.job import Job
from starlette.applications import Starlette

from subgraphs.factory.context import Resources
from subgraphs.factory.models import Craft
from subgraphs.factory.scheduler import CraftScheduler
from tests.factory.fixtures import driven, driven_craft, make_craft, make_factory, next_run, runs_of, stock
from tests.shop.fixtures import ADMIN, catalog
from tests.support import Link, gql

MINUTE = timedelta(minutes=1)
_PAUSE = "mutation($id: ID!) { pauseCraft(id: $id) { active nextRunAt } }"
_RESUME = "mutation($id: ID!) { resumeCraft(id: $id) { active nextRunAt } }"
_DELETE_CRAFT = "mutation($id: ID!) { deleteCraft(id: $id) }"
_DELETE_FACTORY = "mutation($id: ID!) { deleteFactory(id: $id) }"
_UPDATE = "mutation($input: UpdateCraftInput!) { updateCraft(input: $input) { intervalSeconds nextRunAt } }"


async def drive(resources: Resources, until: datetime) -> int:
    """Run the schedule up to `until` and deliver what it fired; how many slots fired."""
    fired = resources.scheduler.advance(until)
    await resources.deliveries.drain(due_by=until)
    return fired


async def mutate(factory: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await gql(factory, query, variables, as_=ADMIN)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def wired(scheduler: CraftScheduler, craft_id: str) -> Job:
    """The job that fires the craft in this process (there must be one)."""
    job = scheduler.job(int(craft_id))
    assert job is not None, craft_id
    return job


def slots(runs: list[dict[str, Any]]) -> list[datetime]:
    """The scheduled times of `runs`, oldest first."""
    return sorted(datetime.fromisoformat(run["scheduledAt"]) for run in runs)


async def test_every_slot_due_by_a_time_is_delivered_once_with_its_count(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    resources, craft_id, first = await driven_craft(factory_app, factory, shop, count=3, interval=60)

    assert await drive(resources, first + 4 * MINUTE + timedelta(seconds=30)) == 5
    runs = await runs_of(factory, craft_id)
    assert slots(runs) == [first + k * MINUTE for k in range(5)]
    assert {(run["status"], run["attempts"], run["error"]) for run in runs} == {("DELIVERED", 1, None)}
    assert len({run["key"] for run in runs}) == 5
    assert await stock(shop) == 15

    assert await drive(resources, first + 4 * MINUTE + timedelta(seconds=59)) == 0  # no slot in between
    assert await drive(resources, first + 5 * MINUTE) == 1  # a slot is due at its very time
    assert await drive(resources, first + 5 * MINUTE) == 0  # and fires once
    assert slots(await runs_of(factory, craft_id)) == [first + k * MINUTE for k in range(6)]
    assert await stock(shop) == 18


async def test_pause_stops_the_runs_and_resume_restarts_the_grid(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    resources, craft_id, first = await driven_craft(factory_app, factory, shop, count=2, interval=60)
    assert await drive(resources, first + MINUTE) == 2

    assert await mutate(factory, _PAUSE, {"id": craft_id}) == {"active": False, "nextRunAt": None}
    assert resources.scheduler.job(int(craft_id)) is None
    assert await drive(resources, first + timedelta(days=1)) == 0  # a day later: nothing more
    assert slots(await runs_of(factory, craft_id)) == [first, first + MINUTE]
    assert await stock(shop) == 4
    # A change while paused does not resume the craft.
    assert await mutate(factory, _UPDATE, {"input": {"id": craft_id, "countPerRun": 5}}) == {
        "intervalSeconds": 60,
        "nextRunAt": None,
    }
    assert await drive(resources, first + timedelta(days=2)) == 0

    resumed = await mutate(factory, _RESUME, {"id": craft_id})
    # The grid restarts at the resume (the clock's now, whatever time the test drove to): its first slot is
    # one interval later, and the old grid's slots are not fired again.
    restart = datetime.fromisoformat(resumed["nextRunAt"])
    assert await drive(resources, restart + 2 * MINUTE) == 3
    assert slots(await runs_of(factory, craft_id)) == sorted(
        [first, first + MINUTE] + [restart + k * MINUTE for k in range(3)]
    )
    assert await stock(shop) == 4 + 3 * 5  # each run since the resume with the new count


async def test_a_new_interval_restarts_the_grid_and_other_changes_keep_it(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    resources, craft_id, first = await driven_craft(factory_app, factory, shop, count=3, interval=60)
    assert await drive(resources, first) == 1

    # Another count keeps the grid (the same next run, by the clock), and the next slot has the new count.
    assert await mutate(factory, _UPDATE, {"input": {"id": craft_id, "countPerRun": 7}}) == {
        "intervalSeconds": 60,
        "nextRunAt": first.isoformat(),
    }
    assert await drive(resources, first + MINUTE) == 1
    assert await stock(shop) == 3 + 7

    # Another interval restarts the grid now: the old grid's next slot never fires.
    changed = await mutate(factory, _UPDATE, {"input": {"id": craft_id, "intervalSeconds": 120}})
    restart = datetime.fromisoformat(changed["nextRunAt"])
    assert changed["intervalSeconds"] == 120 and restart != first + 2 * MINUTE
    assert await drive(resources, restart + 4 * MINUTE) == 3
    assert slots(await runs_of(factory, craft_id)) == [first, first + MINUTE] + [
        restart + k * 2 * MINUTE for k in range(3)
    ]
    assert await stock(shop) == 3 + 7 + 3 * 7


async def test_deleting_a_craft_or_its_factory_ends_its_runs(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient, router_link: Link
) -> None:
    await catalog(shop, stock=0)
    kept_factory = await make_factory(factory, "Kept")
    await make_craft(factory, kept_factory, count=1, interval=60)
    gone_factory = await make_factory(factory, "Gone")
    gone = await make_craft(factory, gone_factory, count=10, interval=60)
    resources = await driven(factory_app)
    start = datetime.fromisoformat(await next_run(factory, gone))
    assert await drive(resources, start) == 2
    assert await stock(shop) == 11

    # Fired but not yet written when the craft goes: its run is never written.
    assert resources.scheduler.advance(start + MINUTE) == 2
    assert await mutate(factory, _DELETE_CRAFT, {"id": gone}) == gone
    await resources.deliveries.drain(due_by=start + MINUTE)
    assert await stock(shop) == 12  # the kept craft's run alone
    assert await drive(resources, start + 10 * MINUTE) == 9

    deliveries = router_link.operations("deliverMany(")
    assert await mutate(factory, _DELETE_FACTORY, {"id": gone_factory}) == gone_factory
    assert await mutate(factory, _DELETE_FACTORY, {"id": kept_factory}) == kept_factory
    assert await drive(resources, start + timedelta(days=1)) == 0
    assert router_link.operations("deliverMany(") == deliveries
    assert await stock(shop) == 21


async def test_each_active_craft_has_a_job_firing_on_its_grid(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop, stock=0)
    factory_id = await make_factory(factory)
    craft_id = await make_craft(factory, factory_id, interval=90)
    idle_id = await make_craft(factory, factory_id, interval=90, active=False)
    scheduler = factory_app.state.resources.scheduler

    job = wired(scheduler, craft_id)
    assert scheduler.job(int(idle_id)) is None
    assert (job.func, job.args) == (scheduler.fire, (int(craft_id),))
    assert job.trigger.interval == timedelta(seconds=90)
    assert job.next_run_time == datetime.fromisoformat(await next_run(factory, craft_id))
    assert (job.misfire_grace_time, job.coalesce) == (None, True)  # a late fire fires, and makes up its slots

    resumed = await mutate(factory, _RESUME, {"id": idle_id})
    assert wired(scheduler, idle_id).next_run_time == datetime.fromisoformat(resumed["nextRunAt"])
    changed = await mutate(factory, _UPDATE, {"input": {"id": craft_id, "intervalSeconds": 30}})
    job = wired(scheduler, craft_id)
    assert job.trigger.interval == timedelta(seconds=30)
    assert job.next_run_time == datetime.fromisoformat(changed["nextRunAt"])

    # A change another process commits reaches the jobs at the next reconciliation.
    def change_elsewhere(session: Any) -> None:
        craft = session.get(Craft, int(craft_id))
        craft.interval_seconds = 45
        session.add(craft)

    await factory_app.state.resources.db.write(change_elsewhere)
    assert wired(scheduler, craft_id).trigger.interval == timedelta(seconds=30)
    await scheduler.reconcile()
    job = wired(scheduler, craft_id)
    assert job.trigger.interval == timedelta(seconds=45)
    assert job.next_run_time == datetime.fromisoformat(await next_run(factory, craft_id))


async def test_a_scheduler_starting_after_it_took_the_lead_fires_every_slot_since_the_lead(
    factory_app: Starlette, factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    """A new leader makes up the slots before it took the lead (`take_lead`), then starts the scheduler, which
    fires from that moment on: a slot that falls between the two (a loaded machine) is fired, not lost."""
    resources, craft_id, first = await driven_craft(factory_app, factory, shop, count=1, interval=60)
    await resources.scheduler.stop()
    # The craft's grid began ten minutes ago; the lead was taken (and the slots until then made up) five and a
    # half minutes ago; the scheduler starts only now.
    anchor = first - MINUTE - 10 * MINUTE

    def moved(session: Any) -> None:
        craft = session.get(Craft, int(craft_id))
        craft.anchor_at = anchor
        session.add(craft)

    await resources.db.write(moved)
    lead_at = anchor + 4 * MINUTE + timedelta(seconds=30)
    await resources.scheduler.start(since=lead_at)
    now = anchor + 10 * MINUTE + timedelta(seconds=1)
    assert await drive(resources, now) == 6  # the slots after the lead: 5 to 10 minutes past the anchor
    assert slots(await runs_of(factory, craft_id)) == [anchor + k * MINUTE for k in range(5, 11)]
