"""Helpers of the end-to-end tests: GraphQL calls through the router, users, a catalog, buys, log counting."""

import functools
import itertools
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import create_engine, text

from client.service_tree_client import (
    AddProductInput,
    BuyBuy,
    BuyInput,
    BuyItem,
    CraftRunsCraftRuns,
    CreateCraftCreateCraft,
    CreateCraftInput,
    CreateFactoryCreateFactory,
    CreateShopInput,
    GraphQLClientGraphQLMultiError,
    LoginLogin,
    Payment,
    RegisterInput,
    Role,
)
from subgraphs._common.db import sync_url
from tests import support
from tests.databases import Databases
from tests.support import auth
from tools import client
from tools.client import Client, SyncGraph, refused
from tools.processes import stop
from tools.stack import ROOT, Stack

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
    return _running(data_dir, databases, workers, environment)


def _running(
    data_dir: Path, databases: Databases, workers: int, environment: Mapping[str, str]
) -> AbstractContextManager[Stack]:
    stack = Stack.on_free_ports(data_dir, **environment)
    # Trusting the test process's identity: `support.token` signs tokens its processes accept.
    started = replace(
        stack, databases=databases.for_stack(data_dir), workers=workers, identity_dir=support.IDENTITY
    )
    return started.running()


def stack_fixture(
    folder: str,
    environment: Mapping[str, str] | None = None,
    *,
    scope: Literal["function", "module"] = "module",
) -> Any:
    """A fixture of a stack (see `running_stack`) with extra `environment`, for each test or each module of
    tests; its logs and files under a temporary folder named `folder`."""

    @pytest.fixture(scope=scope)
    def fixture(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Stack]:
        with _running(tmp_path_factory.mktemp(folder), databases, 1, environment or {}) as started:
            yield started

    return fixture


# The settings of a production deployment (trusted documents only, no introspection; the stack names its key
# and credential files).
PRODUCTION = {"SERVICE_TREE_ENV": "production"}


def create_admin(stack: Stack, login: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> None:
    """Create an ADMIN with the real operator command, as an operator would."""
    output = stack.create_admin(login, password)
    assert f"created ADMIN '{login}'" in output


def admin_token(stack: Stack, login: str = ADMIN_LOGIN, password: str = ADMIN_PASSWORD) -> str:
    """Create the ADMIN and log in as it through the router."""
    create_admin(stack, login, password)
    with SyncGraph(stack.router_url) as graph:
        payload = graph.run(graph.api.login(login=login, password=password)).login
    assert payload.user.role == Role.ADMIN
    return payload.token


def codes(answer: dict[str, Any] | GraphQLClientGraphQLMultiError) -> list[str]:
    """The extensions.code of every error: of a raw body, or of the refusal of a typed operation."""
    if isinstance(answer, GraphQLClientGraphQLMultiError):
        return client.codes(answer)
    return support.codes(answer)


@dataclass
class Router:
    """GraphQL over HTTP to the router (or, when a test needs it, to one subgraph): the typed client's
    operations through `as_`, and raw documents (for the tests that send their own) through `call`."""

    client: httpx.AsyncClient
    url: str

    def as_(self, token: str | None = None) -> Client:
        """The typed client, with `token` (anonymous without)."""
        return client.graph(self.client, self.url, token)

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

    async def field(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> Any:
        """The value of the one root field of a request that must succeed without errors."""
        data = await self.data(query, variables, token=token)
        assert len(data) == 1, data
        return next(iter(data.values()))


@dataclass
class Customer:
    id: str
    login: str
    password: str
    token: str


async def register(router: Router, prefix: str = "cust", *, first_name: str = "Ivan") -> Customer:
    """A new CUSTOMER, registered through the router."""
    login = unique(prefix)
    account = RegisterInput(login=login, password=PASSWORD, first_name=first_name, second_name="Petrov")
    payload = (await router.as_().register(input=account)).registered
    assert payload.user.login == login
    assert payload.user.role == Role.CUSTOMER
    return Customer(id=payload.user.id, login=login, password=PASSWORD, token=payload.token)


async def login(router: Router, login: str, password: str) -> LoginLogin:
    """The login payload (token and user id)."""
    return (await router.as_().login(login=login, password=password)).login


@dataclass
class Product:
    id: str
    name: str
    price: int
    category: str | None
    shop_id: str


@dataclass
class Catalog:
    shop_id: str
    name: str
    address: str
    phone: str
    categories: dict[str, str] = field(default_factory=dict)  # name -> id
    products: dict[str, Product] = field(default_factory=dict)  # name -> product


async def create_catalog(
    router: Router, admin: str, products: dict[str, list[tuple[str, int, int]]], *, prefix: str = "Shop"
) -> Catalog:
    """A shop with categories and products, created as ADMIN through the router.

    `products` maps a category name to (product name, price, stock) triples.
    """
    api = router.as_(admin)
    name = unique(prefix)
    address = f"{next(_serial)} Tverskaya St, Moscow"
    shop = (
        await api.create_shop(input=CreateShopInput(name=name, address=address, phone="+7 495 123-45-67"))
    ).create_shop
    assert (shop.name, shop.address) == (name, address)
    catalog = Catalog(shop_id=shop.id, name=name, address=address, phone=shop.phone)
    for category_name, items in products.items():
        category = (await api.create_category(shop_id=catalog.shop_id, name=category_name)).create_category
        catalog.categories[category_name] = category.id
        for product_name, price, stock in items:
            product = (
                await api.add_product(
                    input=AddProductInput(
                        shop_id=catalog.shop_id,
                        name=product_name,
                        description=f"{product_name}, fresh",
                        price=price,
                        category_id=category.id,
                        stock=stock,
                    )
                )
            ).add_product
            assert (product.price, product.stock) == (price, stock)
            assert product.category is not None
            assert (product.category.id, product.category.name) == (category.id, category_name)
            catalog.products[product_name] = Product(
                product.id, product_name, price, category_name, catalog.shop_id
            )
    return catalog


async def create_product(
    router: Router, admin: str, category: str, product: tuple[str, int, int], *, prefix: str
) -> Product:
    """One product (name, price, stock) in a category of a new shop, created as ADMIN through the router."""
    catalog = await create_catalog(router, admin, {category: [product]}, prefix=prefix)
    return catalog.products[product[0]]


async def buy(
    router: Router,
    token: str | None,
    shop_id: str,
    items: list[tuple[str, int]],
    *,
    name: str = "Groceries",
    payment: str = "CARD",
    idempotency_key: str | None = None,
) -> BuyBuy | GraphQLClientGraphQLMultiError:
    """The check of a buy, or the errors it was refused with: `items` are (product id, quantity) pairs."""
    order = BuyInput(
        shop_id=shop_id,
        items=[BuyItem(product_id=pid, quantity=quantity) for pid, quantity in items],
        payment=Payment(payment),
        purchase_name=name,
    )
    if idempotency_key is not None:
        order.idempotency_key = idempotency_key
    answer = await refused(router.as_(token).buy(input=order))
    return answer if isinstance(answer, GraphQLClientGraphQLMultiError) else answer.buy


async def bought(
    router: Router, token: str, shop_id: str, items: list[tuple[str, int]], **kwargs: Any
) -> BuyBuy:
    """The check of a buy that must succeed."""
    check = await buy(router, token, shop_id, items, **kwargs)
    assert not isinstance(check, GraphQLClientGraphQLMultiError), codes(check)
    return check


LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }"
# A delivery of $n units of product $p under key $k (ADMIN), as a raw document.
DELIVER = (
    "mutation($p: ID!, $k: String!, $n: Int!) { deliver(input: {productId: $p, count: $n, key: $k}) { id } }"
)
# Through the router every probe is a real request: a slower pace than in-process tests need.
poll = functools.partial(support.poll, interval=0.2)


def post(url: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    """The data of a GraphQL request over plain HTTP (no client of this checkout's schema), which must succeed."""
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=auth(token), timeout=30)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def make_admin(url: str, data_dir: Path, login: str) -> str:
    """Create an ADMIN with `make admin`, which finds the purchase database of the run whose data is in
    `data_dir`, then log in as it through the router at `url`; its token."""
    password = f"{login}-password-0123"
    made = subprocess.run(
        ["make", "-s", "admin", f"LOGIN={login}", "PASSWORD_STDIN=1"],
        input=password + "\n",
        env={**os.environ, "SERVICE_TREE_DATA": str(data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert f"created ADMIN '{login}'" in made.stdout + made.stderr, made
    token: str = post(url, LOGIN, l=login, p=password)["login"]["token"]
    return token


def launcher_env(tree: Path, data_dir: Path, ports: dict[str, int], **extra: str) -> dict[str, str]:
    """The environment of `make run`'s program in `tree`: every process on `ports`, data under `data_dir`."""
    return {
        **os.environ,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "SERVICE_TREE_DATA": str(data_dir),
        "PYTHONPATH": str(tree),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


@contextmanager
def launched(
    tree: Path, env: dict[str, str], *options: str, within: float = 180
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`make run`'s program (`python -m tools.run`) started in `tree`, and what it printed until it was up
    (or ended, or `within` seconds passed); stopped with Ctrl-C afterwards, as a user would, whatever happened."""
    with subprocess.Popen(
        [sys.executable, "-m", "tools.run", *options],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as runner:
        try:
            assert runner.stdout is not None
            lines: list[str] = []
            deadline = time.monotonic() + within
            while time.monotonic() < deadline and (line := runner.stdout.readline()):
                lines.append(line)
                if "Ctrl-C stops everything" in line:
                    break
            yield runner, "".join(lines)
        finally:
            stop(runner, signal.SIGINT)  # the runner stops the processes it started, then exits


def graphql_posts(stack: Stack, subgraph: str) -> int:
    """How many POST /graphql requests the subgraph has logged (uvicorn's access log)."""
    log = stack.data_dir / "logs" / f"{subgraph}.log"
    return sum('"POST /graphql' in line for line in log.read_text(errors="replace").splitlines())


# --- factory ------------------------------------------------------------------------------------------------

# Wall clock slack between this process and the subgraphs (same host, same clock: only rounding and latency).
SLACK = 0.05
# The crafts' grid step in the tests that run crafts every second.
SECOND = timedelta(seconds=1)
PAUSE_CRAFT = "mutation($id: ID!) { pauseCraft(id: $id) { id active nextRunAt } }"


def parse_time(value: str | datetime | None) -> datetime:
    """A DateTime of the API (ISO-8601 with offset, or as the typed client parsed it), checked to be
    timezone-aware."""
    assert value is not None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


async def create_factory(router: Router, admin: str, prefix: str = "Works") -> CreateFactoryCreateFactory:
    """A new factory (id, name, createdAt), created as ADMIN through the router."""
    name = unique(prefix)
    factory = (await router.as_(admin).create_factory(name=name)).create_factory
    assert factory.name == name
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
) -> CreateCraftCreateCraft:
    """A new craft, created as ADMIN through the router."""
    made = CreateCraftInput(
        factory_id=factory_id,
        product_id=product_id,
        count_per_run=count,
        interval_seconds=interval,
        active=active,
    )
    craft = (await router.as_(admin).create_craft(input=made)).create_craft
    assert (craft.count_per_run, craft.interval_seconds, craft.active) == (count, interval, active)
    assert craft.factory.id == factory_id
    assert craft.product.id == product_id
    return craft


@asynccontextmanager
async def craft_running(
    router: Router, admin: str, factory_id: str, product_id: str, *, count: int, interval: int
) -> AsyncIterator[CreateCraftCreateCraft]:
    """A new active craft (`create_craft`), paused on leaving: else it would go on delivering through the
    tests that come later."""
    craft = await create_craft(router, admin, factory_id, product_id, count=count, interval=interval)
    try:
        yield craft
    finally:
        await router.data(PAUSE_CRAFT, {"id": craft.id}, token=admin)


async def craft_runs(router: Router, admin: str, craft_id: str) -> list[CraftRunsCraftRuns]:
    """The craft's newest 50 runs, newest first (the craft must exist)."""
    craft = (await router.as_(admin).craft_runs(id=craft_id)).craft
    assert craft is not None, craft_id
    return craft.runs


async def settled_runs(
    router: Router, admin: str, craft_id: str, *, within: float
) -> list[CraftRunsCraftRuns]:
    """The craft's runs once none is PENDING (or whatever they are after `within` seconds)."""
    return await poll(
        lambda: craft_runs(router, admin, craft_id),
        lambda runs: all(run.status != "PENDING" for run in runs),
        within=within,
    )


async def delivering_craft(
    router: Router, admin: str, product_id: str, *, count: int, prefix: str, delivered: int = 1
) -> tuple[CreateCraftCreateCraft, list[CraftRunsCraftRuns]]:
    """A new factory's craft making `count` of the product every second, once `delivered` of its runs have
    been delivered; and its runs then."""
    factory = await create_factory(router, admin, prefix)
    craft = await create_craft(router, admin, factory.id, product_id, count=count, interval=1)

    def enough(runs: list[CraftRunsCraftRuns]) -> bool:
        return sum(run.status == "DELIVERED" for run in runs) >= delivered

    runs = await poll(lambda: craft_runs(router, admin, craft.id), enough, within=30 + 2 * delivered)
    assert enough(runs), runs
    return craft, runs


async def stock_of(router: Router, product_id: str) -> int:
    """A product's stock, read anonymously through the router."""
    product = (await router.as_().product_stock(id=product_id)).product
    assert product is not None, product_id
    return product.stock


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
