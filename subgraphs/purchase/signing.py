"""Signing tokens: purchase alone holds private keys, and signs every token of the system with the key of its
folder that signs now (ES256, its `kid` in the header)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from subgraphs._common.auth import Role
from subgraphs._common.db import as_utc, utcnow
from subgraphs._common.errors import ServiceUnavailable
from subgraphs._common.keys import ALGORITHM, KeyFolder
from subgraphs._common.verification import ISSUER, SERVICE_PREFIX
from subgraphs.purchase.models import User
from subgraphs.purchase.sessions import Pair


class Signer:
    """Signs with the current key of a key folder (read again when the operator changes it)."""

    def __init__(self, folder: KeyFolder) -> None:
        self.folder = folder

    def sign(
        self, *, subject: str, role: Role, ttl_seconds: int, session: str | None = None
    ) -> tuple[str, datetime]:
        """A token for `subject` with `role` (and the session `session`, for a user), and when it expires."""
        moment = utcnow()
        signer = self.folder.current().signing_at(moment)
        if signer is None:
            raise ServiceUnavailable("No signing key: tokens cannot be issued now")
        now = moment.replace(microsecond=0)
        expires_at = now + timedelta(seconds=ttl_seconds)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "role": role.value,
            "iat": now,
            "exp": expires_at,
        }
        if session is not None:
            claims["sid"] = session
        token = jwt.encode(claims, signer.key, algorithm=ALGORITHM, headers={"kid": signer.kid})
        return token, expires_at

    def jwks(self) -> dict[str, Any]:
        """The public keys of the folder as it is now, as a JWKS document."""
        return self.folder.current(fresh=True).jwks


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What register, login, refreshSession and changePassword hand back: an access token of a session and
    the session's next refresh token (its only copy), each with its expiry."""

    user: User
    token: str
    expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Issuer:
    """The tokens purchase issues, with their lifetimes (from the settings)."""

    signer: Signer
    access_ttl_seconds: int
    refresh_ttl: timedelta
    service_ttl_seconds: int

    def for_session(self, pair: Pair) -> IssuedToken:
        """An access token of `pair`'s session, handed out with its refresh token."""
        token, expires_at = self.signer.sign(
            subject=str(pair.user.id),
            role=Role(pair.user.role),
            ttl_seconds=self.access_ttl_seconds,
            session=pair.session.sid,
        )
        return IssuedToken(
            user=pair.user,
            token=token,
            expires_at=expires_at,
            refresh_token=pair.refresh_token,
            refresh_expires_at=as_utc(pair.refresh_expires_at).replace(microsecond=0),
        )

    def for_service(self, service: str) -> tuple[str, int]:
        """A SERVICE token of `service`, and its life in seconds."""
        token, _ = self.signer.sign(
            subject=f"{SERVICE_PREFIX}{service}", role=Role.SERVICE, ttl_seconds=self.service_ttl_seconds
        )
        return token, self.service_ttl_seconds
