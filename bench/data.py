"""The benchmark's data, made through the router as a user would: a shop with stocked products, customers,
their purchases."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from bench.system import ADMIN_LOGIN, ADMIN_PASSWORD, System
from client.service_tree_client import (
    AddProductInput,
    BuyInput,
    BuyItem,
    CreateShopInput,
    Payment,
    RegisterInput,
)
from tools.client import SyncGraph, document
from tools.polling import poll

PASSWORD = "bench-password"
BUY = document("QuickBuy")
SETUP_THREADS = 4


@dataclass(frozen=True)
class Catalog:
    """A shop and its products (one category)."""

    shop_id: str
    product_ids: list[str]

    def order(self, lines: int) -> BuyInput:
        """One unit of each of the first `lines` products (no idempotency key: each buy works)."""
        items = [BuyItem(product_id=product_id, quantity=1) for product_id in self.product_ids[:lines]]
        return BuyInput(shop_id=self.shop_id, items=items, payment=Payment.CARD, purchase_name="bench")


def variables(order: BuyInput) -> dict[str, Any]:
    """BUY's variables for `order`, as JSON."""
    return {"input": order.model_dump(mode="json", by_alias=True, exclude_unset=True)}


@dataclass(frozen=True)
class User:
    """A registered user's id and login."""

    id: str
    login: str


@dataclass(frozen=True)
class Customer:
    """A registered customer, as `register` answers it: its token and its user."""

    token: str
    user: User


# Logging in and registering with documents every tree the benchmark compares answers (the typed client's
# ask for what newer trees give, such as refresh tokens).
_LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }"
_REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token user { id } } }"


def _answer(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = httpx.post(url, json={"query": query, "variables": variables}, timeout=60).json()
    if body.get("errors"):
        raise RuntimeError(f"refused: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def admin(system: System) -> SyncGraph:
    """The typed client of the system's router, logged in as its ADMIN (other tokens go through `as_`)."""
    graph = SyncGraph(system.router_url)
    graph.token = _answer(system.router_url, _LOGIN, {"l": ADMIN_LOGIN, "p": ADMIN_PASSWORD})["login"][
        "token"
    ]
    return graph


def catalog(graph: SyncGraph, name: str, products: int, stock: int) -> Catalog:
    """A new shop with one category and `products` products of `stock` units each."""
    api = graph.api
    shop_id = graph.run(
        api.create_shop(input=CreateShopInput(name=name, address="Bench st. 1", phone="-"))
    ).create_shop.id
    category_id = graph.run(api.create_category(shop_id=shop_id, name="Bench goods")).create_category.id
    product_ids = [
        graph.run(
            api.add_product(
                input=AddProductInput(
                    shop_id=shop_id, name=f"Item {n}", price=100 + n, stock=stock, category_id=category_id
                )
            )
        ).add_product.id
        for n in range(products)
    ]
    return Catalog(shop_id, product_ids)


def register(graph: SyncGraph, login: str) -> Customer:
    """A new CUSTOMER, registered through the router."""
    account = RegisterInput(login=login, password=PASSWORD, first_name="Bench", second_name="Customer")
    variables = {"i": account.model_dump(mode="json", by_alias=True)}
    payload = _answer(graph.url, _REGISTER, variables)["register"]
    return Customer(payload["token"], User(payload["user"]["id"], login))


def customers(graph: SyncGraph, prefix: str, count: int) -> list[Customer]:
    """`count` new customers, registered a few at a time."""
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        return list(pool.map(lambda n: register(graph, f"{prefix}{n}"), range(count)))


def buy(graph: SyncGraph, customer: Customer, order: BuyInput, count: int) -> None:
    """`count` buys of `order` by `customer` through the router, a few at a time."""
    shares = [count // SETUP_THREADS + (n < count % SETUP_THREADS) for n in range(SETUP_THREADS)]
    api = graph.as_(customer.token)

    def work(share: int) -> None:
        for _ in range(share):
            graph.run(api.quick_buy(input=order))

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        list(pool.map(work, [share for share in shares if share]))


def purchases_of(graph: SyncGraph, customer: Customer) -> int:
    """How many purchases the purchase subgraph holds for `customer`."""
    me = graph.run(graph.as_(customer.token).my_purchase_count()).me
    if me is None:
        raise RuntimeError(f"{customer.user.login}'s token was not taken")
    return me.purchases.total_count


def wait_purchases(graph: SyncGraph, customer: Customer, expected: int, timeout: float = 60.0) -> int:
    """Wait until the customer's purchases are all recorded (the outbox may be sending); how many are."""
    return poll(lambda: purchases_of(graph, customer), lambda n: n >= expected, within=timeout, interval=0.5)
