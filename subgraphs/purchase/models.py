"""Tables owned by the purchase subgraph: users, their categories, their purchases."""

from datetime import datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from subgraphs._common.db import utcnow


class Table(SQLModel, registry=registry()):
    """Base of this subgraph's tables: their own metadata, apart from other subgraphs'."""


class User(Table, table=True):
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    first_name: str = Field(max_length=100)
    second_name: str = Field(max_length=100)
    role: str = Field(max_length=16, default="CUSTOMER")
    registered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class UserCategory(Table, table=True):
    __tablename__ = "user_category"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(max_length=100)


class Purchase(Table, table=True):
    __table_args__ = (Index("ix_purchase_user_created", "user_id", "created_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    # The shop's check this purchase records: one purchase per check, which makes recording idempotent.
    check_id: int = Field(unique=True)
    name: str = Field(max_length=200)
    payment: str = Field(max_length=8)
    total: int
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    user_category_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("user_category.id", ondelete="SET NULL"), nullable=True),
    )


class LoginFailure(Table, table=True):
    """Failed logins of one login name in the current window; in the database, so every replica counts."""

    __tablename__ = "login_failure"

    login: str = Field(max_length=64, primary_key=True)
    failures: int = 0
    window_started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    blocked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
