"""Tables owned by the factory subgraph."""

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from subgraphs._common.db import utcnow


class Table(SQLModel, registry=registry()):
    """Base of this subgraph's tables: their own metadata, apart from other subgraphs'."""


def _timestamp(nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


class Factory(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class Craft(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    factory_id: int = Field(
        sa_column=Column(Integer, ForeignKey("factory.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    product_id: int = Field(index=True)
    count_per_run: int
    interval_seconds: int
    active: bool = True
    # Runs fall on the grid anchor + k * interval (k >= 1); create, resume and a new interval move the anchor.
    anchor_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class CraftRun(Table, table=True):
    __tablename__ = "craft_run"
    __table_args__ = (Index("ix_craft_run_pending", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    craft_id: int = Field(
        sa_column=Column(Integer, ForeignKey("craft.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    # craft id + scheduled time: the same fire can never produce two runs, and the shop's delivery key.
    key: str = Field(max_length=200, unique=True)
    product_id: int
    count: int
    scheduled_at: datetime = Field(sa_column=_timestamp())
    finished_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    status: str = Field(default="PENDING", max_length=16)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    # The id of the request its last delivery attempt went in: one grep finds it in the router and the shop.
    request_id: str | None = Field(default=None, max_length=128)


class SchedulerState(Table, table=True):
    """One row: which factory process holds the scheduler, and when a leader, and any factory process, was
    last seen alive (a new leader makes up a handover's slots only when a process was alive all along)."""

    __tablename__ = "scheduler_state"

    id: int | None = Field(default=None, primary_key=True)
    holder: str | None = Field(default=None, max_length=200)
    leader_seen_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    any_seen_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
