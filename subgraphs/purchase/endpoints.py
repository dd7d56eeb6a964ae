"""Purchase's identity endpoints besides GraphQL: the JWKS (public keys only), the client-credentials token
endpoint of the services (RFC 6749 section 4.4) and the feed of ended sessions every verifier polls. None of
them is routed by the router: verifiers and services call purchase directly (the router serves the JWKS again
from its own cache)."""

from base64 import b64decode
from binascii import Error as Base64Error
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs._common.db import Database, utcnow
from subgraphs._common.identity import ENDED_SESSIONS_PATH, JWKS_PATH
from subgraphs._common.service_credentials import TOKEN_PATH, matches, read_hashes
from subgraphs.purchase import sessions
from subgraphs.purchase.context import Resources
from subgraphs.purchase.settings import Settings


async def ended_sessions(db: Database, settings: Settings, cursor: str | None) -> dict[str, Any]:
    """The feed's answer for `cursor` (None: everything that may still have live tokens)."""
    now = utcnow()
    after = datetime.fromisoformat(cursor) if cursor else None
    if after is not None and after.tzinfo is None:
        raise ValueError("the cursor must carry its offset")
    ended = await db.read(sessions.ended_since, after=after, now=now, token_life=settings.token_life)
    life = settings.token_life.total_seconds()
    return {
        "cursor": now.isoformat(),
        "ended": [
            {"sid": sid, "reason": reason, "until": ended_at.timestamp() + life}
            for sid, reason, ended_at in ended
        ],
    }


def _resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def jwks(request: Request) -> Response:
    """GET /.well-known/jwks.json: the public keys tokens are signed with (the one that signs and those whose
    tokens may still be live)."""
    return JSONResponse(_resources(request).issuer.signer.jwks(), headers={"Cache-Control": "max-age=60"})


async def ended(request: Request) -> Response:
    """GET /sessions/ended?after=<cursor>: sessions ended since the cursor whose access tokens may be live,
    and the next cursor."""
    resources = _resources(request)
    try:
        answer = await ended_sessions(resources.db, resources.settings, request.query_params.get("after"))
    except ValueError:
        return JSONResponse({"error": "after must be a cursor this feed gave"}, status_code=400)
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _oauth_error(error: str, status: int) -> Response:
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="service-tree"'
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def token(request: Request) -> Response:
    """POST /oauth/token, grant_type=client_credentials: a SERVICE token for the service whose secret is
    presented (HTTP Basic, or client_id and client_secret in the form)."""
    form = await request.form()
    if form.get("grant_type") != "client_credentials":
        return _oauth_error("unsupported_grant_type", 400)
    service, secret = str(form.get("client_id") or ""), str(form.get("client_secret") or "")
    if request.headers.get("authorization"):
        scheme, _, encoded = request.headers["authorization"].partition(" ")
        try:
            decoded = b64decode(encoded.strip(), validate=True).decode()
        except (Base64Error, UnicodeDecodeError):
            return _oauth_error("invalid_client", 401)
        if scheme.lower() != "basic" or ":" not in decoded:
            return _oauth_error("invalid_client", 401)
        name, _, password = decoded.partition(":")
        service, secret = unquote(name), unquote(password)
    resources = _resources(request)
    if (
        not service
        or not secret
        or not matches(read_hashes(resources.settings.credentials_file()), service, secret)
    ):
        return _oauth_error("invalid_client", 401)
    value, life = resources.issuer.for_service(service)
    return JSONResponse(
        {"access_token": value, "token_type": "Bearer", "expires_in": life},
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [
    Route(JWKS_PATH, jwks, methods=["GET"]),
    Route(ENDED_SESSIONS_PATH, ended, methods=["GET"]),
    Route(TOKEN_PATH, token, methods=["POST"]),
]
