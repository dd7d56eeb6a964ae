"""Signing keys on disk: a folder of ES256 (ECDSA P-256) private keys, one PEM file per key id (`kid`), and
`keys.json`, the record of when each key signs from and when it stopped signing; and the JWKS of their public
halves. Only the purchase subgraph holds such a folder; everyone else sees the JWKS.

A key added may be published before it signs (`publish_for`): every key of the record is in the JWKS at once,
but it signs only from its `signs_from`, the one before it signing until then. Where the processes that sign
share one folder, nothing more is needed (each serves the JWKS as the folder is now); where each has its own
copy that is updated in turn (a Kubernetes Secret volume, refreshed by each node's kubelet within a minute or
two), the new key must be in every copy before any of them signs with it, or a verifier that fetches the JWKS
from a process still holding the old copy refuses the new key's tokens.

ES256 rather than Ed25519: every verifier of the system can check it with a well-kept library (PyJWT with
`cryptography` here, `jose` in the router), and so can the JWT support of common gateways (jsonwebtoken, which
Hive Gateway's JWT plugin uses, knows no EdDSA).
"""

import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from subgraphs._common.db import utcnow

ALGORITHM = "ES256"
RECORD = "keys.json"
# How often a process that signs looks whether the folder changed (a key added or retired by the operator).
_RESTAT_SECONDS = 1.0


class KeyProblem(Exception):
    """The folder cannot give what was asked: no signing key, an unknown kid, a retirement refused."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """One key of the record: its id, when it was added, when it signs from (published before then) and when
    it stopped signing (None: it signs, or will)."""

    kid: str
    added_at: datetime
    signs_from: datetime
    stopped_signing_at: datetime | None


def _read_record(folder: Path) -> list[KeyInfo]:
    try:
        raw = json.loads((folder / RECORD).read_text())
    except FileNotFoundError:
        return []
    keys = []
    for entry in raw["keys"]:
        added_at = datetime.fromisoformat(entry["added_at"])
        stopped = entry.get("stopped_signing_at")
        keys.append(
            KeyInfo(
                kid=entry["kid"],
                added_at=added_at,
                # A record written before keys were published ahead of signing: they signed when added.
                signs_from=datetime.fromisoformat(entry.get("signs_from") or entry["added_at"]),
                stopped_signing_at=datetime.fromisoformat(stopped) if stopped else None,
            )
        )
    return keys


def _write(path: Path, content: bytes, mode: int) -> None:
    # Written beside, then renamed over: a process reading the folder never sees half a file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(content)
    os.replace(partial, path)


def _write_record(folder: Path, keys: list[KeyInfo]) -> None:
    entries = [
        {
            "kid": key.kid,
            "added_at": key.added_at.isoformat(),
            "signs_from": key.signs_from.isoformat(),
            "stopped_signing_at": key.stopped_signing_at.isoformat() if key.stopped_signing_at else None,
        }
        for key in keys
    ]
    _write(folder / RECORD, json.dumps({"keys": entries}, indent=2).encode() + b"\n", 0o644)


def list_keys(folder: Path) -> list[KeyInfo]:
    """The keys of the folder, oldest first."""
    return _read_record(folder)


def _signs_at(key: KeyInfo, moment: datetime) -> bool:
    return key.signs_from <= moment and (key.stopped_signing_at is None or moment < key.stopped_signing_at)


def add_key(folder: Path, *, now: datetime | None = None, publish_for: timedelta = timedelta(0)) -> str:
    """A new key, published (in the JWKS) from now on and signing `publish_for` later; the key that signs
    until then stays in the JWKS until retired. With no key signing now, the new one signs at once (nothing
    could sign otherwise). Returns the new key's id."""
    now = now or utcnow()
    folder.mkdir(parents=True, exist_ok=True)
    record = _read_record(folder)
    signs_from = now + publish_for if any(_signs_at(key, now) for key in record) else now
    kid = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(folder / f"{kid}.pem", pem, 0o600)
    keys = [
        key
        if key.stopped_signing_at is not None and key.stopped_signing_at <= signs_from
        else KeyInfo(key.kid, key.added_at, key.signs_from, signs_from)
        for key in record
    ]
    _write_record(folder, [*keys, KeyInfo(kid, now, signs_from, None)])
    return kid


def retire_key(folder: Path, kid: str, *, token_life: timedelta, force: bool = False) -> None:
    """Remove a key that no longer signs, once the last token it signed has expired (`token_life` after it
    stopped signing); `force` retires it anyway (its tokens are refused from then on)."""
    keys = _read_record(folder)
    key = next((key for key in keys if key.kid == kid), None)
    if key is None:
        raise KeyProblem(f"no key {kid!r} in {folder}")
    if key.stopped_signing_at is None or key.stopped_signing_at > utcnow():
        raise KeyProblem(f"{kid} still signs: add a key (keys add), then retire this one once it stopped")
    live_until = key.stopped_signing_at + token_life
    if not force and live_until > utcnow():
        raise KeyProblem(
            f"tokens signed by {kid} may be live until {live_until:%Y-%m-%d %H:%M:%S} UTC; "
            "retire it after that, or with --force to refuse them now"
        )
    _write_record(folder, [other for other in keys if other.kid != kid])
    (folder / f"{kid}.pem").unlink(missing_ok=True)


def public_jwk(public_key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, Any]:
    """The JWK of a public key, with its id, algorithm and use."""
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}


@dataclass(frozen=True, slots=True)
class Signing:
    """A key of the folder that signs, or will: its id, private key and when it signs."""

    kid: str
    key: ec.EllipticCurvePrivateKey
    info: KeyInfo


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the folder held when last read: its keys that sign or will, and the public JWKS of every key."""

    signers: tuple[Signing, ...]
    jwks: dict[str, Any]

    def signing_at(self, moment: datetime) -> Signing | None:
        """The key that signs at `moment`: the one signing from the latest time not after it."""
        current = [signer for signer in self.signers if _signs_at(signer.info, moment)]
        return max(current, key=lambda signer: signer.info.signs_from, default=None)

    @property
    def signing_now(self) -> Signing | None:
        """The key that signs now."""
        return self.signing_at(utcnow())

    @property
    def signing_kid(self) -> str | None:
        """The id of the key that signs now."""
        signer = self.signing_now
        return signer.kid if signer else None


class KeyFolder:
    """A signing-key folder as a running process sees it: read again when `keys.json` changes (looked at
    once a second at most), so a key added or retired by the operator takes effect without a restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._stat: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._loaded = Loaded((), {"keys": []})

    def current(self, *, fresh: bool = False) -> Loaded:
        """The keys as they are now (read again if the record changed since). `fresh` looks at the record now
        rather than once a second: the JWKS is served that way, because another process sharing the folder may
        already sign with a key this one has not looked at yet, and a verifier fetches the JWKS for that key's
        id at once."""
        now = time.monotonic()
        if fresh or now - self._checked >= _RESTAT_SECONDS or self._stat is None:
            self._checked = now
            stat = self._record_stat()
            if stat != self._stat:
                self._loaded = self._load()
                self._stat = stat
        return self._loaded

    def _record_stat(self) -> tuple[int, int, int] | None:
        try:
            # Through the symlinks a Kubernetes Secret volume swaps: a new version is a new file.
            found = (self.folder / RECORD).stat()
        except FileNotFoundError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def _load(self) -> Loaded:
        keys = _read_record(self.folder)
        jwks, signers = [], []
        for key in keys:
            try:
                private = serialization.load_pem_private_key(
                    (self.folder / f"{key.kid}.pem").read_bytes(), None
                )
            except FileNotFoundError:
                continue  # listed but not (yet) there: a half-updated folder; the next read completes it
            if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
                raise KeyProblem(f"{key.kid}.pem in {self.folder} is not a P-256 key")
            jwks.append(public_jwk(private.public_key(), key.kid))
            if key.stopped_signing_at is None or key.stopped_signing_at > key.signs_from:
                signers.append(Signing(key.kid, private, key))
        return Loaded(tuple(signers), {"keys": jwks})
