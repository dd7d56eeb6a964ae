"""Sessions at purchase: refresh tokens that rotate (a spent one again ends the session), logout,
logoutEverywhere, changePassword, me.sessions, endSession, setUserDisabled, refresh guessing rate limited per
client address; ending a session refuses its access tokens once the feed is read (driven here round by
round)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from subgraphs._common.auth import Role
from subgraphs.purchase.context import Resources
from tests.purchase.fixtures import LOGIN, account, register
from tests.support import IDENTITY, codes, gql, token
from tools import identity

PAIR = "token expiresAt refreshToken refreshExpiresAt user { id }"
REGISTER = f"mutation($input: RegisterInput!) {{ register(input: $input) {{ {PAIR} }} }}"
LOGIN_PAIR = f"mutation($l: String!, $p: String!) {{ login(login: $l, password: $p) {{ {PAIR} }} }}"
REFRESH = f"mutation($r: String!) {{ refreshSession(refreshToken: $r) {{ {PAIR} }} }}"
LOGOUT = "mutation($r: String!) { logout(refreshToken: $r) }"
SESSIONS = "{ me { sessions { id createdAt lastUsedAt current } } }"
ME = "{ me { id } }"


async def pair(purchase: httpx.AsyncClient, login: str = "alice") -> dict[str, Any]:
    """A new user, logged in: its AuthPayload."""
    payload: dict[str, Any] = (await gql(purchase, REGISTER, account(login)))["data"]["register"]
    return payload


async def log_in(purchase: httpx.AsyncClient, login: str = "alice") -> dict[str, Any]:
    payload: dict[str, Any] = (await gql(purchase, LOGIN_PAIR, {"l": login, "p": "correct-horse"}))["data"][
        "login"
    ]
    return payload


async def feed_read(purchase_app: Starlette) -> None:
    """One round of the ended-sessions feed in the purchase process (its poller does it every second)."""
    resources: Resources = purchase_app.state.resources
    await resources.verifier.ended.poll()


async def test_a_refresh_token_is_spent_once_for_a_new_pair(purchase: httpx.AsyncClient) -> None:
    first = await pair(purchase)
    second = (await gql(purchase, REFRESH, {"r": first["refreshToken"]}))["data"]["refreshSession"]
    assert second["user"] == first["user"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await gql(purchase, ME, as_=second["token"]))["data"]["me"] == first["user"]
    third = (await gql(purchase, REFRESH, {"r": second["refreshToken"]}))["data"]["refreshSession"]
    assert third["refreshToken"] not in (first["refreshToken"], second["refreshToken"])


async def test_a_spent_refresh_token_again_ends_its_whole_session(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    first = await pair(purchase)
    second = (await gql(purchase, REFRESH, {"r": first["refreshToken"]}))["data"]["refreshSession"]
    reused = await gql(
        purchase, REFRESH, {"r": first["refreshToken"]}
    )  # the thief, or the victim: either way
    assert codes(reused) == ["UNAUTHENTICATED"]
    assert reused["errors"][0]["message"] == "Session ended: its refresh token was used twice"
    after = await gql(purchase, REFRESH, {"r": second["refreshToken"]})  # the newest one is dead too
    assert codes(after) == ["UNAUTHENTICATED"]
    await feed_read(purchase_app)
    refused = await gql(purchase, ME, as_=second["token"])
    assert codes(refused) == ["UNAUTHENTICATED"]
    assert refused["errors"][0]["message"] == "Session ended: its refresh token was used twice"


async def test_a_refresh_token_presented_with_another_users_access_token_is_refused_and_its_session_ends(
    purchase: httpx.AsyncClient,
) -> None:
    alice = await pair(purchase, "alice")
    mallory = await pair(purchase, "mallory")
    stolen = await gql(purchase, REFRESH, {"r": alice["refreshToken"]}, as_=mallory["token"])
    assert codes(stolen) == ["UNAUTHENTICATED"]
    assert codes(await gql(purchase, REFRESH, {"r": alice["refreshToken"]})) == ["UNAUTHENTICATED"]
    # Logging out someone else's session is refused outright, and ends nothing.
    bob = await pair(purchase, "bob")
    assert codes(await gql(purchase, LOGOUT, {"r": bob["refreshToken"]}, as_=mallory["token"])) == [
        "FORBIDDEN"
    ]
    assert "errors" not in await gql(purchase, REFRESH, {"r": bob["refreshToken"]})


async def test_refresh_tokens_are_stored_as_hashes_only(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    first = await pair(purchase)
    resources: Resources = purchase_app.state.resources
    with resources.db.engine.connect() as connection:
        rows = connection.execute(text("SELECT token_hash FROM refresh_token")).scalars().all()
        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM login_session")).all())
    assert len(rows) == 1 and first["refreshToken"] not in rows and first["refreshToken"] not in dump
    assert len(rows[0]) == 64  # a SHA-256, hex


async def test_logout_ends_that_session_only(purchase: httpx.AsyncClient, purchase_app: Starlette) -> None:
    here = await pair(purchase)
    there = await log_in(purchase)
    assert (await gql(purchase, LOGOUT, {"r": here["refreshToken"]}))["data"]["logout"] is True
    assert (await gql(purchase, LOGOUT, {"r": here["refreshToken"]}))["data"]["logout"] is False
    assert codes(await gql(purchase, REFRESH, {"r": here["refreshToken"]})) == ["UNAUTHENTICATED"]
    await feed_read(purchase_app)
    assert codes(await gql(purchase, ME, as_=here["token"])) == ["UNAUTHENTICATED"]
    assert (await gql(purchase, ME, as_=there["token"]))["data"]["me"] == there["user"]


async def test_logout_everywhere_ends_every_session_of_the_caller_and_says_how_many(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    sessions = [await pair(purchase), await log_in(purchase), await log_in(purchase)]
    bob = await pair(purchase, "bob")
    ended = await gql(purchase, "mutation { logoutEverywhere }", as_=sessions[0]["token"])
    assert ended["data"]["logoutEverywhere"] == 3
    await feed_read(purchase_app)
    for session in sessions:
        body = await gql(purchase, ME, as_=session["token"])
        assert body["errors"][0]["message"] == "Session ended: you logged out everywhere"
        assert codes(await gql(purchase, REFRESH, {"r": session["refreshToken"]})) == ["UNAUTHENTICATED"]
    assert (await gql(purchase, ME, as_=bob["token"]))["data"]["me"] == bob["user"]


async def test_me_sessions_lists_the_live_ones_and_end_session_ends_one(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    here = await pair(purchase)
    there = await log_in(purchase)
    listed = (await gql(purchase, SESSIONS, as_=here["token"]))["data"]["me"]["sessions"]
    assert [session["current"] for session in listed] == [False, True]  # newest first: `there` is newer
    other = listed[0]["id"]
    mallory = await pair(purchase, "mallory")
    end = "mutation($id: ID!) { endSession(id: $id) }"
    assert codes(await gql(purchase, end, {"id": other}, as_=mallory["token"])) == ["NOT_FOUND"]
    assert (await gql(purchase, end, {"id": other}, as_=here["token"]))["data"]["endSession"] is True
    assert (await gql(purchase, end, {"id": other}, as_=here["token"]))["data"]["endSession"] is False
    await feed_read(purchase_app)
    assert codes(await gql(purchase, ME, as_=there["token"])) == ["UNAUTHENTICATED"]
    assert len((await gql(purchase, SESSIONS, as_=here["token"]))["data"]["me"]["sessions"]) == 1
    service = token("service:shop", Role.SERVICE)
    assert codes(await gql(purchase, end, {"id": other}, as_=service)) == ["FORBIDDEN"]


async def test_change_password_ends_every_other_session_and_renews_this_one(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    here = await pair(purchase)
    there = await log_in(purchase)
    change = f"mutation($c: String!, $n: String!) {{ changePassword(currentPassword: $c, newPassword: $n) {{ {PAIR} }} }}"
    wrong = await gql(purchase, change, {"c": "not-it-at-all", "n": "new-horse-123"}, as_=here["token"])
    assert (
        codes(wrong) == ["BAD_USER_INPUT"] and wrong["errors"][0]["extensions"]["field"] == "currentPassword"
    )
    short = await gql(purchase, change, {"c": "correct-horse", "n": "short"}, as_=here["token"])
    assert codes(short) == ["BAD_USER_INPUT"] and short["errors"][0]["extensions"]["field"] == "newPassword"
    renewed = (await gql(purchase, change, {"c": "correct-horse", "n": "new-horse-123"}, as_=here["token"]))[
        "data"
    ]["changePassword"]
    await feed_read(purchase_app)
    assert (await gql(purchase, ME, as_=here["token"]))["data"]["me"] == here["user"]  # this session goes on
    assert (await gql(purchase, ME, as_=renewed["token"]))["data"]["me"] == here["user"]
    gone = await gql(purchase, ME, as_=there["token"])
    assert gone["errors"][0]["message"] == "Session ended: the password was changed"
    assert codes(await gql(purchase, REFRESH, {"r": there["refreshToken"]})) == ["UNAUTHENTICATED"]
    assert codes(await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})) == ["UNAUTHENTICATED"]
    assert "errors" not in await gql(purchase, LOGIN, {"l": "alice", "p": "new-horse-123"})
    assert "errors" not in await gql(purchase, REFRESH, {"r": renewed["refreshToken"]})
    # The refresh token from before the change was spent by it: presenting it now is reuse.
    assert codes(await gql(purchase, REFRESH, {"r": here["refreshToken"]})) == ["UNAUTHENTICATED"]


async def test_a_disabled_user_cannot_log_in_or_refresh_and_their_sessions_end(
    purchase: httpx.AsyncClient, purchase_app: Starlette
) -> None:
    alice = await pair(purchase)
    admin = token(99, Role.ADMIN)
    disable = "mutation($u: ID!, $d: Boolean!) { setUserDisabled(userId: $u, disabled: $d) { id disabled } }"
    user_id = alice["user"]["id"]
    assert codes(await gql(purchase, disable, {"u": user_id, "d": True}, as_=alice["token"])) == ["FORBIDDEN"]
    assert codes(await gql(purchase, disable, {"u": "4242", "d": True}, as_=admin)) == ["NOT_FOUND"]
    done = await gql(purchase, disable, {"u": user_id, "d": True}, as_=admin)
    assert done["data"]["setUserDisabled"] == {"id": user_id, "disabled": True}
    await feed_read(purchase_app)
    refused = await gql(purchase, ME, as_=alice["token"])
    assert refused["errors"][0]["message"] == "Session ended: the account is disabled"
    assert codes(await gql(purchase, REFRESH, {"r": alice["refreshToken"]})) == ["UNAUTHENTICATED"]
    login = await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})
    assert login["errors"][0]["message"] == "This account is disabled"
    await gql(purchase, disable, {"u": user_id, "d": False}, as_=admin)
    assert "errors" not in await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})


async def test_an_admin_cannot_disable_themselves(purchase: httpx.AsyncClient) -> None:
    me = (await pair(purchase, "boss"))["user"]["id"]
    body = await gql(
        purchase,
        "mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { id } }",
        {"u": me},
        as_=token(me, Role.ADMIN),
    )
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.fixture
async def elsewhere(purchase_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The purchase app called from another client address."""
    transport = httpx.ASGITransport(app=purchase_app, client=("203.0.113.7", 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://purchase") as client:
        yield client


async def test_guessing_refresh_tokens_is_rate_limited_per_client_address(
    purchase: httpx.AsyncClient, elsewhere: httpx.AsyncClient
) -> None:
    mine = await pair(purchase, "alice")
    theirs = await pair(elsewhere, "bob")
    for n in range(20):
        assert codes(await gql(purchase, REFRESH, {"r": f"guess-{n}"})) == ["UNAUTHENTICATED"]
    blocked = await gql(purchase, REFRESH, {"r": mine["refreshToken"]})  # even a good one, from this address
    assert codes(blocked) == ["RATE_LIMITED"]
    assert codes(await gql(purchase, LOGOUT, {"r": "guess"})) == ["RATE_LIMITED"]
    assert "errors" not in await gql(elsewhere, REFRESH, {"r": theirs["refreshToken"]})  # others go on


async def test_a_service_gets_its_token_with_its_own_credential_only(
    purchase: httpx.AsyncClient,
) -> None:
    secret = identity.secret_file(IDENTITY, "shop").read_text().strip()
    good = await purchase.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("shop", secret)
    )
    assert good.status_code == 200, good.text
    answer = good.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 300
    assert (await gql(purchase, ME, as_=answer["access_token"]))["data"]["me"] is None  # a service is no user
    create = 'mutation { createUserCategory(name: "x") { id } }'
    assert codes(await gql(purchase, create, as_=answer["access_token"])) == ["FORBIDDEN"]
    for name, password in (("shop", "wrong"), ("factory", secret), ("admin", secret), ("", "")):
        refused = await purchase.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(name, password)
        )
        assert (refused.status_code, refused.json()) == (401, {"error": "invalid_client"}), name
    posted = await purchase.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "shop", "client_secret": secret},
    )
    assert posted.status_code == 200
    other_grant = await purchase.post("/oauth/token", data={"grant_type": "password"}, auth=("shop", secret))
    assert (other_grant.status_code, other_grant.json()) == (400, {"error": "unsupported_grant_type"})


async def test_the_jwks_holds_public_keys_only(purchase: httpx.AsyncClient) -> None:
    document = (await purchase.get("/.well-known/jwks.json")).json()
    assert document["keys"]
    for key in document["keys"]:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
        assert "d" not in key and key["kid"]


async def test_the_ended_sessions_feed_answers_since_a_cursor(
    purchase: httpx.AsyncClient,
) -> None:
    first = (await purchase.get("/sessions/ended")).json()
    alice = await pair(purchase)
    await gql(purchase, LOGOUT, {"r": alice["refreshToken"]})
    later = (await purchase.get("/sessions/ended", params={"after": first["cursor"]})).json()
    assert [entry["reason"] for entry in later["ended"]] == ["LOGOUT"]
    assert later["ended"][0]["until"] > 0 and later["cursor"] >= first["cursor"]
    assert (await purchase.get("/sessions/ended", params={"after": "yesterday"})).status_code == 400


async def test_register_still_logs_in_with_a_session(purchase: httpx.AsyncClient) -> None:
    token_, _ = await register(purchase, "carol")
    listed = (await gql(purchase, SESSIONS, as_=token_))["data"]["me"]["sessions"]
    assert [session["current"] for session in listed] == [True]
