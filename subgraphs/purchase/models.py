"""Tables owned by the purchase subgraph: users, their sessions, their categories, their purchases."""

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
    # A disabled user cannot log in or refresh; disabling ends their sessions.
    disabled: bool = False
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


class LoginSession(Table, table=True):
    """One login of a user, kept alive by refreshing; its access tokens carry `sid`, its public id."""

    __tablename__ = "login_session"
    # The ended-sessions feed reads the recently ended ones; a user's sessions are listed and ended together.
    __table_args__ = (
        Index("ix_login_session_ended_at", "ended_at"),
        Index("ix_login_session_user", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sid: str = Field(max_length=32, unique=True)
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_used_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # When its current refresh token expires: past it the session is over without being ended.
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    end_reason: str | None = Field(default=None, max_length=32)


class RefreshToken(Table, table=True):
    """A refresh token of a session, by the SHA-256 of its value (the value itself is never stored); spent
    once, when it is traded for the next one."""

    __tablename__ = "refresh_token"

    token_hash: str = Field(max_length=64, primary_key=True)
    session_id: int = Field(foreign_key="login_session.id", index=True)
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    spent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
