"""The router's limits: deep or alias-heavy queries, huge and malformed bodies get a 4xx and a code, never a 5xx."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import PRODUCTION, Router, bought, codes, create_catalog, register, stack_fixture
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

TWO_MB = 2 * 1024 * 1024


def nested(depth: int) -> str:
    """me { purchases { nodes { check { purchase { check ... { id } } } } } }, `depth` fields deep."""
    fields = ["me", "purchases", "nodes"]
    while len(fields) < depth - 1:
        fields.append("check" if len(fields) % 2 == 1 else "purchase")
    return "{ " + "".join(f"{field} {{ " for field in fields) + "id" + " }" * len(fields) + " }"


def aliases(count: int, field: str = "me { id }") -> str:
    return "{ " + " ".join(f"a{n}: {field}" for n in range(count)) + " }"


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A 4xx answer with a GraphQL error carrying `code`, and no data."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert codes(body) == [code], body
    assert body.get("data") is None
    return body


async def test_depth_15_is_answered_and_depth_16_is_refused(router: Router, admin: str) -> None:
    assert (
        len(nested(16).replace("{", " ").replace("}", " ").split()) == 16
    )  # 16 fields, one inside the other
    catalog = await create_catalog(router, admin, {"Deep": [("Well", 100, 5)]}, prefix="Limits")
    customer = await register(router, "deep")
    check = await bought(router, customer.token, catalog.shop_id, [(catalog.products["Well"].id, 1)])

    body = await router.call(nested(15), token=customer.token)
    assert "errors" not in body, body
    node = body["data"]["me"]["purchases"]["nodes"][0]
    hops = 0
    while "id" not in node:  # check -> purchase -> check ... comes back round to the same purchase or check
        node = node["check"] if "check" in node else node["purchase"]
        hops += 1
    assert hops == 11
    assert node == {"id": check.id}

    body = refused(await router.post(nested(16), token=customer.token), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "depth" in body["errors"][0]["message"].lower()


async def test_100_aliases_are_answered_and_101_are_refused(router: Router) -> None:
    customer = await register(router, "aliases")
    body = await router.call(aliases(100), token=customer.token)
    assert "errors" not in body, body
    assert body["data"] == {f"a{n}": {"id": customer.id} for n in range(100)}

    body = refused(await router.post(aliases(101), token=customer.token), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "alias" in body["errors"][0]["message"].lower()
    refused(await router.post(aliases(101, "shops { totalCount }")), 400, "GRAPHQL_VALIDATION_FAILED")


async def test_101_typename_aliases_are_refused_too(router: Router) -> None:
    refused(await router.post(aliases(101, "__typename")), 400, "GRAPHQL_VALIDATION_FAILED")


async def test_a_2_mb_body_is_refused_with_413(router: Router) -> None:
    payload = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * TWO_MB}}).encode()
    response = await router.client.post(
        router.url, content=payload, headers={"content-type": "application/json"}
    )
    refused(response, 413, "PAYLOAD_TOO_LARGE")

    # Without a Content-Length (chunked), counted while reading. The router reads a refused body of this
    # size to its end before answering, so the client gets its 413 (not a reset) and keeps its connection.
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(3):
            response = await client.post(
                router.url, content=chunks(), headers={"content-type": "application/json"}
            )
            refused(response, 413, "PAYLOAD_TOO_LARGE")
            after = await client.post(router.url, json={"query": "{ __typename }"})
            assert after.json() == {"data": {"__typename": "Query"}}

    # Just under the limit is fine.
    small = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 900_000}}).encode()
    response = await router.client.post(
        router.url, content=small, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


MALFORMED: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "bad json",
        {"content": b"{bad json", "headers": {"content-type": "application/json"}},
        400,
        "BAD_REQUEST",
    ),
    (
        "truncated json",
        {"content": b'{"query": "{ shops', "headers": {"content-type": "application/json"}},
        400,
        "BAD_REQUEST",
    ),
    ("no query", {"json": {"variables": {}}}, 400, "BAD_REQUEST"),
    ("batch", {"json": [{"query": "{ __typename }"}, {"query": "{ __typename }"}]}, 400, "BAD_REQUEST"),
    ("variables not an object", {"json": {"query": "{ __typename }", "variables": "x"}}, 400, "BAD_REQUEST"),
    ("graphql syntax", {"json": {"query": "{ shops { "}}, 400, "GRAPHQL_PARSE_FAILED"),
    ("unknown field", {"json": {"query": "{ nosuch }"}}, 400, "GRAPHQL_VALIDATION_FAILED"),
    (
        "text/plain",
        {"content": b"{ __typename }", "headers": {"content-type": "text/plain"}},
        415,
        "BAD_REQUEST",
    ),
]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
async def test_malformed_requests_get_a_4xx_with_a_code(
    router: Router, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = await router.client.post(router.url, **request_kwargs)
    body = refused(response, status, code)
    message = json.dumps(body)
    assert (
        "Traceback" not in message
        and "node_modules" not in message
        and " at " not in body["errors"][0]["message"]
    )
    # The router keeps serving.
    after = await router.client.post(router.url, json={"query": "{ __typename }"})
    assert after.status_code == 200


async def test_a_query_of_more_than_1000_tokens_is_refused(router: Router) -> None:
    within = "{ " + " ".join(["__typename"] * 500) + " }"
    assert "errors" not in await router.call(within)
    beyond = "{ " + " ".join(["__typename"] * 1000) + " }"  # 1,002 tokens
    body = refused(await router.post(beyond), 400, "GRAPHQL_VALIDATION_FAILED")
    assert "token" in body["errors"][0]["message"].lower()


SHOP_ORIGIN = "https://shop.example"
# The system as deployed: production settings, one allowed browser origin. These tests send their own
# documents; trusted documents, on by default in production, have theirs (test_trusted_documents.py).
production = stack_fixture(
    "production", {**PRODUCTION, "ROUTER_CORS_ORIGINS": SHOP_ORIGIN, "ROUTER_TRUSTED_DOCUMENTS": "0"}
)


async def test_in_production_the_schema_is_not_given_away(production: Stack, http: httpx.AsyncClient) -> None:
    router = Router(http, production.router_url)
    introspection = await router.post("{ __schema { types { name } } }")
    assert introspection.status_code == 400, introspection.text
    assert "introspection" in introspection.text.lower()
    typo = (await router.post("{ shopz { totalCount } }")).json()
    assert codes(typo) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "did you mean" not in json.dumps(typo).lower()
    assert (await router.data("{ shops { totalCount } }"))["shops"]["totalCount"] == 0


async def test_cors_allows_the_configured_origin_only(production: Stack, http: httpx.AsyncClient) -> None:
    def preflight(origin: str) -> httpx.Request:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        return http.build_request("OPTIONS", production.router_url, headers=headers)

    allowed = await http.send(preflight(SHOP_ORIGIN))
    assert allowed.headers.get("access-control-allow-origin") == SHOP_ORIGIN
    other = await http.send(preflight("https://evil.example"))
    # Never that origin, nor any: a browser on another site gets no permission to read the answer.
    assert other.headers.get("access-control-allow-origin") not in ("https://evil.example", "*")
