"""Trusted documents through a real router in production: the web app's documents (web/src/gql/
persisted-documents.json) are accepted by hash, anything else is refused, except what the services send with
their SERVICE token (the factory's deliveries go through the router)."""

import json
import re
from typing import Any

import httpx
import pytest

from tests.e2e.helpers import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    PRODUCTION,
    create_admin,
    poll,
    stack_fixture,
)
from tests.e2e.subscriptions import Socket
from tools.stack import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

MANIFEST: dict[str, str] = json.loads((ROOT / "web" / "src" / "gql" / "persisted-documents.json").read_text())


def document_hash(name: str) -> str:
    """The manifest key of the web app's operation `name` (its document may start with the fragments it uses)."""
    keys = [
        key for key, text in MANIFEST.items() if re.search(rf"\b(query|mutation|subscription) {name}\b", text)
    ]
    assert len(keys) == 1, name
    return keys[0]


production = stack_fixture("trusted", PRODUCTION)


async def persisted(
    http: httpx.AsyncClient, stack: Stack, name: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """The data of the web app's operation `name`, sent by hash as the app sends it."""
    body = {
        "operationName": name,
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_hash(name)}},
    }
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(stack.router_url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


async def test_production_accepts_the_known_documents_only(
    production: Stack, http: httpx.AsyncClient
) -> None:
    shops = await persisted(http, production, "Shops", {"first": 5})
    assert shops["shops"]["totalCount"] == 0

    unknown = await http.post(
        production.router_url,
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "sha256:" + "0" * 64}}},
    )
    assert unknown.status_code == 400, unknown.text
    assert [e["extensions"]["code"] for e in unknown.json()["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]

    # The text of a known document, sent as text, is not trusted either: only hashes are.
    for query in ("{ shops { totalCount } }", MANIFEST[document_hash("Shops")]):
        refused = await http.post(production.router_url, json={"query": query, "variables": {"first": 5}})
        assert refused.status_code == 400, refused.text
        assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["PERSISTED_QUERY_ONLY"]


async def test_the_factory_still_delivers_through_the_router_with_its_service_token(
    production: Stack, http: httpx.AsyncClient
) -> None:
    create_admin(production)
    login = await persisted(http, production, "Login", {"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD})
    admin = login["login"]["token"]
    shop = await persisted(
        http,
        production,
        "CreateShop",
        {"input": {"name": "Trusted", "address": "1 Main St", "phone": "1"}},
        admin,
    )
    product = await persisted(
        http,
        production,
        "AddProduct",
        {"input": {"shopId": shop["createShop"]["id"], "name": "Bolts", "price": 100, "stock": 0}},
        admin,
    )
    factory = await persisted(http, production, "CreateFactory", {"name": "Works"}, admin)
    craft = {
        "factoryId": factory["createFactory"]["id"],
        "productId": product["addProduct"]["id"],
        "countPerRun": 4,
        "intervalSeconds": 1,
    }
    await persisted(http, production, "CreateCraft", {"input": craft}, admin)

    async def runs() -> list[dict[str, Any]]:
        data = await persisted(http, production, "Factories", {"runs": 5}, admin)
        return [run for run in data["factories"][0]["crafts"][0]["runs"] if run["status"] != "PENDING"]

    settled = await poll(runs, lambda found: len(found) >= 2, within=60)
    assert {run["status"] for run in settled} == {"DELIVERED"}, settled


async def test_a_subscription_is_a_trusted_document_too(production: Stack) -> None:
    """The web app's live documents run by hash over WebSocket; their text, sent as text, is refused."""
    shops = (
        "subscription LiveStock($productIds: [ID!]!) { stockChanged(productIds: $productIds) { id stock } }"
    )
    async with Socket.open(production.router_url) as socket:
        by_hash = await socket.subscribe(
            "",
            {"productIds": ["999999"]},
            extensions={"persistedQuery": {"version": 1, "sha256Hash": document_hash("LiveStock")}},
        )
        # It ran: the shop itself refused the unknown product.
        assert await by_hash.codes() == ["BAD_USER_INPUT"]
        as_text = await socket.subscribe(shops, {"productIds": ["1"]})
        assert await as_text.codes() == ["PERSISTED_QUERY_ONLY"]
