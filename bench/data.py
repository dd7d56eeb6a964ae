"""The benchmark's data, made through the router as a user would: a shop with stocked products, customers,
their purchases."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bench.system import ADMIN_LOGIN, ADMIN_PASSWORD, System
from tools.client import GraphQLClient

PASSWORD = "bench-password"
BUY = "mutation($i: BuyInput!) { buy(input: $i) { id } }"
SETUP_THREADS = 4


@dataclass(frozen=True)
class Catalog:
    """A shop and its products (one category)."""

    shop_id: str
    product_ids: list[str]

    def order(self, lines: int) -> dict[str, Any]:
        """A BuyInput: one unit of each of the first `lines` products (no idempotency key: each buy works)."""
        items = [{"productId": product_id, "quantity": 1} for product_id in self.product_ids[:lines]]
        return {"shopId": self.shop_id, "items": items, "payment": "CARD", "purchaseName": "bench"}


@dataclass(frozen=True)
class Customer:
    login: str
    user_id: str
    token: str


def admin(system: System) -> GraphQLClient:
    """A client logged in as the system's ADMIN."""
    client = GraphQLClient(system.router_url)
    client.login(ADMIN_LOGIN, ADMIN_PASSWORD)
    return client


def catalog(client: GraphQLClient, name: str, products: int, stock: int) -> Catalog:
    """A new shop with one category and `products` products of `stock` units each."""
    shop_id = client.call(
        'mutation($n: String!) { createShop(input: {name: $n, address: "Bench st. 1", phone: "-"}) { id } }',
        n=name,
    )["createShop"]["id"]
    category_id = client.call(
        'mutation($s: ID!) { createCategory(shopId: $s, name: "Bench goods") { id } }', s=shop_id
    )["createCategory"]["id"]
    add = "mutation($i: AddProductInput!) { addProduct(input: $i) { id } }"
    product_ids = [
        client.call(
            add,
            i={
                "shopId": shop_id,
                "name": f"Item {n}",
                "price": 100 + n,
                "stock": stock,
                "categoryId": category_id,
            },
        )["addProduct"]["id"]
        for n in range(products)
    ]
    return Catalog(shop_id, product_ids)


def register(url: str, login: str) -> Customer:
    """A new CUSTOMER, registered through the router."""
    payload = GraphQLClient(url).call(
        "mutation($i: RegisterInput!) { register(input: $i) { token user { id } } }",
        i={"login": login, "password": PASSWORD, "firstName": "Bench", "secondName": "Customer"},
    )["register"]
    return Customer(login, payload["user"]["id"], payload["token"])


def customers(url: str, prefix: str, count: int) -> list[Customer]:
    """`count` new customers, registered a few at a time."""
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        return list(pool.map(lambda n: register(url, f"{prefix}{n}"), range(count)))


def buy(url: str, customer: Customer, order: dict[str, Any], count: int) -> None:
    """`count` buys of `order` by `customer` through the router, a few at a time."""
    shares = [count // SETUP_THREADS + (n < count % SETUP_THREADS) for n in range(SETUP_THREADS)]

    def work(share: int) -> None:
        client = GraphQLClient(url, customer.token)
        for _ in range(share):
            client.call(BUY, i=order)

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        list(pool.map(work, [share for share in shares if share]))


def purchases_of(url: str, customer: Customer) -> int:
    """How many purchases the purchase subgraph holds for `customer`."""
    me = GraphQLClient(url, customer.token).call("{ me { purchases(first: 1) { totalCount } } }")["me"]
    return int(me["purchases"]["totalCount"])


def wait_purchases(url: str, customer: Customer, expected: int, timeout: float = 60.0) -> int:
    """Wait until the customer's purchases are all recorded (the outbox may be sending); how many are."""
    deadline = time.monotonic() + timeout
    while (recorded := purchases_of(url, customer)) < expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return recorded
