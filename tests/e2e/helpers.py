"""Helpers of the end-to-end tests: GraphQL calls through the router, users, a catalog, buys, log counting."""

import asyncio
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import create_engine, text

from subgraphs._common.db import sync_url
from tests.databases import Databases
from tests.support import auth, codes
from tools.stack import Stack

__all__ = ["codes"]

T = TypeVar("T")

ADMIN_LOGIN = "root"
ADMIN_PASSWORD = "root-password-0123"
PASSWORD = "correct-horse-battery"

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test in this run uses (logins, shop names)."""
    return f"{prefix}_{next(_serial)}_{uuid.uuid4().hex[:6]}"


def running_stack(
    data_dir: Path, databases: Databases, *, workers: int = 1, **environment: str
) -> AbstractContextManager[Stack]:
    """A migrated, started stack on free ports, on fresh databases of the backend under test, with `workers`
    processes per subgraph and extra `environment` for every process (FACTORY_* settings, for instance);
    stopped afterwards whatever happened."""
    stack = Stack.on_free_ports(data_dir, **environment)
    return replace(stack, databases=databases.for_stack(data_dir), workers=workers).running()


def create_admin(stack: Stack, login: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> None:
    """Create an ADMIN with the real operator command, as an operator would."""
    output = stack.create_admin(login, password)
    assert f"created ADMIN '{login}'" in output


def admin_token(stack: Stack, login: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> str:
    """Create the ADMIN and log in as it through the router."""
    create_admin(stack, login, password)
    response = httpx.post(
        stack.router_url,
        json={
            "query": "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token user { role } } }",
            "variables": {"l": login, "p": password},
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["login"]
    assert payload["user"]["role"] == "ADMIN"
    token: str = payload["token"]
    return token


@dataclass
class Router:
    """GraphQL over HTTP to the router (or, when a test needs it, to one subgraph)."""

    client: httpx.AsyncClient
    url: str

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=auth(token)
        )

    async def call(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The whole body (data and errors) of a request answered with 200."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a request that must succeed without errors."""
        body = await self.call(query, variables, token=token)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


@dataclass
class Customer:
    id: str
    login: str
    password: str
    token: str


_REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { token expiresAt user { id login firstName secondName role } }
}
"""


async def register(router: Router, prefix: str = "cust", *, first_name: str = "Ivan") -> Customer:
    """A new CUSTOMER, registered through the router."""
    login = unique(prefix)
    data = await router.data(
        _REGISTER,
        {"input": {"login": login, "password": PASSWORD, "firstName": first_name, "secondName": "Petrov"}},
    )
    payload = data["register"]
    assert payload["user"]["login"] == login
    assert payload["user"]["role"] == "CUSTOMER"
    return Customer(id=payload["user"]["id"], login=login, password=PASSWORD, token=payload["token"])


_LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token user { id } } }"


async def login(router: Router, login: str, password: str) -> dict[str, Any]:
    """The login payload (token and user id)."""
    payload: dict[str, Any] = (await router.data(_LOGIN, {"l": login, "p": password}))["login"]
    return payload


@dataclass
class Product:
    id: str
    name: str
    price: int
    category: str | None


@dataclass
class Catalog:
    shop_id: str
    name: str
    address: str
    phone: str
    categories: dict[str, str] = field(default_factory=dict)  # name -> id
    products: dict[str, Product] = field(default_factory=dict)  # name -> product


_CREATE_SHOP = "mutation($input: CreateShopInput!) { createShop(input: $input) { id name address phone } }"
_CREATE_CATEGORY = (
    "mutation($shop: ID!, $name: String!) { createCategory(shopId: $shop, name: $name) { id name } }"
)
_ADD_PRODUCT = """
mutation($input: AddProductInput!) {
  addProduct(input: $input) { id name price stock category { id name } shop { id } }
}
"""


async def create_catalog(
    router: Router, admin: str, products: dict[str, list[tuple[str, int, int]]], *, prefix: str = "Shop"
) -> Catalog:
    """A shop with categories and products, created as ADMIN through the router.

    `products` maps a category name to (product name, price, stock) triples.
    """
    name = unique(prefix)
    address = f"{next(_serial)} Tverskaya St, Moscow"
    shop = (
        await router.data(
            _CREATE_SHOP,
            {"input": {"name": name, "address": address, "phone": "+7 495 123-45-67"}},
            token=admin,
        )
    )["createShop"]
    assert (shop["name"], shop["address"]) == (name, address)
    catalog = Catalog(shop_id=shop["id"], name=name, address=address, phone=shop["phone"])
    for category_name, items in products.items():
        category = (
            await router.data(_CREATE_CATEGORY, {"shop": catalog.shop_id, "name": category_name}, token=admin)
        )["createCategory"]
        catalog.categories[category_name] = category["id"]
        for product_name, price, stock in items:
            product = (
                await router.data(
                    _ADD_PRODUCT,
                    {
                        "input": {
                            "shopId": catalog.shop_id,
                            "name": product_name,
                            "description": f"{product_name}, fresh",
                            "price": price,
                            "categoryId": category["id"],
                            "stock": stock,
                        }
                    },
                    token=admin,
                )
            )["addProduct"]
            assert (product["price"], product["stock"]) == (price, stock)
            assert product["category"] == {"id": category["id"], "name": category_name}
            catalog.products[product_name] = Product(product["id"], product_name, price, category_name)
    return catalog


BUY = """
mutation Buy($input: BuyInput!) {
  buy(input: $input) { id number total payment createdAt shop { id } lines { quantity unitPrice total product { id } } }
}
"""


async def buy(
    router: Router,
    token: str | None,
    shop_id: str,
    items: list[tuple[str, int]],
    *,
    name: str = "Groceries",
    payment: str = "CARD",
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """The whole body of a buy (data or errors): `items` are (product id, quantity) pairs."""
    variables: dict[str, Any] = {
        "input": {
            "shopId": shop_id,
            "items": [{"productId": pid, "quantity": quantity} for pid, quantity in items],
            "payment": payment,
            "purchaseName": name,
        }
    }
    if idempotency_key is not None:
        variables["input"]["idempotencyKey"] = idempotency_key
    return await router.call(BUY, variables, token=token)


async def bought(
    router: Router, token: str, shop_id: str, items: list[tuple[str, int]], **kwargs: Any
) -> dict[str, Any]:
    """The check of a buy that must succeed."""
    body = await buy(router, token, shop_id, items, **kwargs)
    assert not body.get("errors"), body
    check: dict[str, Any] = body["data"]["buy"]
    return check


async def poll(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, within: float, interval: float = 0.2
) -> T:
    """Call `probe` until `done(result)` or `within` seconds pass; the last result either way."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result) or time.monotonic() >= deadline:
            return result
        await asyncio.sleep(interval)


def graphql_posts(stack: Stack, subgraph: str) -> int:
    """How many POST /graphql requests the subgraph has logged (uvicorn's access log)."""
    log = stack.data_dir / "logs" / f"{subgraph}.log"
    return sum('"POST /graphql' in line for line in log.read_text(errors="replace").splitlines())


# --- factory ------------------------------------------------------------------------------------------------


def parse_time(value: str) -> datetime:
    """A DateTime of the API (ISO-8601 with offset), checked to be timezone-aware."""
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


_CREATE_FACTORY = "mutation($name: String!) { createFactory(name: $name) { id name createdAt } }"
CREATE_CRAFT = """
mutation($input: CreateCraftInput!) {
  createCraft(input: $input) {
    id countPerRun intervalSeconds active nextRunAt factory { id name } product { id name }
  }
}
"""
CRAFT_RUNS = """
query($id: ID!) {
  craft(id: $id) { id active nextRunAt runs(last: 50) { key status attempts scheduledAt finishedAt error } }
}
"""


async def create_factory(router: Router, admin: str, prefix: str = "Works") -> dict[str, Any]:
    """A new factory (id, name, createdAt), created as ADMIN through the router."""
    name = unique(prefix)
    factory: dict[str, Any] = (await router.data(_CREATE_FACTORY, {"name": name}, token=admin))[
        "createFactory"
    ]
    assert factory["name"] == name
    return factory


async def create_craft(
    router: Router,
    admin: str,
    factory_id: str,
    product_id: str,
    *,
    count: int,
    interval: int,
    active: bool = True,
) -> dict[str, Any]:
    """A new craft, created as ADMIN through the router."""
    variables = {
        "input": {
            "factoryId": factory_id,
            "productId": product_id,
            "countPerRun": count,
            "intervalSeconds": interval,
            "active": active,
        }
    }
    craft: dict[str, Any] = (await router.data(CREATE_CRAFT, variables, token=admin))["createCraft"]
    assert (craft["countPerRun"], craft["intervalSeconds"], craft["active"]) == (count, interval, active)
    assert craft["factory"]["id"] == factory_id
    assert craft["product"]["id"] == product_id
    return craft


async def craft_runs(router: Router, admin: str, craft_id: str) -> list[dict[str, Any]]:
    """The craft's newest 50 runs, newest first (the craft must exist)."""
    data = await router.data(CRAFT_RUNS, {"id": craft_id}, token=admin)
    assert data["craft"] is not None, data
    runs: list[dict[str, Any]] = data["craft"]["runs"]
    return runs


async def settled_runs(router: Router, admin: str, craft_id: str, *, within: float) -> list[dict[str, Any]]:
    """The craft's runs once none is PENDING (or whatever they are after `within` seconds)."""
    return await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: all(run["status"] != "PENDING" for run in runs),
        within=within,
    )


async def stock_of(router: Router, product_id: str) -> int:
    """A product's stock, read anonymously through the router."""
    data = await router.data("query($id: ID!) { product(id: $id) { stock } }", {"id": product_id})
    stock: int = data["product"]["stock"]
    return stock


def recorded_checks(stack: Stack) -> list[int]:
    """Every check id the shop's processes sent to be recorded, once per time sent (from their logs)."""
    log = (stack.data_dir / "logs" / "shop.log").read_text(errors="replace")
    return [int(check) for check in re.findall(r"recording the purchase of check (\d+)", log)]


def unsent_outbox_rows(stack: Stack) -> int:
    """How many purchases the shop has not yet had recorded (read from its database, on either backend)."""
    engine = create_engine(sync_url(stack.database_url("shop")))
    try:
        with engine.connect() as connection:
            count: int = connection.execute(
                text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return count
