"""The web app in a real browser (Debian's Chromium driven by Playwright) against the real stack, served by the
router from its own origin: a customer registers, searches, buys and sees the purchase; a buy beyond stock
changes nothing; an admin watches a craft's stock grow and pauses it; sessions: the access token refreshed
before it expires and kept out of storage, the Sessions page (end one, log out everywhere), a password change,
log out, a copied tab, a session ended elsewhere or by an admin disabling its user, each sent to log in with why;
the shop page's stock changes live, and comes back live after a router restart.

Every page visited is checked with axe-core (no serious or critical violations) at 375 and 1280 px, and written
as a screenshot under var/screenshots (SCREENSHOTS_DIR, e.g. docs/screenshots for `make screenshots`). A console
error fails the test. Waits are Playwright's conditions with deadlines, or `poll` over the API.
"""

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import httpx
import jwt
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Request,
    expect,
    sync_playwright,
)

from tests import support
from tests.databases import Databases
from tests.e2e import helpers
from tests.e2e.helpers import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    PASSWORD,
    PAUSE_CRAFT,
    Catalog,
    Router,
    codes,
    create_admin,
    create_catalog,
    create_craft,
    create_factory,
    create_product,
    unique,
)
from tools.polling import poll
from tools.stack import ROOT, WEB_DIST, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

WIDTHS = (375, 1280)
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOTS_DIR", "var/screenshots")
# Generous: two cores shared with other test runs.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)
T = TypeVar("T")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is required (make chromium installs it)"
    return found


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Stack]:
    """The whole system, with the router serving the built web app."""
    assert (WEB_DIST / "index.html").exists(), "the web app is not built: run `make web`"
    data_dir = tmp_path_factory.mktemp("web-stack")
    stack = replace(
        Stack.on_free_ports(data_dir),
        databases=databases.for_stack(data_dir),
        web_dir=WEB_DIST,
        identity_dir=support.IDENTITY,
    )
    with stack.running() as started:
        yield started


async def _router_call(url: str, make: Callable[[Router], Awaitable[T]]) -> T:
    async with httpx.AsyncClient(timeout=60) as client:
        return await make(Router(client, url))


def call(stack: Stack, make: Callable[[Router], Awaitable[T]]) -> T:
    """Run `make(router)` (an async helper of tests.e2e.helpers) from these synchronous tests: on a thread of
    its own, since Playwright's synchronous API keeps an event loop on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _router_call(stack.router_url, make)).result()


def data(stack: Stack, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
    return call(stack, lambda router: router.data(query, variables, token=token))


LOGIN = (
    "mutation($login: String!, $password: String!) { login(login: $login, password: $password) "
    "{ token refreshToken user { id } } }"
)


def api_login(stack: Stack, login: str, password: str = PASSWORD) -> dict[str, Any]:
    """A session of `login` started through the API (another device, as the web app sees it): its pair."""
    pair: dict[str, Any] = data(stack, LOGIN, {"login": login, "password": password})["login"]
    return pair


@pytest.fixture(scope="module")
def admin_account(stack: Stack) -> None:
    create_admin(stack)


@pytest.fixture
def admin(stack: Stack, admin_account: None) -> str:
    """An ADMIN access token, fresh for each test (they live 10 minutes)."""
    return str(api_login(stack, ADMIN_LOGIN, ADMIN_PASSWORD)["token"])


@pytest.fixture(scope="module")
def catalog(stack: Stack, admin_account: None) -> Catalog:
    admin = str(api_login(stack, ADMIN_LOGIN, ADMIN_PASSWORD)["token"])
    products = {
        "Dairy": [("Gouda cheese", 45000, 50), ("Farm butter", 23000, 3)],
        "Bakery": [("Sourdough loaf", 12000, 40)],
    }
    return call(stack, lambda router: create_catalog(router, admin, products, prefix="Web shop"))


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=_chromium(), headless=True)
    try:
        yield browser
    finally:
        browser.close()


class Console:
    """Console errors and uncaught exceptions of a page; `allowed` patterns are expected ones."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.allowed):
            self.errors.append(message.text)


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[tuple[Page, Console]]:
    """A fresh browser session (its own sessionStorage) on the web app; fails the test on console errors."""
    context = browser.new_context(base_url=stack.web_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console = Console(page)
    try:
        yield page, console
        assert console.errors == [], f"console errors: {console.errors}"
    finally:
        context.close()


def check_page(page: Page, name: str) -> None:
    """At each width: no serious or critical axe-core violation, and a screenshot `<name>-<width>.png`."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        results = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
        bad = [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], f"{name} at {width}px: {json.dumps(bad, indent=1)}"
        # Nothing wider than the screen: usable on a phone without sideways scrolling.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} at {width}px is {overflow}px wider than the window"
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page: Page, login: str, password: str) -> None:
    page.goto("#/login")
    page.get_by_label("Login", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Log out")).to_be_visible()


def register(page: Page, prefix: str = "web") -> str:
    """A new customer registered in `page` (logged in there); their login, unique and starting with `prefix`."""
    login = unique(prefix)
    page.goto("#/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Choose a login").fill(login)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Last name").fill("Smirnova")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Log out")).to_be_visible()
    return login


def open_shop(page: Page, catalog: Catalog) -> None:
    page.goto("#/shops")
    page.get_by_role("link", name=catalog.name).click()
    expect(page.get_by_role("heading", name=catalog.name, level=1)).to_be_visible()


def add_to_cart(page: Page, product: str, quantity: int) -> None:
    page.get_by_label(f"Quantity of {product}", exact=True).fill(str(quantity))
    page.get_by_role("button", name=f"Add to cart: {product}").click()
    expect(page.get_by_label(f"Quantity of {product} in cart")).to_have_value(str(quantity))


MY_PURCHASES = (
    "{ me { purchases { totalCount nodes { name total check { lines { quantity product { name } } } } } } }"
)
STOCK = "query($id: ID!) { product(id: $id) { stock } }"


def stock(stack: Stack, product_id: str) -> int:
    return int(data(stack, STOCK, {"id": product_id})["product"]["stock"])


def test_a_customer_registers_searches_buys_two_products_and_sees_the_purchase(
    page: tuple[Page, Console], stack: Stack, catalog: Catalog
) -> None:
    tab, _ = page
    tab.goto("#/login")
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    check_page(tab, "login")
    login = register(tab)
    expect(tab.get_by_role("link", name=catalog.name)).to_be_visible()
    check_page(tab, "shops")
    open_shop(tab, catalog)
    check_page(tab, "shop")

    tab.get_by_label("Search products").fill("cheese")
    tab.get_by_role("button", name="Search", exact=True).click()
    expect(tab.get_by_text("1 found for “cheese”")).to_be_visible()
    expect(tab.locator("[data-product]")).to_have_count(1)
    add_to_cart(tab, "Gouda cheese", 2)
    tab.get_by_role("button", name="Show all").click()
    expect(tab.locator("[data-product]")).to_have_count(3)
    add_to_cart(tab, "Sourdough loaf", 1)
    tab.get_by_label("Name this purchase").fill("Weekend")
    check_page(tab, "cart")

    cheese = catalog.products["Gouda cheese"]
    before = stock(stack, cheese.id)
    # Two clicks in a row: one checkout attempt, one idempotency key, one purchase.
    tab.get_by_role("button", name="Buy").dblclick()
    expect(tab.get_by_text(re.compile(r"Bought: check #\d+"))).to_be_visible()
    expect(tab.get_by_text("Your cart for this shop is empty.")).to_be_visible()

    token = api_login(stack, login)["token"]
    purchases = data(stack, MY_PURCHASES, token=token)["me"]["purchases"]
    assert purchases["totalCount"] == 1, purchases
    assert stock(stack, cheese.id) == before - 2

    tab.get_by_role("link", name="See my purchases").click()
    purchase = tab.locator("[data-purchase='Weekend']")
    expect(purchase).to_be_visible()
    expect(purchase).to_contain_text(catalog.name)
    rows = purchase.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Gouda cheese")).to_contain_text("Dairy")
    expect(rows.filter(has_text="Gouda cheese").locator("td").nth(2)).to_have_text("2")
    expect(rows.filter(has_text="Sourdough loaf")).to_contain_text("Bakery")
    expect(purchase).to_contain_text(f"{(2 * 45000 + 12000) / 100:.2f} ₽")
    check_page(tab, "purchases")


def test_a_buy_beyond_stock_shows_the_stock_message_and_changes_nothing(
    page: tuple[Page, Console], stack: Stack, catalog: Catalog
) -> None:
    tab, _ = page
    login = register(tab)
    open_shop(tab, catalog)
    butter = catalog.products["Farm butter"]
    assert stock(stack, butter.id) == 3
    add_to_cart(tab, "Farm butter", 5)
    tab.get_by_role("button", name="Buy").click()

    line = tab.locator("[data-line='Farm butter']")
    expect(line.get_by_role("alert")).to_have_text("Not enough in stock: only 3 left.")
    check_page(tab, "insufficient-stock")
    # Nothing lost from the cart, nothing bought, no stock taken.
    expect(tab.get_by_label("Quantity of Farm butter in cart")).to_have_value("5")
    assert stock(stack, butter.id) == 3
    token = api_login(stack, login)["token"]
    assert data(stack, MY_PURCHASES, token=token)["me"]["purchases"]["totalCount"] == 0


def test_an_admin_creates_a_shop_with_a_category_and_a_product_tops_up_its_stock_and_edits_it(
    page: tuple[Page, Console], stack: Stack, admin: str
) -> None:
    tab, _ = page
    log_in(tab, ADMIN_LOGIN, ADMIN_PASSWORD)
    tab.get_by_role("link", name="Catalog").click()
    new_shop = tab.locator("details", has_text="New shop")
    new_shop.locator("summary").click()
    name = unique("Tea house")
    new_shop.get_by_label("Shop name").fill(name)
    new_shop.get_by_label("Address").fill("5 Arbat St, Moscow")
    new_shop.get_by_label("Phone").fill("+7 495 000-00-00")
    new_shop.get_by_role("button", name="Create shop").click()
    expect(tab.get_by_role("heading", name=name, level=2)).to_be_visible()

    tab.get_by_label("New category").fill("Tea")
    tab.get_by_role("button", name="Add category").click()
    expect(tab.locator("#categories-heading + p")).to_have_text("Tea")

    new_product = tab.locator("details", has_text="New product")
    new_product.locator("summary").click()
    new_product.get_by_label("Product name").fill("Green tea")
    new_product.get_by_label("Price (kopecks)").fill("30000")
    new_product.get_by_label("Category of the new product").select_option(label="Tea")
    new_product.get_by_role("button", name="Add product").click()
    card = tab.locator("[data-product='Green tea']")
    expect(card).to_contain_text("300.00 ₽ · 0 in stock · Tea")

    card.get_by_label("Deliver units of Green tea").fill("7")
    card.get_by_role("button", name="Deliver").click()
    expect(card.locator(".stock")).to_have_text("7")
    card.locator("summary").click()
    card.get_by_label("Price (kopecks)").fill("31000")
    card.get_by_role("button", name="Save product").click()
    expect(card).to_contain_text("310.00 ₽ · 7 in stock · Tea")

    found = data(
        stack,
        "query($q: String!) { searchProducts(query: $q) { price stock shop { name } } }",
        {"q": "Green tea"},
    )
    assert found["searchProducts"] == [{"price": 31000, "stock": 7, "shop": {"name": name}}]


def test_an_admin_sees_stock_grow_and_pauses_a_craft_whose_runs_then_stop(
    page: tuple[Page, Console], stack: Stack, catalog: Catalog, admin: str
) -> None:
    tab, _ = page
    loaf = catalog.products["Sourdough loaf"]
    factory = call(stack, lambda router: create_factory(router, admin, "Bakery works"))
    craft = call(stack, lambda router: create_craft(router, admin, factory.id, loaf.id, count=5, interval=1))
    log_in(tab, ADMIN_LOGIN, ADMIN_PASSWORD)
    tab.get_by_role("link", name="Catalog").click()
    expect(tab.get_by_role("heading", name="Catalog")).to_be_visible()
    expect(tab.get_by_role("button", name="Save shop")).to_be_visible()
    check_page(tab, "admin-catalog")

    tab.get_by_role("link", name="Factories").click()
    card = tab.locator(f"[aria-labelledby='craft-{craft.id}']")
    shown = card.locator(".stock")
    expect(shown).to_be_visible()
    first = int(shown.inner_text())
    # Stock visibly grows: the page's subscription to runs, and deliveries land every second.
    expect(shown).not_to_have_text(str(first), timeout=60_000)
    expect(card.locator("td.status.delivered").first).to_be_visible()
    check_page(tab, "factories")

    card.get_by_role("button", name="Pause Sourdough loaf").click()
    expect(card.get_by_text("paused", exact=True)).to_be_visible()
    paused_at = time.time()
    # Runs stop, shown by the scheduler's rounds after the pause rather than by a stretch of time: a witness
    # craft every second gets a run three intervals after the pause; the same scheduler fires both crafts in
    # the order of their slots and writes the fires in that order, so by then the paused craft, had it gone
    # on, would have runs after the pause too. (One in flight at the pause may finish.)
    witness = call(stack, lambda router: _witness_craft(router, admin))
    try:
        newest = poll(lambda: _newest_run_at(stack, witness, admin), lambda at: at > paused_at + 3, within=30)
    finally:
        data(stack, PAUSE_CRAFT, {"id": witness}, token=admin)  # else it delivers through the later tests
    assert newest > paused_at + 3, "the scheduler fired no round three intervals after the pause"
    query = "query($id: ID!) { craft(id: $id) { active nextRunAt runs(last: 50) { scheduledAt status } } }"
    state = data(stack, query, {"id": craft.id}, token=admin)["craft"]
    assert state["active"] is False and state["nextRunAt"] is None
    late = [
        run
        for run in state["runs"]
        if _epoch(run["scheduledAt"]) > paused_at + 0.5  # the clock of the click and of the scheduler
    ]
    assert late == [], late
    settled = stock(stack, loaf.id)
    expect(shown).to_have_text(str(settled))


async def _witness_craft(router: Router, admin: str) -> str:
    """A craft every second, on a factory and a product of its own: the scheduler's rounds seen through the API."""
    product = await create_product(router, admin, "Bakery", ("Rye loaf", 9000, 0), prefix="Witness shop")
    factory = await create_factory(router, admin, "Witness works")
    return (await create_craft(router, admin, factory.id, product.id, count=1, interval=1)).id


NEWEST_RUN = "query($id: ID!) { craft(id: $id) { runs(last: 1) { scheduledAt } } }"


def _newest_run_at(stack: Stack, craft_id: str, token: str) -> float:
    """When the craft's newest run was scheduled (epoch seconds), 0 before its first."""
    runs = data(stack, NEWEST_RUN, {"id": craft_id}, token=token)["craft"]["runs"]
    return _epoch(runs[0]["scheduledAt"]) if runs else 0.0


def _epoch(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


STORED = "JSON.parse(sessionStorage.getItem('service-tree.session'))"
MY_SESSIONS = "{ me { sessions { id current } } }"
REFRESH = "mutation($r: String!) { refreshSession(refreshToken: $r) { token refreshToken } }"
NEW_PASSWORD = "a-new-horse-battery"


def operation(request: Request) -> str | None:
    """The operation name of a GraphQL request the app sends; None for any other request."""
    if request.method != "POST" or not request.url.endswith("/graphql"):
        return None
    body = request.post_data_json
    name = body.get("operationName") if isinstance(body, dict) else None
    return str(name) if name else None


class Traffic:
    """What a page sends the API: its operations by name and its access tokens (Authorization), oldest first."""

    def __init__(self, page: Page) -> None:
        self.operations: list[str] = []
        self.tokens: list[str] = []
        page.on("request", self._request)

    def _request(self, request: Request) -> None:
        name = operation(request)
        if name is None:
            return
        self.operations.append(name)
        scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
        if scheme == "Bearer" and token not in self.tokens:
            self.tokens.append(token)


def assert_no_token_kept(tab: Page, traffic: Traffic) -> None:
    """localStorage holds nothing at all, and no access token the page sent is in sessionStorage (which keeps
    the refresh token only)."""
    assert tab.evaluate("localStorage.length") == 0
    kept = tab.evaluate("JSON.stringify(Object.entries(sessionStorage))")
    assert traffic.tokens, "the page sent no access token"
    assert [token for token in traffic.tokens if token in kept] == []
    assert tab.evaluate(STORED)["refreshToken"] in kept


def refusal(stack: Stack, token: str) -> str | None:
    """Why the router refuses `token` (its 401's message), or None while it passes it on. (Passed on, the
    subgraph that ended the session may refuse it first: its part of the answer, with 200.)"""
    response = call(stack, lambda router: router.post("{ me { id } }", token=token))
    if response.status_code == 200:
        assert set(codes(response.json())) <= {"UNAUTHENTICATED"}, response.text
        return None
    assert response.status_code == 401, response.text
    return str(response.json()["errors"][0]["message"])


def refused(stack: Stack, token: str) -> str:
    """The refusal of the token of a session just ended (within 5 seconds; 15 allowed on a loaded machine)."""
    reason = poll(lambda: refusal(stack, token), lambda reason: reason is not None, within=15)
    assert reason is not None, "the token of an ended session is still accepted"
    return reason


def refresh_refusal(stack: Stack, refresh_token: str) -> str:
    """The API's refusal of `refresh_token`, which must be refused."""
    body = call(stack, lambda router: router.call(REFRESH, {"r": refresh_token}))
    assert codes(body) == ["UNAUTHENTICATED"], body
    return str(body["errors"][0]["message"])


def header_button(tab: Page, name: str) -> Locator:
    return tab.get_by_role("banner").get_by_role("button", name=name)


def on_sessions_page_with_another(tab: Page, stack: Stack) -> tuple[Traffic, str, dict[str, Any], Locator]:
    """A new customer registered in `tab` and logged in through the API too, on the Sessions page: the tab's
    traffic (watched from before it registered), its login, the API session's pair and the session cards (two)."""
    traffic = Traffic(tab)
    login = register(tab)
    other = api_login(stack, login)
    tab.get_by_role("link", name="Sessions").click()
    cards = tab.locator("[data-session]")
    expect(cards).to_have_count(2)
    return traffic, login, other, cards


def test_the_sessions_page_shows_this_session_and_ends_another(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    traffic, _, other, cards = on_sessions_page_with_another(tab, stack)
    [other_id] = [
        s["id"] for s in data(stack, MY_SESSIONS, token=other["token"])["me"]["sessions"] if s["current"]
    ]
    this = cards.filter(has=tab.get_by_text("current", exact=True))
    expect(this).to_have_count(1)
    expect(this).to_contain_text("This session")
    expect(this.get_by_role("button", name="Log out of this session")).to_be_visible()
    check_page(tab, "sessions")
    assert_no_token_kept(tab, traffic)

    tab.locator(f"[data-session='{other_id}']").get_by_role(
        "button", name=re.compile("^End the session")
    ).click()
    expect(tab.locator(f"[data-session='{other_id}']")).to_have_count(0)
    expect(cards).to_have_count(1)
    assert refused(stack, other["token"]) == "Session ended: it was ended from another session"
    assert refresh_refusal(stack, other["refreshToken"]).startswith("Session ended")
    # This one goes on.
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_text("0 purchases")).to_be_visible()


def test_changing_the_password_ends_the_other_sessions_and_this_one_goes_on(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    traffic, login, other, cards = on_sessions_page_with_another(tab, stack)
    before = tab.evaluate(STORED)["refreshToken"]

    form = tab.get_by_role("region", name="Change password")
    form.get_by_label("Current password").fill("not-the-password")
    form.get_by_label("New password (8 characters or more)").fill(NEW_PASSWORD)
    form.get_by_label("New password again").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    current = form.locator(".field", has=tab.get_by_label("Current password"))
    expect(current.get_by_role("alert")).to_be_visible()
    assert refusal(stack, other["token"]) is None  # a wrong current password changes nothing

    form.get_by_label("Current password").fill(PASSWORD)
    form.get_by_label("New password (8 characters or more)").fill(NEW_PASSWORD)
    form.get_by_label("New password again").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(form.get_by_role("status")).to_have_text("Password changed. Your other sessions have ended.")
    expect(cards).to_have_count(1)
    check_page(tab, "change-password")
    assert refused(stack, other["token"]) == "Session ended: the password was changed"

    # The answer's pair replaced this session's: a reload refreshes with it and stays logged in.
    assert tab.evaluate(STORED)["refreshToken"] != before
    tab.reload()
    expect(header_button(tab, "Log out")).to_be_visible()
    expect(cards).to_have_count(1)
    assert_no_token_kept(tab, traffic)
    api_login(stack, login, NEW_PASSWORD)
    old = call(stack, lambda router: router.call(LOGIN, {"login": login, "password": PASSWORD}))
    assert codes(old) == ["UNAUTHENTICATED"]


def test_log_out_ends_the_session_and_sends_the_user_to_log_in(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    traffic = Traffic(tab)
    register(tab)
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_role("heading", name="My purchases")).to_be_visible()
    refresh_token = tab.evaluate(STORED)["refreshToken"]
    assert_no_token_kept(tab, traffic)

    with tab.expect_response(lambda response: operation(response.request) == "Logout") as logout:
        header_button(tab, "Log out").click()
    assert logout.value.json() == {"data": {"logout": True}}
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    expect(tab.get_by_role("link", name="Log in")).to_be_visible()
    assert tab.evaluate("sessionStorage.getItem('service-tree.session')") is None
    assert refused(stack, traffic.tokens[-1]) == "Session ended: you logged out"
    assert refresh_refusal(stack, refresh_token) == "Session ended: you logged out"


def test_a_session_ended_elsewhere_sends_the_open_page_to_log_in_with_the_reason(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, console = page
    # The router refuses the ended session's token with 401, which Chromium logs as a failed resource.
    console.allowed.append(re.compile(r"status of 401"))
    traffic = Traffic(tab)
    login = register(tab)
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_role("heading", name="My purchases")).to_be_visible()

    other = api_login(stack, login)
    assert data(stack, "mutation { logoutEverywhere }", token=other["token"]) == {"logoutEverywhere": 2}
    refused(stack, traffic.tokens[-1])
    # Untouched, the page goes to log in: its live subscription (purchaseRecorded) ended with the session, and
    # the one refresh it tried was refused, saying why.
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    expect(tab.get_by_role("status")).to_have_text(
        "You logged out everywhere, which ended this session too. Please log in again."
    )
    assert traffic.operations.count("RefreshSession") == 1
    assert tab.evaluate("sessionStorage.getItem('service-tree.session')") is None
    check_page(tab, "session-ended")


def test_the_access_token_is_refreshed_before_it_expires_and_a_reload_keeps_the_session(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    tab.clock.install()  # the page's clock, driven below instead of waiting 10 minutes
    traffic = Traffic(tab)
    register(tab)
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_role("heading", name="My purchases")).to_be_visible()
    first = traffic.tokens[-1]
    claims = jwt.decode(first, options={"verify_signature": False})
    life_ms = (claims["exp"] - claims["iat"]) * 1000
    stored = tab.evaluate(STORED)["refreshToken"]

    # Half its life on, the token is still good: no refresh for a request.
    tab.clock.fast_forward(life_ms // 2)
    tab.get_by_role("link", name="Sessions").click()
    expect(tab.locator("[data-session]")).to_have_count(1)
    assert traffic.tokens[-1] == first
    assert "RefreshSession" not in traffic.operations

    # Before it expires, with no request of the page's own, the app trades its refresh token for a new pair.
    with tab.expect_response(lambda response: operation(response.request) == "RefreshSession") as refreshed:
        tab.clock.fast_forward(life_ms // 2 - 1000)
    assert refreshed.value.ok and "errors" not in refreshed.value.json()
    renewed = poll(lambda: tab.evaluate(STORED)["refreshToken"], lambda value: value != stored, within=10)
    assert renewed != stored
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_role("heading", name="My purchases")).to_be_visible()
    assert traffic.tokens[-1] != first
    assert traffic.operations.count("RefreshSession") == 1

    # A reload keeps the session (the refresh token is in this tab's sessionStorage); the access token, in
    # memory only, comes from a refresh.
    with tab.expect_response(lambda response: operation(response.request) == "RefreshSession") as restored:
        tab.reload()
    assert "errors" not in restored.value.json()
    expect(header_button(tab, "Log out")).to_be_visible()
    expect(tab.get_by_role("heading", name="My purchases")).to_be_visible()
    assert traffic.operations.count("RefreshSession") == 2
    assert_no_token_kept(tab, traffic)


def test_a_tab_copied_from_a_logged_in_tab_leaves_the_session_to_it(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    register(tab)
    with tab.context.expect_page() as opened:
        tab.evaluate("window.open(location.href)")  # a tab with a copy of this one's sessionStorage
    copy = opened.value
    copy_console = Console(copy)
    expect(copy.get_by_role("status")).to_contain_text(
        "This tab was copied from a tab where you are logged in"
    )
    assert copy.evaluate("sessionStorage.getItem('service-tree.session')") is None

    # The copy did not spend the session's refresh token (a second spending would have ended the session): the
    # first tab refreshes with it, on a reload, and stays logged in.
    tab.reload()
    tab.get_by_role("link", name="Sessions").click()
    expect(tab.locator("[data-session]")).to_have_count(1)
    assert copy_console.errors == []


def test_an_admin_disables_a_user_whose_open_page_goes_to_log_in_and_enables_them_again(
    page: tuple[Page, Console], browser: Browser, stack: Stack, admin_account: None
) -> None:
    tab, _ = page
    customer = call(stack, lambda router: helpers.register(router, "web"))
    context = browser.new_context(base_url=stack.web_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        theirs = context.new_page()
        their_console = Console(theirs)
        their_console.allowed.append(re.compile(r"status of 401"))
        log_in(theirs, customer.login, customer.password)
        theirs.get_by_role("link", name="My purchases").click()
        expect(theirs.get_by_role("heading", name="My purchases")).to_be_visible()

        log_in(tab, ADMIN_LOGIN, ADMIN_PASSWORD)
        tab.get_by_role("link", name="Catalog").click()
        users = tab.get_by_role("region", name="User access")
        users.get_by_label("User id").fill(customer.id)
        users.get_by_role("button", name="Find user").click()
        card = users.locator(f"[data-user='{customer.login}']")
        expect(card.locator(".tag")).to_have_text("active")
        expect(card).to_contain_text("2 live sessions")  # its registration's and the page's
        card.get_by_role("button", name=f"Disable {customer.login}").click()
        expect(card.locator(".tag")).to_have_text("disabled")
        expect(card).to_contain_text("0 live sessions")
        check_page(tab, "admin-users")
        refused(stack, customer.token)

        disabled = "Your account has been disabled. Contact the shop to have it enabled."
        # Untouched, their open page goes to log in with the reason: its live subscription (purchaseRecorded)
        # ended with the session, and renewing its token was refused.
        expect(theirs.get_by_role("heading", name="Log in")).to_be_visible()
        expect(theirs.get_by_role("status")).to_have_text(disabled)
        theirs.get_by_label("Login", exact=True).fill(customer.login)
        theirs.get_by_label("Password", exact=True).fill(customer.password)
        theirs.get_by_role("button", name="Log in").click()
        expect(theirs.get_by_role("alert")).to_have_text(disabled)

        card.get_by_role("button", name=f"Enable {customer.login}").click()
        expect(card.locator(".tag")).to_have_text("active")
        log_in(theirs, customer.login, customer.password)
        assert their_console.errors == []
    finally:
        context.close()


def test_a_stored_session_the_api_does_not_know_sends_the_user_to_log_in(
    page: tuple[Page, Console], stack: Stack
) -> None:
    tab, _ = page
    user = {"id": "1", "login": "gone", "firstName": "Old", "role": "CUSTOMER"}
    session = {"refreshToken": "not-a-refresh-token-of-this-deployment", "holder": "gone", "user": user}
    tab.goto("#/shops")
    tab.evaluate("s => sessionStorage.setItem('service-tree.session', s)", json.dumps(session))
    tab.goto("#/purchases")
    tab.reload()
    expect(tab.get_by_role("heading", name="Log in")).to_be_visible()
    expect(tab.get_by_role("status")).to_have_text("Your session is no longer valid. Please log in again.")
    expect(tab.get_by_role("link", name="Log in")).to_be_visible()
    assert tab.evaluate("sessionStorage.getItem('service-tree.session')") is None


DELIVER = "mutation($p: ID!, $k: String!) { deliver(input: {productId: $p, count: 4, key: $k}) { id } }"


def test_the_shop_pages_stock_changes_live_and_comes_back_after_a_router_restart(
    page: tuple[Page, Console], stack: Stack, catalog: Catalog, admin: str
) -> None:
    tab, console = page
    # While the router is away the browser logs its failed reconnection attempts: expected here.
    console.allowed.append(re.compile(r"WebSocket connection to .* failed"))
    open_shop(tab, catalog)
    cheese = catalog.products["Gouda cheese"]
    card = tab.locator("[data-product='Gouda cheese']")
    status = tab.locator("[data-live]")
    expect(status).to_have_attribute("data-live", "live")
    before = stock(stack, cheese.id)
    expect(card.locator(".stock")).to_have_text(str(before))
    data(stack, DELIVER, {"p": cheese.id, "k": unique("live")}, token=admin)
    expect(card.locator(".stock")).to_have_text(str(before + 4))  # no reload: the subscription's event

    stack.stop("router")
    expect(status).to_have_attribute("data-live", "reconnecting")
    expect(status).to_have_text(re.compile("Reconnecting"))
    stack.start("router")
    expect(status).to_have_attribute("data-live", "live")
    data(stack, DELIVER, {"p": cheese.id, "k": unique("live")}, token=admin)
    expect(card.locator(".stock")).to_have_text(str(before + 8))


def test_a_purchase_made_elsewhere_appears_on_the_open_purchases_page_without_a_reload(
    page: tuple[Page, Console], stack: Stack, catalog: Catalog
) -> None:
    tab, _ = page
    login = register(tab, "live")
    tab.get_by_role("link", name="My purchases").click()
    expect(tab.get_by_text("0 purchases")).to_be_visible()
    expect(tab.locator("[data-live]")).to_have_attribute("data-live", "live")
    # The same customer buys in another session (another tab, another device): purchase records it and
    # purchaseRecorded tells this page, which shows it without being reloaded.
    other = api_login(stack, login)
    bread = catalog.products["Sourdough loaf"]
    call(
        stack,
        lambda router: helpers.bought(
            router, other["token"], catalog.shop_id, [(bread.id, 2)], name="Picnic"
        ),
    )
    expect(tab.get_by_text("1 purchase", exact=True)).to_be_visible()
    expect(tab.locator("[data-purchase='Picnic']")).to_contain_text("Sourdough loaf")


def test_the_playground_opens_with_a_collection_ready_to_run(browser: Browser, stack: Stack) -> None:
    """The router's playground (development) lists "Service Tree: start here": the demo customer's Login and the
    flagship query, which opens in the editor; its screenshot is the README's."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        tab = context.new_page()
        tab.goto(stack.router_url)
        expect(tab.get_by_text("Service Tree: start here").first).to_be_visible()
        tab.get_by_text("Service Tree: start here").first.click()  # opens the collection
        expect(tab.get_by_text("1. Log in as the demo customer").first).to_be_visible()
        tab.get_by_text("2. My purchases (the flagship query)").first.click()
        expect(tab.get_by_text("query MyPurchases").first).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / "playground-1280.png"))
    finally:
        context.close()
