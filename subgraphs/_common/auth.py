"""Signed, expiring tokens and password hashing; the acting principal always comes from the token."""

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from subgraphs._common.db import utcnow
from subgraphs._common.errors import Forbidden, Unauthenticated

_ALGORITHM = "HS256"
_hasher = PasswordHasher()


class Role(enum.StrEnum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"
    SERVICE = "SERVICE"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (customer or admin) or another subgraph."""

    subject: str
    role: Role
    # When its token stops being valid (None: never, as for a script's operator); live subscriptions end then.
    expires_at: datetime | None = None

    @property
    def user_id(self) -> int:
        if self.role is Role.SERVICE:
            raise Forbidden("A service token does not act as a user")
        return int(self.subject)

    def require(self, *roles: Role) -> "Principal":
        """This principal, if it holds one of `roles`; FORBIDDEN otherwise."""
        if self.role not in roles:
            raise Forbidden("Not allowed for your role")
        return self

    def can_read(self, owner_id: int) -> bool:
        """What a user owns is readable by that user, by ADMINs and by services."""
        return self.role in (Role.ADMIN, Role.SERVICE) or int(self.subject) == owner_id


@dataclass(frozen=True, slots=True)
class Auth:
    """What the request carried: a principal, or why there is none."""

    principal: Principal | None
    problem: str | None = None

    def require(self, *roles: Role) -> Principal:
        """The principal, if it holds one of `roles` (any role when none are given)."""
        if self.principal is None:
            raise Unauthenticated(self.problem or "Authentication required")
        return self.principal.require(*roles) if roles else self.principal


def issue_token(*, secret: str, subject: str, role: Role, ttl_seconds: int) -> tuple[str, datetime]:
    """A signed token for `subject` with `role`, and when it expires."""
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_seconds)
    claims = {"sub": subject, "role": role.value, "iat": now, "exp": expires_at}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM), expires_at.replace(microsecond=0)


def service_token(*, secret: str, service: str) -> str:
    """A short-lived token one subgraph presents to another."""
    token, _ = issue_token(secret=secret, subject=f"service:{service}", role=Role.SERVICE, ttl_seconds=300)
    return token


def authenticate(authorization: str | None, *, secret: str) -> Auth:
    """Read `Authorization: Bearer <token>`; a missing or bad token leaves the caller anonymous."""
    if not authorization:
        return Auth(None)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return Auth(None, "Authorization must be 'Bearer <token>'")
    try:
        claims = jwt.decode(
            token.strip(), secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub"]}
        )
        expires_at = datetime.fromtimestamp(claims["exp"], UTC)
        return Auth(Principal(subject=str(claims["sub"]), role=Role(claims["role"]), expires_at=expires_at))
    except jwt.ExpiredSignatureError:
        return Auth(None, "Token expired")
    except (jwt.InvalidTokenError, KeyError, ValueError):
        return Auth(None, "Invalid token")


async def hash_password(password: str) -> str:
    """Argon2 hash, computed off the event loop."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; computed off the event loop."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


def request_auth(request: Request, *, secret: str) -> Auth:
    """The caller of an HTTP request to a subgraph app, by its Authorization header."""
    return authenticate(request.headers.get("authorization"), secret=secret)
