"""Tokens an attacker could make, for the tests of every verifier (each subgraph in process, and the router and
each subgraph as real processes): none of them may pass for a user's, nor for no token at all."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from subgraphs._common.keys import KeyFolder
from subgraphs._common.verification import ISSUER
from tests.support import IDENTITY
from tools import identity


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(claims: dict[str, Any], secret: bytes, kid: str | None) -> str:
    """An HS256 token with `secret` as its HMAC key, written by hand: PyJWT refuses to use a public key so."""
    header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def claims(subject: str = "1", role: str = "CUSTOMER", **extra: Any) -> dict[str, Any]:
    """The claims of a token purchase could have signed (a user's carries a session id)."""
    now = int(time.time())
    base: dict[str, Any] = {"iss": ISSUER, "sub": subject, "role": role, "iat": now, "exp": now + 600}
    if role != "SERVICE":
        base["sid"] = "forged-session"
    return {**base, **extra}


def forged(keys: Path = IDENTITY, *, subject: str = "1", as_admin: bool = False) -> dict[str, str]:
    """By attack: a token (of user `subject`, a CUSTOMER or an ADMIN) that must be refused with
    UNAUTHENTICATED by every verifier trusting `keys`."""
    loaded = KeyFolder(keys / identity.KEYS).current()
    signer = loaded.signing_now
    assert signer is not None
    kid = signer.kid
    role = "ADMIN" if as_admin else "CUSTOMER"
    good = claims(subject, role=role)
    public_pem = signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_jwk = json.dumps(next(key for key in loaded.jwks["keys"] if key["kid"] == kid)).encode()
    stranger = ec.generate_private_key(ec.SECP256R1())
    mine = signer.key
    service_secret = identity.secret_file(keys, "factory").read_text().strip().encode()
    return {
        "malformed": "not.a.jwt",
        "alg none": jwt.encode(good, "", algorithm="none", headers={"kid": kid}),
        "HS256 with the public key": hs256(good, public_pem, kid),
        "HS256 with the public JWK": hs256(good, public_jwk, kid),
        "unknown kid": jwt.encode(good, stranger, algorithm="ES256", headers={"kid": "never-published"}),
        "another key under a known kid": jwt.encode(good, stranger, algorithm="ES256", headers={"kid": kid}),
        "expired": jwt.encode(
            claims(role=role, exp=int(time.time()) - 10), mine, "ES256", headers={"kid": kid}
        ),
        "unknown role": jwt.encode(claims(subject, "ROOT"), mine, algorithm="ES256", headers={"kid": kid}),
        "user without a session": jwt.encode(
            {key: value for key, value in good.items() if key != "sid"}, mine, "ES256", headers={"kid": kid}
        ),
        "another issuer": jwt.encode(
            {**good, "iss": "elsewhere"}, mine, algorithm="ES256", headers={"kid": kid}
        ),
        "a service credential as an HMAC key": hs256(good, service_secret, None),
        "a service credential with a known kid": hs256(good, service_secret, kid),
    }
