"""The run queue: each fire of a craft becomes one PENDING run, keyed by craft and slot, which the delivery
worker claims and delivers until it is DELIVERED or FAILED (`subgraphs._common.work_queue`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from subgraphs._common import events
from subgraphs._common.backoff import Backoff
from subgraphs._common.db import as_utc, utcnow
from subgraphs._common.service_client import Refusal
from subgraphs._common.work_queue import WorkQueue
from subgraphs.factory.grid import slot_of
from subgraphs.factory.models import Craft, CraftRun

PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
RUN_CHANGES = "craft_run"  # the topic of runs' committed changes (the craftRunChanged subscription)
_RUN = CraftRun.__table__  # type: ignore[attr-defined]
_CRAFT = Craft.__table__  # type: ignore[attr-defined]

# Attempts count every attempt, the delivering one included; a finished run, delivered or failed, is pruned
# after the retention window.
RUNS = WorkQueue(
    table=_RUN,
    key="id",
    oldest_first="scheduled_at",
    error="error",
    pending=_RUN.c.status == PENDING,
    done=lambda now: {
        "status": DELIVERED,
        "finished_at": now,
        "attempts": _RUN.c.attempts + 1,
        "error": None,
    },
    failed=lambda now: {"status": FAILED, "finished_at": now},
    finished=lambda before: (_RUN.c.status != PENDING) & (_RUN.c.finished_at < before),
)


@dataclass(frozen=True, slots=True)
class DueRun:
    """A run claimed for one delivery attempt."""

    id: int
    key: str
    product_id: int
    count: int
    scheduled_at: datetime

    @property
    def work_key(self) -> int:
        """Its row in the run queue."""
        return self.id


def run_key(craft_id: int, scheduled_at: datetime) -> str:
    """Deterministic: the same craft and scheduled time always give the same key."""
    return f"craft-{craft_id}-{scheduled_at.strftime('%Y%m%dT%H%M%S.%fZ')}"


def last_slots(session: Session, craft_ids: Sequence[int]) -> dict[int, datetime]:
    """The latest slot each of these crafts has a run for (crafts without runs are left out)."""
    latest = (
        select(_RUN.c.craft_id, func.max(_RUN.c.scheduled_at))
        .where(_RUN.c.craft_id.in_(craft_ids))
        .group_by(_RUN.c.craft_id)
    )
    return {craft_id: as_utc(slot) for craft_id, slot in session.execute(latest).all()}


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
        ids = session.execute(insert(_RUN).returning(_RUN.c.id, sort_by_parameter_order=True), new).scalars()
        publish_runs(session, list(ids))
    return len(new)


def record_outcomes(
    session: Session, *, done: Sequence[Any], failed: dict[Any, Refusal], backoff: Backoff
) -> None:
    """The outcomes of delivery attempts (`WorkQueue.record`), and the runs' changes published."""
    RUNS.record(session, done=done, failed=failed, backoff=backoff)
    publish_runs(session, [*done, *failed])


def run_order(item: dict[str, Any]) -> tuple[int, int]:
    """The order of a run's changes: attempts only grow, and a finished run never becomes PENDING again."""
    return int(item["attempts"]), int(item["status"] != PENDING)


def publish_runs(session: Session, run_ids: Sequence[int]) -> None:
    """Publish the runs `run_ids` as they are in this transaction, once it commits."""
    if not run_ids:
        return
    changed = session.execute(
        select(_RUN, _CRAFT.c.factory_id)
        .join(_CRAFT, _CRAFT.c.id == _RUN.c.craft_id)
        .where(_RUN.c.id.in_(sorted(run_ids)))
    ).all()
    fields = ("id", "craft_id", "key", "scheduled_at", "finished_at", "status", "attempts", "error")
    items = [{name: _json(getattr(row, name)) for name in (*fields, "factory_id")} for row in changed]
    events.publish(session, RUN_CHANGES, items)


def _json(value: Any) -> Any:
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


def record_and_claim(
    session: Session,
    *,
    fires: Sequence[tuple[int, datetime]],
    due_by: datetime,
    lease_until: datetime,
    limit: int,
    request_id: str | None,
) -> list[DueRun]:
    """Write the runs of `fires`, then claim up to `limit` runs due by `due_by`, oldest first, for one attempt
    sent in request `request_id` (stored on them): one transaction a round."""
    if fires:
        record_fires(session, fires, due_at=min(due_by, utcnow()))
    claimed = RUNS.claim(
        session,
        due_by=due_by,
        lease_until=lease_until,
        limit=limit,
        returning=("id", "key", "product_id", "count", "scheduled_at"),
        request_id=request_id,
    )
    # Row.count is the tuple method: the run's count is read by position.
    runs = [DueRun(row[0], row[1], row[2], row[3], as_utc(row[4])) for row in claimed]
    return sorted(runs, key=lambda run: run.scheduled_at)
