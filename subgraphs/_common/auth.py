"""Who is calling (the acting principal always comes from a verified token: subgraphs._common.verification)
and password hashing."""

import enum
from collections.abc import Callable
from dataclasses import dataclass

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from subgraphs._common.errors import Forbidden, Unauthenticated

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
    # The session a user's token belongs to (its `sid`); a service token has none.
    session: str | None = None

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
    # Why the token that made `principal` is no longer good now (None: still good); set by the verifier.
    recheck: Callable[[], str | None] | None = None
    # When that token expires (Unix time; None when anonymous): a subscription ends then at the latest.
    expires_at: float | None = None

    def still_valid(self) -> bool:
        """Whether the caller's token is still good at this moment: not expired, its session not ended, its
        key not retired. A request was checked when it arrived; something that outlives it (a subscription)
        asks this before each event and ends when it turns False. An anonymous caller stays valid."""
        return self.principal is None or self.recheck is None or self.recheck() is None

    def require(self, *roles: Role) -> Principal:
        """The principal, if it holds one of `roles` (any role when none are given)."""
        if self.principal is None:
            raise Unauthenticated(self.problem or "Authentication required")
        return self.principal.require(*roles) if roles else self.principal


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
