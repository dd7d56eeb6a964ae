"""Service identity apart from user identity: the shop and the factory each hold a secret of their own and
trade it at purchase for a short-lived SERVICE token (OAuth 2.0 client credentials, RFC 6749 section 4.4).
Purchase holds only the secrets' hashes; a secret can produce nothing but a SERVICE token of its own service,
and since only purchase signs, a token made with a secret itself is refused everywhere."""

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import httpx

TOKEN_PATH = "/oauth/token"
# A cached token is traded for a new one this long before it expires, so no call carries one about to lapse.
_RENEW_BEFORE_SECONDS = 60.0


def new_secret() -> str:
    """A fresh random secret (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """What purchase keeps of a secret. A secret is 256 random bits, not a password: SHA-256 is enough."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def read_hashes(path: Path) -> dict[str, str]:
    """The credentials file: service name -> the hash of its secret."""
    hashes: dict[str, str] = json.loads(path.read_text())
    return hashes


def write_credential(credentials: Path, secret_file: Path, service: str) -> None:
    """A new secret for `service`: written to `secret_file` (mode 600), its hash added to `credentials`."""
    secret = new_secret()
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.touch(mode=0o600)
    secret_file.write_text(secret + "\n")
    hashes = read_hashes(credentials) if credentials.exists() else {}
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(json.dumps({**hashes, service: secret_hash(secret)}, indent=2) + "\n")


def matches(hashes: dict[str, str], service: str, secret: str) -> bool:
    """Whether `secret` is the secret of `service` (in constant time; False for an unknown service)."""
    known = hashes.get(service)
    return known is not None and hmac.compare_digest(known.encode(), secret_hash(secret).encode())


class ServiceTokens:
    """The SERVICE tokens of one service, fetched from purchase with its credential and reused until shortly
    before they expire; concurrent callers share one fetch."""

    def __init__(self, http: httpx.AsyncClient, *, identity_url: str, service: str, secret: str) -> None:
        self._http = http
        self._url = identity_url.rstrip("/") + TOKEN_PATH
        self._auth = httpx.BasicAuth(service, secret)
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A good SERVICE token; raises httpx.HTTPError (purchase unreachable or refusing the credential)."""
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                asked = time.monotonic()
                response = await self._http.post(
                    self._url, data={"grant_type": "client_credentials"}, auth=self._auth
                )
                response.raise_for_status()
                answer = response.json()
                self._token = str(answer["access_token"])
                self._renew_at = asked + max(float(answer["expires_in"]) - _RENEW_BEFORE_SECONDS, 0.0)
        return self._token

    def forget(self) -> None:
        """Drop the cached token (the peer refused it): the next call fetches a new one."""
        self._token = None
