"""Every subgraph applies the router's limits itself: depth, aliases, body size, malformed JSON."""

import httpx
import pytest

from subgraphs import registry
from tests.support import codes, gql

pytestmark = pytest.mark.db_agnostic


@pytest.fixture(params=registry.NAMES)
def client(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """An in-process client of each registered subgraph (the conftest fixture of the same name)."""
    client: httpx.AsyncClient = request.getfixturevalue(request.param)
    return client


def nested(depth: int) -> str:
    """shop(id) { categories { shop { categories { ... id } } } }, `depth` fields deep."""
    between = ["categories" if level % 2 == 0 else "shop" for level in range(depth - 2)]
    return (
        '{ shop(id: "1") { '
        + "".join(f"{field} {{ " for field in between)
        + "id"
        + " }" * len(between)
        + " } }"
    )


async def test_depth_limit(shop: httpx.AsyncClient) -> None:
    assert "errors" not in await gql(shop, nested(15))
    assert codes(await gql(shop, nested(16))) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_alias_limit(client: httpx.AsyncClient) -> None:
    ok = "{ " + " ".join(f"a{i}: __typename" for i in range(100)) + " }"
    too_many = "{ " + " ".join(f"a{i}: __typename" for i in range(101)) + " }"
    assert "errors" not in await gql(client, ok)
    assert codes(await gql(client, too_many)) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_large_bodies_are_refused_with_413(client: httpx.AsyncClient) -> None:
    padding = "#" + "x" * 1_100_000 + "\n"
    response = await client.post("/graphql", json={"query": padding + "{ __typename }"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{bad json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_unexpected_errors_are_masked(shop: httpx.AsyncClient) -> None:
    # A product id beyond SQLite's integer range is refused as input, not as a crash.
    body = await gql(shop, '{ product(id: "99999999999999999999999") { id } }')
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "Traceback" not in str(body) and "sqlite" not in str(body).lower()


async def test_token_limit(client: httpx.AsyncClient) -> None:
    within = "{ " + " ".join(["__typename"] * 500) + " }"
    beyond = "{ " + " ".join(["__typename"] * 1000) + " }"  # 1,002 tokens with the braces
    assert "errors" not in await gql(client, within)
    body = await gql(client, beyond)
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"], body
    assert "more than 1000 tokens" in body["errors"][0]["message"]


async def test_a_query_that_cannot_be_parsed_has_a_code(client: httpx.AsyncClient) -> None:
    assert codes(await gql(client, "{ unfinished")) == ["GRAPHQL_PARSE_FAILED"]
