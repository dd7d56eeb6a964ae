"""Register, login, me, updateMe, user(id): tokens and validation."""

from typing import Any

import httpx
import pytest

from subgraphs._common import auth
from subgraphs._common.auth import Role
from tests.forged import forged
from tests.purchase.fixtures import LOGIN, REGISTER, account, register
from tests.support import codes, gql, token


async def test_register_returns_a_token_that_identifies_the_customer(purchase: httpx.AsyncClient) -> None:
    body = await gql(purchase, REGISTER, account())
    payload = body["data"]["register"]
    assert payload["user"] == {
        "id": "1",
        "login": "alice",
        "firstName": "Alice",
        "secondName": "Liddell",
        "role": "CUSTOMER",
    }
    assert payload["expiresAt"].endswith("+00:00")
    assert payload["refreshExpiresAt"] > payload["expiresAt"]
    assert len(payload["refreshToken"]) >= 40
    me = await gql(purchase, "{ me { id login } }", as_=payload["token"])
    assert me["data"]["me"] == {"id": "1", "login": "alice"}


async def test_password_is_never_exposed(purchase: httpx.AsyncClient) -> None:
    await register(purchase)
    body = await gql(purchase, '{ __type(name: "User") { fields { name } } }')
    names = {field["name"] for field in body["data"]["__type"]["fields"]}
    assert not {name for name in names if "password" in name.lower()}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"login": "ab"}, "login"),
        ({"login": "bad login!"}, "login"),
        ({"login": "x" * 65}, "login"),
        ({"password": "short"}, "password"),
        ({"firstName": "   "}, "firstName"),
        ({"secondName": ""}, "secondName"),
    ],
)
async def test_register_rejects_bad_input_and_writes_nothing(
    purchase: httpx.AsyncClient, changes: dict[str, str], field: str
) -> None:
    variables = account()
    variables["input"].update(changes)  # type: ignore[attr-defined]
    body = await gql(purchase, REGISTER, variables)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    login = variables["input"]["login"]  # type: ignore[index]
    again = await gql(purchase, LOGIN, {"l": login, "p": "correct-horse"})
    assert codes(again) == ["UNAUTHENTICATED"]


async def test_taken_login_is_a_conflict(purchase: httpx.AsyncClient) -> None:
    await register(purchase)
    body = await gql(purchase, REGISTER, account())
    assert codes(body) == ["CONFLICT"]


async def test_login_does_not_tell_unknown_login_from_wrong_password(purchase: httpx.AsyncClient) -> None:
    await register(purchase)
    ok = await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})
    assert ok["data"]["login"]["user"]["id"] == "1"
    wrong = await gql(purchase, LOGIN, {"l": "alice", "p": "wrong-horse"})
    unknown = await gql(purchase, LOGIN, {"l": "nobody", "p": "correct-horse"})
    assert codes(wrong) == codes(unknown) == ["UNAUTHENTICATED"]
    assert wrong["errors"][0]["message"] == unknown["errors"][0]["message"]


OPEN_TO_ANONYMOUS = {
    "purchase": "{ me { id } }",
    "shop": "{ shops { totalCount } }",
    "factory": "{ __typename }",
}


@pytest.fixture(params=sorted(OPEN_TO_ANONYMOUS))
def open_query(request: pytest.FixtureRequest) -> tuple[httpx.AsyncClient, str]:
    """A subgraph, and a query it answers without a token."""
    client: httpx.AsyncClient = request.getfixturevalue(request.param)
    return client, OPEN_TO_ANONYMOUS[request.param]


@pytest.mark.parametrize("kind", sorted(forged()))
async def test_a_bad_token_is_unauthenticated_even_where_anonymous_callers_are_welcome(
    open_query: tuple[httpx.AsyncClient, str], kind: str
) -> None:
    client, query = open_query
    assert "errors" not in await gql(client, query)
    body = await gql(client, query, as_=forged()[kind])
    assert codes(body) == ["UNAUTHENTICATED"], body
    assert body["data"] is None
    assert body["errors"][0]["message"] in ("Invalid token", "Token expired")


async def test_no_token_is_anonymous(purchase: httpx.AsyncClient) -> None:
    assert await gql(purchase, "{ me { id } }") == {"data": {"me": None}}
    body = await gql(purchase, 'mutation { createUserCategory(name: "x") { id } }')
    assert (codes(body), body["errors"][0]["message"]) == (["UNAUTHENTICATED"], "Authentication required")


async def test_update_me_changes_only_the_caller(purchase: httpx.AsyncClient) -> None:
    alice, _ = await register(purchase, "alice")
    bob, _ = await register(purchase, "bob")
    body = await gql(
        purchase, 'mutation { updateMe(input: {firstName: "Alicia"}) { firstName secondName } }', as_=alice
    )
    assert body["data"]["updateMe"] == {"firstName": "Alicia", "secondName": "Liddell"}
    bob_me = await gql(purchase, "{ me { firstName } }", as_=bob)
    assert bob_me["data"]["me"]["firstName"] == "Alice"


async def test_user_by_id_is_yourself_or_admin(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase, "alice")
    _, bob_id = await register(purchase, "bob")
    own = await gql(purchase, f'{{ user(id: "{alice_id}") {{ login }} }}', as_=alice)
    assert own["data"]["user"]["login"] == "alice"
    other = await gql(purchase, f'{{ user(id: "{bob_id}") {{ login }} }}', as_=alice)
    assert codes(other) == ["FORBIDDEN"]
    admin = token(99, Role.ADMIN)
    assert (await gql(purchase, f'{{ user(id: "{bob_id}") {{ login }} }}', as_=admin))["data"]["user"][
        "login"
    ] == "bob"
    missing = await gql(purchase, '{ user(id: "12345") { login } }', as_=admin)
    assert missing["data"]["user"] is None and "errors" not in missing
    garbage = await gql(purchase, '{ user(id: "abc") { login } }', as_=admin)
    assert codes(garbage) == ["BAD_USER_INPUT"]


async def test_user_entity_resolves_for_its_owner_only(purchase: httpx.AsyncClient) -> None:
    alice, alice_id = await register(purchase, "alice")
    _, bob_id = await register(purchase, "bob")
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { login } } }"
    mine = await gql(purchase, query, {"r": [{"__typename": "User", "id": alice_id}]}, as_=alice)
    assert mine["data"]["_entities"] == [{"login": "alice"}]
    theirs = await gql(purchase, query, {"r": [{"__typename": "User", "id": bob_id}]}, as_=alice)
    assert codes(theirs) == ["FORBIDDEN"]


async def test_failed_logins_block_that_login_for_a_while(purchase: httpx.AsyncClient) -> None:
    await register(purchase, "alice")
    await register(purchase, "bob")
    for _ in range(5):
        assert codes(await gql(purchase, LOGIN, {"l": "alice", "p": "guess-guess"})) == ["UNAUTHENTICATED"]
    blocked = await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})  # even the right password
    [error] = blocked["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 890 <= error["extensions"]["retryAfterSeconds"] <= 900
    assert "errors" not in await gql(purchase, LOGIN, {"l": "bob", "p": "correct-horse"})  # others are not


async def test_a_successful_login_forgets_the_failures(purchase: httpx.AsyncClient) -> None:
    await register(purchase, "alice")
    for _ in range(2):
        for _ in range(4):
            assert codes(await gql(purchase, LOGIN, {"l": "alice", "p": "guess-guess"})) == [
                "UNAUTHENTICATED"
            ]
        assert "errors" not in await gql(purchase, LOGIN, {"l": "alice", "p": "correct-horse"})


async def test_unknown_logins_and_wrong_passwords_cost_one_password_check_each(
    purchase: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(purchase, "alice")
    calls: list[str] = []
    real = auth._hasher

    class Counting:
        def verify(self, *args: Any) -> bool:
            calls.append("verify")
            return real.verify(*args)

        def hash(self, *args: Any) -> str:
            calls.append("hash")
            return real.hash(*args)

    monkeypatch.setattr(auth, "_hasher", Counting())
    for login in ("alice", "nobody", "nobody-else"):
        calls.clear()
        assert codes(await gql(purchase, LOGIN, {"l": login, "p": "guess-guess"})) == ["UNAUTHENTICATED"]
        assert calls == ["verify"], login
