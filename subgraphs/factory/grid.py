"""The grid a craft fires on: anchor + k * interval, k >= 1 (create, resume and a new interval move the
anchor, so the first run comes one interval later)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, Self

from sqlmodel import Session, select

from subgraphs._common.db import as_utc, utcnow
from subgraphs.factory.models import Craft

_CRAFT = Craft.__table__  # type: ignore[attr-defined]


class Grid(Protocol):
    """What the scheduler needs of a craft: when and how often it fires."""

    @property
    def id(self) -> int | None: ...
    @property
    def active(self) -> bool: ...
    @property
    def anchor_at(self) -> datetime: ...
    @property
    def interval_seconds(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CraftGrid:
    """A craft's grid as it was read: what a scheduler job fires on."""

    id: int
    anchor_at: datetime
    interval_seconds: int
    active: bool = True

    @classmethod
    def of(cls, craft: Grid) -> Self:
        assert craft.id is not None
        return cls(craft.id, as_utc(craft.anchor_at), craft.interval_seconds, craft.active)


def _step(craft: Grid) -> timedelta:
    return timedelta(seconds=craft.interval_seconds)


def next_run_at(craft: Grid, now: datetime | None = None) -> datetime | None:
    """When the craft fires next: the first grid point after now, or None while paused."""
    if not craft.active:
        return None
    anchor = as_utc(craft.anchor_at)
    return anchor + (max(0, math.floor(((now or utcnow()) - anchor) / _step(craft))) + 1) * _step(craft)


def slot_of(craft: Grid, fired_at: datetime) -> datetime:
    """The grid point a fire at `fired_at` belongs to (the nearest; the first at the earliest)."""
    anchor = as_utc(craft.anchor_at)
    return anchor + max(1, round((fired_at - anchor) / _step(craft))) * _step(craft)


def slots_between(craft: Grid, start: datetime, end: datetime) -> list[datetime]:
    """The craft's grid points after `start`, up to `end`."""
    anchor, step = as_utc(craft.anchor_at), _step(craft)
    first = max(1, math.floor((start - anchor) / step) + 1)
    last = math.floor((end - anchor) / step)
    return [anchor + k * step for k in range(first, last + 1)]


_GRIDS = select(_CRAFT.c.id, _CRAFT.c.active, _CRAFT.c.anchor_at, _CRAFT.c.interval_seconds).where(
    _CRAFT.c.active.is_(True)
)


def active_crafts(session: Session) -> list[Grid]:
    """The grid of every craft the scheduler should fire (plain rows: read every second, for thousands)."""
    grids: list[Grid] = list(session.execute(_GRIDS).all())
    return grids
