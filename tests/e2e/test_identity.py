"""Identity end to end, on real processes of either backend (two processes of each subgraph on PostgreSQL):
every attack of the contract through the router and against each subgraph directly, sessions ended
everywhere within 5 seconds, service credentials that make nothing but SERVICE tokens, refresh guessing
rate limited per client address, and a signing key rotated without downtime."""

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import httpx
import jwt
import pytest

from subgraphs import registry
from subgraphs._common import keys
from subgraphs._common.auth import Role
from subgraphs._common.db import utcnow
from tests.databases import Databases
from tests.e2e.helpers import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    PASSWORD,
    Router,
    create_admin,
    create_product,
    unique,
)
from tests.e2e.subscriptions import Socket
from tests.forged import forged
from tests.support import poll, token
from tools import identity
from tools.stack import ROOT, Stack

pytestmark = pytest.mark.e2e

TARGETS = (registry.ROUTER, *registry.NAMES)
RECORDED = "subscription { purchaseRecorded { id } }"
STOCK = "subscription($ids: [ID!]!) { stockChanged(productIds: $ids) { id stock } }"
# A query per process that a customer's token passes and a bad token is refused on (UNAUTHENTICATED): the
# factory answers a customer FORBIDDEN, which is not a refusal of the token.
PROBES = {
    registry.ROUTER: "{ me { id } }",
    "purchase": "{ me { id } }",
    "shop": '{ checks(ids: ["999999"]) { id } }',
    "factory": "{ factories { id } }",
}
PAIR = "token refreshToken user { id }"
LOGIN = f"mutation($l: String!, $p: String!) {{ login(login: $l, password: $p) {{ {PAIR} }} }}"
REGISTER = f"mutation($i: RegisterInput!) {{ register(input: $i) {{ {PAIR} }} }}"
REFRESH = f"mutation($r: String!) {{ refreshSession(refreshToken: $r) {{ {PAIR} }} }}"
ENDED_WITHIN = 5.0  # seconds: the contract
ATTACKER, HONEST = "198.51.100.66", "203.0.113.10"  # client addresses, as an ingress in front would pass them


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Stack]:
    """A stack of its own identity (the rotation changes its keys), two processes per subgraph on
    PostgreSQL, the JWKS read again every second, and the test client trusted as a proxy in front of the
    router (so that it can speak for several client addresses)."""
    folder = tmp_path_factory.mktemp("identity")
    started = replace(
        Stack.on_free_ports(
            folder, SERVICE_TREE_JWKS_MAX_AGE_SECONDS="1", ROUTER_TRUSTED_PROXIES="127.0.0.1,::1"
        ),
        databases=databases.for_stack(folder),
        workers=2 if databases.backend == "postgresql" else 1,
        identity_dir=folder / "identity",
    )
    with started.running() as running:
        yield running


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
        yield client


def url(stack: Stack, target: str) -> str:
    return stack.router_url if target == registry.ROUTER else stack.subgraph_url(target)


async def ask(
    http: httpx.AsyncClient,
    stack: Stack,
    target: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    address: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """The status and body of a GraphQL request to `target` (the router or a subgraph)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if address:
        headers["X-Forwarded-For"] = address
    response = await http.post(
        url(stack, target), json={"query": query, "variables": variables or {}}, headers=headers
    )
    return response.status_code, response.json()


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


# The router let the token through and a subgraph refused it (200): the router had not heard of its end yet.
PASSED_THE_ROUTER = "passed the router"


async def verdict(http: httpx.AsyncClient, stack: Stack, target: str, value: str) -> str:
    """'accepted', or the refusal's message (checked to be UNAUTHENTICATED, 401 at the router)."""
    status, body = await ask(http, stack, target, PROBES[target], token=value)
    if "UNAUTHENTICATED" not in codes(body):
        return "accepted"
    assert codes(body) == ["UNAUTHENTICATED"], body
    if target == registry.ROUTER and status == 200:
        return PASSED_THE_ROUTER
    assert status == (401 if target == registry.ROUTER else 200), (target, status)
    message: str = body["errors"][0]["message"]
    return message


async def everywhere(http: httpx.AsyncClient, stack: Stack, value: str) -> dict[str, str]:
    """The verdict of each process (each twice: on PostgreSQL each subgraph has two processes)."""
    found = {}
    for target in TARGETS:
        first, second = [await verdict(http, stack, target, value) for _ in range(2)]
        found[target] = first if first == second else f"{first} / {second}"
    return found


@dataclass
class Session:
    user_id: str
    login: str
    token: str
    refresh_token: str


async def new_session(http: httpx.AsyncClient, stack: Stack, login: str | None = None) -> Session:
    """A new CUSTOMER's session (registered through the router), or a new login of `login`."""
    if login is None:
        login = unique("id")
        variables = {"i": {"login": login, "password": PASSWORD, "firstName": "I", "secondName": "D"}}
        _, body = await ask(http, stack, registry.ROUTER, REGISTER, variables)
        payload = body["data"]["register"]
    else:
        _, body = await ask(http, stack, registry.ROUTER, LOGIN, {"l": login, "p": PASSWORD})
        payload = body["data"]["login"]
    return Session(payload["user"]["id"], login, payload["token"], payload["refreshToken"])


async def test_every_forged_token_is_refused_by_every_process(http: httpx.AsyncClient, stack: Stack) -> None:
    good = await new_session(http, stack)
    assert await everywhere(http, stack, good.token) == dict.fromkeys(TARGETS, "accepted")
    for attack, value in forged(stack.identity, subject=good.user_id, as_admin=True).items():
        expected = "Token expired" if attack == "expired" else "Invalid token"
        assert await everywhere(http, stack, value) == dict.fromkeys(TARGETS, expected), attack


async def in_a_row(http: httpx.AsyncClient, stack: Stack, target: str, value: str) -> list[str]:
    """Four verdicts of `target` on `value`, one right after another (its processes may differ for a while)."""
    return [await verdict(http, stack, target, value) for _ in range(4)]


async def ended_everywhere(http: httpx.AsyncClient, stack: Stack, value: str, message: str) -> float:
    """Seconds until every process refuses `value` with `message`, each of them four times in a row."""
    started = time.monotonic()
    expected = {"accepted", PASSED_THE_ROUTER, message}
    for target in TARGETS:
        seen = await poll(
            partial(in_a_row, http, stack, target, value),
            lambda seen: seen == [message] * 4 or not set(seen) <= expected,
            within=max(0.0, started + ENDED_WITHIN + 1 - time.monotonic()),
        )
        assert set(seen) <= expected, (target, seen)
        assert seen == [message] * 4, f"{target} still accepts it: {seen}"
    return time.monotonic() - started


async def end_by(http: httpx.AsyncClient, stack: Stack, how: str, admin: str) -> tuple[Session, str]:
    """A session ended `how`, and the message its tokens are refused with."""
    session = await new_session(http, stack)
    assert await everywhere(http, stack, session.token) == dict.fromkeys(TARGETS, "accepted")
    if how == "logout":
        _, body = await ask(
            http,
            stack,
            registry.ROUTER,
            "mutation($r: String!) { logout(refreshToken: $r) }",
            {"r": session.refresh_token},
        )
        assert body["data"]["logout"] is True
        return session, "Session ended: you logged out"
    if how == "logoutEverywhere":
        _, body = await ask(
            http, stack, registry.ROUTER, "mutation { logoutEverywhere }", token=session.token
        )
        assert body["data"]["logoutEverywhere"] == 1
        return session, "Session ended: you logged out everywhere"
    if how == "changePassword":
        other = await new_session(http, stack, session.login)  # changes the password, and ends `session`
        change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }"
        _, body = await ask(
            http, stack, registry.ROUTER, change, {"c": PASSWORD, "n": PASSWORD + "!"}, token=other.token
        )
        assert body["data"]["changePassword"]["token"]
        return session, "Session ended: the password was changed"
    if how == "endSession":
        other = await new_session(http, stack, session.login)
        _, body = await ask(
            http, stack, registry.ROUTER, "{ me { sessions { id current } } }", token=other.token
        )
        (victim,) = [entry["id"] for entry in body["data"]["me"]["sessions"] if not entry["current"]]
        end = "mutation($id: ID!) { endSession(id: $id) }"
        _, body = await ask(http, stack, registry.ROUTER, end, {"id": victim}, token=other.token)
        assert body["data"]["endSession"] is True
        return session, "Session ended: it was ended from another session"
    if how == "setUserDisabled":
        disable = "mutation($u: ID!) { setUserDisabled(userId: $u, disabled: true) { disabled } }"
        _, body = await ask(http, stack, registry.ROUTER, disable, {"u": session.user_id}, token=admin)
        assert body["data"]["setUserDisabled"]["disabled"] is True
        return session, "Session ended: the account is disabled"
    assert how == "a spent refresh token", how
    _, body = await ask(http, stack, registry.ROUTER, REFRESH, {"r": session.refresh_token})
    renewed = body["data"]["refreshSession"]
    _, again = await ask(http, stack, registry.ROUTER, REFRESH, {"r": session.refresh_token})
    assert codes(again) == ["UNAUTHENTICATED"]
    _, newest = await ask(http, stack, registry.ROUTER, REFRESH, {"r": renewed["refreshToken"]})
    assert codes(newest) == ["UNAUTHENTICATED"]  # the whole session ended, its newest refresh token too
    return replace(session, token=renewed["token"]), "Session ended: its refresh token was used twice"


@pytest.fixture(scope="module")
def admin(stack: Stack) -> str:
    create_admin(stack)
    with httpx.Client(timeout=60) as client:
        body = client.post(
            stack.router_url, json={"query": LOGIN, "variables": {"l": ADMIN_LOGIN, "p": ADMIN_PASSWORD}}
        ).json()
    value: str = body["data"]["login"]["token"]
    return value


@pytest.mark.parametrize(
    "how",
    [
        "logout",
        "logoutEverywhere",
        "changePassword",
        "endSession",
        "setUserDisabled",
        "a spent refresh token",
    ],
)
async def test_an_ended_sessions_tokens_are_refused_everywhere_within_five_seconds(
    http: httpx.AsyncClient, stack: Stack, admin: str, how: str
) -> None:
    session, message = await end_by(http, stack, how, admin)
    seconds = await ended_everywhere(http, stack, session.token, message)
    assert seconds < ENDED_WITHIN, f"{how}: {seconds:.1f} s"
    _, body = await ask(http, stack, registry.ROUTER, REFRESH, {"r": session.refresh_token})
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_a_disabled_user_cannot_log_in_again(http: httpx.AsyncClient, stack: Stack, admin: str) -> None:
    session, _ = await end_by(http, stack, "setUserDisabled", admin)
    _, body = await ask(http, stack, registry.ROUTER, LOGIN, {"l": session.login, "p": PASSWORD})
    assert (codes(body), body["errors"][0]["message"]) == (["UNAUTHENTICATED"], "This account is disabled")


@pytest.mark.parametrize("target", [registry.ROUTER, registry.IDENTITY])
async def test_a_refresh_token_of_another_user_with_your_access_token_is_refused(
    http: httpx.AsyncClient, stack: Stack, target: str
) -> None:
    victim = await new_session(http, stack)
    thief = await new_session(http, stack)
    _, body = await ask(http, stack, target, REFRESH, {"r": victim.refresh_token}, token=thief.token)
    assert codes(body) == ["UNAUTHENTICATED"]
    # Taken as theft: the victim's session ends (they log in again), the thief got nothing.
    await ended_everywhere(
        http, stack, victim.token, "Session ended: its refresh token was presented by another user"
    )
    assert await everywhere(http, stack, thief.token) == dict.fromkeys(TARGETS, "accepted")


async def service_token(http: httpx.AsyncClient, stack: Stack, service: str) -> str:
    """A SERVICE token from purchase's token endpoint, with `service`'s own credential."""
    secret = identity.secret_file(stack.identity, service).read_text().strip()
    response = await http.post(
        f"{stack.identity_url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "ADMIN", "role": "CUSTOMER"},  # asks for more
        auth=(service, secret),
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    return value


@pytest.mark.parametrize("service", registry.SERVICES)
async def test_a_service_credential_makes_a_service_token_only_and_it_never_acts_as_a_customer(
    http: httpx.AsyncClient, stack: Stack, service: str
) -> None:
    value = await service_token(http, stack, service)
    claims = jwt.decode(value, options={"verify_signature": False})
    assert (claims["role"], claims["sub"], "sid" in claims) == ("SERVICE", f"service:{service}", False)
    for target in (registry.ROUTER, registry.IDENTITY):
        _, body = await ask(http, stack, target, "{ me { id } }", token=value)
        assert body == {"data": {"me": None}}
    buy = 'mutation { buy(input: {shopId: "1", items: [{productId: "1", quantity: 1}], payment: CARD, purchaseName: "x"}) { id } }'
    for target in (registry.ROUTER, "shop"):
        _, body = await ask(http, stack, target, buy, token=value)
        assert codes(body) == ["FORBIDDEN"], (target, body)
    _, body = await ask(http, stack, registry.ROUTER, "mutation { logoutEverywhere }", token=value)
    assert codes(body) == ["FORBIDDEN"]
    # Signed with the credential itself (as an HMAC key, under the real kid too): refused everywhere.
    for attack in ("a service credential as an HMAC key", "a service credential with a known kid"):
        assert await everywhere(http, stack, forged(stack.identity)[attack]) == dict.fromkeys(
            TARGETS, "Invalid token"
        )


async def test_thousands_of_random_refresh_tokens_are_rate_limited_and_others_go_on(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    honest = await new_session(http, stack)
    answers: list[str] = []
    limit = asyncio.Semaphore(16)

    async def guess(target: str) -> None:
        async with limit:
            _, body = await ask(
                http, stack, target, REFRESH, {"r": secrets.token_urlsafe(32)}, address=ATTACKER
            )
            answers.append(codes(body)[0])

    flood = asyncio.gather(*(guess(registry.ROUTER) for _ in range(2000)))
    # While the flood runs, the honest client refreshes, through the router and directly, again and again.
    refreshed = 0
    current = honest.refresh_token
    while not flood.done() or refreshed < 3:
        for target in (registry.ROUTER, registry.IDENTITY):
            _, body = await ask(http, stack, target, REFRESH, {"r": current}, address=HONEST)
            assert "errors" not in body, body
            current = body["data"]["refreshSession"]["refreshToken"]
            refreshed += 1
    await flood
    # The guesses let through: twenty, and those already on their way when the block was written.
    assert answers.count("UNAUTHENTICATED") <= 20 + 16
    assert answers.count("RATE_LIMITED") >= 2000 - 36
    # Directly at purchase, from that address, likewise; the block names how long it lasts.
    _, body = await ask(http, stack, registry.IDENTITY, REFRESH, {"r": "guess"}, address=ATTACKER)
    assert codes(body) == ["RATE_LIMITED"] and body["errors"][0]["extensions"]["retryAfterSeconds"] > 0


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    """The purchase operator command on this stack's signing keys."""
    env = {
        "PURCHASE_SIGNING_KEYS_DIR": str(stack.identity / identity.KEYS),
        "PYTHONPATH": str(ROOT),
        "PATH": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "subgraphs.purchase.cli", "keys", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_key_rotated_without_downtime(
    http: httpx.AsyncClient, stack: Stack, router: Router, admin: str
) -> None:
    """Last in the module: it changes the stack's keys."""
    product = await create_product(router, admin, "Keys", ("Key ring", 100, 1), prefix="Rotation")
    old = await new_session(http, stack)
    old_kid = jwt.get_unverified_header(old.token)["kid"]
    jwks_url = stack.router_url.removesuffix("/graphql") + "/.well-known/jwks.json"
    added = cli(stack, "add", "--publish-seconds", "5")
    assert added.returncode == 0, added.stderr
    new_key = next(key for key in keys.list_keys(stack.identity / identity.KEYS) if key.kid != old_kid)
    new_kid = new_key.kid
    # Published before it signs: the router's JWKS names it (within its max age, 1 s here) while purchase still
    # signs with the old key, so no verifier can meet a token of the new key before it knows the key.
    jwks = await poll(
        lambda: http.get(jwks_url), lambda answer: new_kid in answer.text, within=10, interval=0.2
    )
    assert new_kid in jwks.text, "the router does not publish the new key"
    before_it_signs = await new_session(http, stack)
    if utcnow() < new_key.signs_from:  # else this machine took 5 s to get here: nothing to see
        assert jwt.get_unverified_header(before_it_signs.token)["kid"] == old_kid
    # Purchase signs with the new key from its `signs_from` on (it looks at its key folder once a second).
    new = await poll(
        lambda: new_session(http, stack),
        lambda made: jwt.get_unverified_header(made.token)["kid"] != old_kid,
        within=10,
        interval=0.2,
    )
    assert jwt.get_unverified_header(new.token)["kid"] == new_kid, "purchase still signs with the old key"
    # The overlap: both keys' tokens pass everywhere (a new kid is fetched at once by every verifier).
    assert await everywhere(http, stack, new.token) == dict.fromkeys(TARGETS, "accepted")
    assert await everywhere(http, stack, old.token) == dict.fromkeys(TARGETS, "accepted")
    refused = cli(stack, "retire", old_kid)
    assert refused.returncode == 1 and "may be live until" in refused.stderr
    async with Socket.open(stack.router_url, old.token) as socket:
        # The old key's live subscriptions, at purchase and at the shop, end when it is retired: each
        # subgraph's next read of the JWKS (every second here) ends them, not their 30-second check.
        purchases = await socket.subscribe(RECORDED)
        stock = await socket.subscribe(STOCK, {"ids": [product.id]})
        assert (await stock.data())["stock"] == 1
        assert cli(stack, "retire", old_kid, "--force").returncode == 0
        assert await purchases.codes(within=10) == ["UNAUTHENTICATED"]
        assert await stock.codes(within=10) == ["UNAUTHENTICATED"]
    # Within the JWKS max age (1 s here) the old key's tokens are refused everywhere, the new key's pass.
    retired = dict.fromkeys(TARGETS, "Invalid token")
    seen = await poll(
        lambda: everywhere(http, stack, old.token), lambda seen: seen == retired, within=10, interval=0.2
    )
    assert seen == retired, f"the retired key's tokens still pass somewhere: {seen}"
    assert await everywhere(http, stack, new.token) == dict.fromkeys(TARGETS, "accepted")
    published = await http.get(jwks_url)
    assert old_kid not in published.text and jwt.get_unverified_header(new.token)["kid"] in published.text
    # Tokens the tests sign follow the folder: its new key.
    assert await everywhere(
        http, stack, token(new.user_id, Role.CUSTOMER, keys=stack.identity)
    ) == dict.fromkeys(TARGETS, "accepted")
