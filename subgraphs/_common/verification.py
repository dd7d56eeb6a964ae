"""Checking bearer tokens: ES256 signatures by a key of the JWKS only (never `none`, never HS*: a token signed
with a published key as an HMAC secret is refused), claims of a known shape, sessions not ended. A token
checked once is remembered until it expires, so a hot token costs a dict lookup and a set lookup, not a
signature check; a remembered token is still refused once its key is retired or its session ends."""

import time
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request

from subgraphs._common.auth import Auth, Principal, Role
from subgraphs._common.ended_sessions import EndedSessions, refusal
from subgraphs._common.jwks import KeyRing
from subgraphs._common.keys import ALGORITHM

ISSUER = "service-tree"
SERVICE_PREFIX = "service:"
INVALID = "Invalid token"
EXPIRED = "Token expired"
BAD_SCHEME = "Authorization must be 'Bearer <token>'"
# Tokens remembered at most; past it the oldest are forgotten (and checked again if they come back).
_REMEMBERED = 10_000
_MAX_USER_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose signature and claims were checked: who it names, by which key, until when."""

    principal: Principal
    kid: str
    expires_at: float


def principal_of(claims: dict[str, Any]) -> Principal | None:
    """The principal of verified claims, or None when they do not have the shape purchase gives them: a
    SERVICE token names a service and no session; a user's names a user id and its session."""
    subject, role, session = claims.get("sub"), claims.get("role"), claims.get("sid")
    if not isinstance(subject, str) or not isinstance(role, str) or role not in Role.__members__:
        return None
    if role == Role.SERVICE:
        valid = subject.startswith(SERVICE_PREFIX) and len(subject) > len(SERVICE_PREFIX) and session is None
        return Principal(subject=subject, role=Role.SERVICE) if valid else None
    if not (subject.isascii() and subject.isdigit() and 0 < int(subject) <= _MAX_USER_ID):
        return None
    if not isinstance(session, str) or not session:
        return None
    return Principal(subject=subject, role=Role(role), session=session)


class Verifier:
    """Checks the tokens of one process against `keys` and the `ended` sessions."""

    def __init__(self, keys: KeyRing, ended: EndedSessions) -> None:
        self.keys = keys
        self.ended = ended
        self._verified: dict[str, Verified] = {}

    async def authenticate(self, authorization: str | None) -> Auth:
        """The caller of `Authorization: Bearer <token>`; no header leaves it anonymous, a bad token gives
        the reason it is refused."""
        if not authorization:
            return Auth(None)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return Auth(None, BAD_SCHEME)
        verified = self._verified.get(token)
        if verified is None or verified.kid not in self.keys.keys:
            outcome = await self._verify(token)
            if isinstance(outcome, str):
                return Auth(None, outcome)
            verified = self._remember(token, outcome)
        problem = self.problem(verified)
        if problem is not None:
            return Auth(None, problem)
        return Auth(
            verified.principal, recheck=lambda: self.problem(verified), expires_at=verified.expires_at
        )

    def problem(self, verified: Verified) -> str | None:
        """Why a verified token is no longer good now, or None while it is."""
        if verified.expires_at <= time.time():
            return EXPIRED
        if verified.kid not in self.keys.keys:
            return INVALID  # its key was retired
        session = verified.principal.session
        if session is not None and (ended := self.ended.get(session)) is not None:
            return refusal(ended.reason)
        return None

    def _remember(self, token: str, verified: Verified) -> Verified:
        if len(self._verified) >= _REMEMBERED:
            del self._verified[next(iter(self._verified))]  # the oldest (dicts keep insertion order)
        self._verified[token] = verified
        return verified

    async def _verify(self, token: str) -> Verified | str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return INVALID
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str) or not kid:
            return INVALID
        key = await self.keys.find(kid)
        if key is None:
            return INVALID
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # iat is informative: a clock a little ahead elsewhere must not refuse a fresh token.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError:
            return EXPIRED
        except jwt.PyJWTError:
            return INVALID
        principal = principal_of(claims)
        if principal is None:
            return INVALID
        return Verified(principal=principal, kid=kid, expires_at=float(claims["exp"]))


async def request_auth(request: Request, verifier: Verifier) -> Auth:
    """The caller of an HTTP request to a subgraph app, by its Authorization header."""
    return await verifier.authenticate(request.headers.get("authorization"))
