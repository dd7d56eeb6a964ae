"""Sessions: each login starts one, kept alive by trading its refresh token for the next (a refresh token is
spent once; presenting it again means it was stolen, and ends the session), ended by logging out, by a
password change, by its user from another session or by an admin disabling the user. Refresh tokens are
stored as SHA-256 hashes only: a copy of the database gives no usable session.

Every function takes the session first and keyword-only arguments, as `services` does. A refusal that must
still write (a reused token ends its session) is returned, not raised, so that the write commits; the
resolver raises it afterwards.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from subgraphs._common import rows
from subgraphs._common.auth import Principal, Role
from subgraphs._common.db import as_utc
from subgraphs._common.ended_sessions import refusal
from subgraphs._common.errors import BadUserInput, Forbidden, NotFound
from subgraphs.purchase.models import LoginSession, RefreshToken, User

# Presented values longer than this are not refresh tokens (ours are 43 characters): refused unhashed.
_MAX_TOKEN_LENGTH = 128
INVALID_REFRESH = "Invalid refresh token"
DISABLED = "This account is disabled"
# The ended-sessions feed answers sessions ended since the cursor, and this much before it: a session ended
# by a transaction that committed late (its ended_at older than what an earlier poll already saw) still
# reaches every verifier. Verifiers hold a set, so seeing a session twice costs nothing.
FEED_OVERLAP = timedelta(seconds=30)


def token_hash(value: str) -> str:
    """What is stored of a refresh token."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Pair:
    """A session's fresh refresh token (its only copy), with the user and session it belongs to."""

    user: User
    session: LoginSession
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a refresh token was not accepted; `guess` when it matched nothing (counts against the address)."""

    message: str
    guess: bool = False


def _new_refresh_token(
    session: Session, login: LoginSession, *, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    value = secrets.token_urlsafe(32)
    expires_at = now + ttl
    session.add(
        RefreshToken(
            token_hash=token_hash(value), session_id=login.id or 0, issued_at=now, expires_at=expires_at
        )
    )
    login.last_used_at, login.expires_at = now, expires_at
    session.add(login)
    return value, expires_at


def start(session: Session, *, user: User, now: datetime, ttl: timedelta) -> Pair:
    """A new session of `user` and its first refresh token."""
    login = LoginSession(
        sid=secrets.token_urlsafe(16),
        user_id=user.id or 0,
        created_at=now,
        last_used_at=now,
        expires_at=now + ttl,
    )
    rows.save(session, login)
    value, expires_at = _new_refresh_token(session, login, now=now, ttl=ttl)
    session.flush()
    return Pair(user=user, session=login, refresh_token=value, refresh_expires_at=expires_at)


def _end(session: Session, logins: Sequence[LoginSession], *, reason: str, now: datetime) -> int:
    """End the sessions among `logins` that have not ended; how many that was."""
    ids = [login.id for login in logins if login.ended_at is None]
    if not ids:
        return 0
    # Only those still open: of two requests ending one session, one ends it and the other finds it ended.
    ended = session.execute(
        update(LoginSession)
        .where(col(LoginSession.id).in_(ids), col(LoginSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


def _live_sessions(session: Session, user_id: int, *, now: datetime) -> Sequence[LoginSession]:
    return session.exec(
        select(LoginSession).where(
            LoginSession.user_id == user_id,
            col(LoginSession.ended_at).is_(None),
            col(LoginSession.expires_at) > now,
        )
    ).all()


def _presented(session: Session, value: str) -> tuple[RefreshToken, LoginSession] | None:
    if not value or len(value) > _MAX_TOKEN_LENGTH:
        return None
    token = session.get(RefreshToken, token_hash(value))
    if token is None:
        return None
    login = session.get(LoginSession, token.session_id)
    return (token, login) if login is not None else None


def refresh(
    session: Session, *, actor: Principal | None, refresh_token: str, now: datetime, ttl: timedelta
) -> Pair | Refusal:
    """Spend `refresh_token` for a new one of the same session. A token spent before ends its session (reuse
    means theft), and so does one presented with another user's access token."""
    found = _presented(session, refresh_token)
    if found is None:
        return Refusal(INVALID_REFRESH, guess=True)
    token, login = found
    if login.ended_at is not None:
        return Refusal(refusal(login.end_reason or ""))
    if actor is not None and (actor.role is Role.SERVICE or int(actor.subject) != login.user_id):
        _end(session, [login], reason="MISUSE", now=now)
        return Refusal("That refresh token is not yours; its session has ended")
    if token.spent_at is not None:
        _end(session, [login], reason="REUSE", now=now)
        return Refusal(refusal("REUSE"))
    if as_utc(token.expires_at) <= now:
        return Refusal("Refresh token expired")
    user = session.get(User, login.user_id)
    if user is None or user.disabled:
        return Refusal(DISABLED)
    # Spent only if still unspent: of two refreshes racing with one token, one wins and the other is reuse.
    spent = session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.token_hash) == token.token_hash, col(RefreshToken.spent_at).is_(None))
        .values(spent_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        _end(session, [login], reason="REUSE", now=now)
        return Refusal(refusal("REUSE"))
    value, expires_at = _new_refresh_token(session, login, now=now, ttl=ttl)
    session.flush()
    return Pair(user=user, session=login, refresh_token=value, refresh_expires_at=expires_at)


def logout(session: Session, *, actor: Principal | None, refresh_token: str, now: datetime) -> bool | Refusal:
    """End the session of `refresh_token`: True when it ended now, False when it had already ended. With an
    access token, the refresh token must be the caller's own (FORBIDDEN, and nothing ends, otherwise)."""
    found = _presented(session, refresh_token)
    if found is None:
        return Refusal(INVALID_REFRESH, guess=True)
    _, login = found
    if actor is not None and (actor.role is Role.SERVICE or int(actor.subject) != login.user_id):
        raise Forbidden("That refresh token is not yours", field="refreshToken")
    return _end(session, [login], reason="LOGOUT", now=now) == 1


def logout_everywhere(session: Session, *, actor: Principal, now: datetime) -> int:
    """End every session of the caller; how many there were."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    return _end(session, _live_sessions(session, user_id, now=now), reason="LOGOUT_EVERYWHERE", now=now)


def sessions_of(session: Session, *, actor: Principal, user_id: int, now: datetime) -> Sequence[LoginSession]:
    """The live sessions of a user (yourself, or anyone for an ADMIN), newest first."""
    if actor.role is Role.SERVICE or not actor.can_read(user_id):
        raise Forbidden("You can only see your own sessions")
    return sorted(
        _live_sessions(session, user_id, now=now), key=lambda login: as_utc(login.created_at), reverse=True
    )


def end_session(session: Session, *, actor: Principal, sid: str, now: datetime) -> bool:
    """End one session of the caller's (NOT_FOUND for another's): True when it ended now, False when it had
    already ended."""
    user_id = actor.require(Role.CUSTOMER, Role.ADMIN).user_id
    login = session.exec(select(LoginSession).where(LoginSession.sid == sid)).first()
    if login is None or login.user_id != user_id:
        raise NotFound("No such session", field="id")
    return _end(session, [login], reason="ENDED", now=now) == 1


def rotate_after_password_change(
    session: Session, *, actor: Principal, user: User, now: datetime, ttl: timedelta
) -> Pair:
    """After the caller changed their password: every other session ends, and the caller's own gets a new
    refresh token (its older ones are spent)."""
    others = [login for login in _live_sessions(session, user.id or 0, now=now) if login.sid != actor.session]
    _end(session, others, reason="PASSWORD_CHANGED", now=now)
    current = session.exec(select(LoginSession).where(LoginSession.sid == actor.session)).first()
    if current is None or current.ended_at is not None:
        return start(session, user=user, now=now, ttl=ttl)
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.session_id) == current.id, col(RefreshToken.spent_at).is_(None))
        .values(spent_at=now)
    )
    value, expires_at = _new_refresh_token(session, current, now=now, ttl=ttl)
    session.flush()
    return Pair(user=user, session=current, refresh_token=value, refresh_expires_at=expires_at)


def set_disabled(session: Session, *, actor: Principal, user_id: int, disabled: bool, now: datetime) -> User:
    """Disable a user (ADMIN; their sessions end, and they cannot log in or refresh) or enable them again."""
    actor.require(Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user", field="userId")
    if disabled and user_id == actor.user_id:
        raise BadUserInput("You cannot disable yourself", field="userId")
    user.disabled = disabled
    session.add(user)
    if disabled:
        _end(session, _live_sessions(session, user_id, now=now), reason="DISABLED", now=now)
    session.flush()
    return user


def ended_since(
    session: Session, *, after: datetime | None, now: datetime, token_life: timedelta
) -> list[tuple[str, str, datetime]]:
    """The sessions (sid, reason, ended at) ended after `after` (less the overlap) whose access tokens may
    still be live: ended within `token_life`. One indexed range read."""
    since = now - token_life if after is None else max(after - FEED_OVERLAP, now - token_life)
    rows = session.exec(
        select(LoginSession.sid, LoginSession.end_reason, LoginSession.ended_at).where(
            col(LoginSession.ended_at) > since
        )
    ).all()
    return [(sid, reason or "", as_utc(ended_at)) for sid, reason, ended_at in rows if ended_at is not None]
