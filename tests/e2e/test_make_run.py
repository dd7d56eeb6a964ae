"""`make run`'s program as a user starts it: migrated, seeded, serving the demo through the router; Ctrl-C
(SIGINT) stops every process it started."""

import re
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs.shop.seed import CATALOG, MILK
from tests.e2e.helpers import LOGIN, launched, launcher_env, make_admin, post
from tools.polling import poll
from tools.processes import alive, descendants
from tools.stack import DEFAULT_PORTS, ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

PURCHASES = """{ me { purchases { totalCount nodes { name check { number lines { quantity
  product { name crafts { countPerRun intervalSeconds factory { name } } } } } } } } }"""
# One request: the router reads the stock from the shop before it reads the runs from the factory.
MILK_STATE = """query($name: String!) { searchProducts(query: $name) { name stock
  crafts { countPerRun runs(last: 50) { status } } } }"""


def _milk(url: str, admin: str) -> dict[str, Any]:
    found = post(url, MILK_STATE, admin, name=MILK)["searchProducts"]
    milk: dict[str, Any] = next(product for product in found if product["name"] == MILK)
    return milk


def _settled_milk(url: str, admin: str, *, within: float) -> dict[str, Any]:
    """Milk once a run of its craft is DELIVERED, none is PENDING and two reads in a row agree. Its stock then
    counts exactly the DELIVERED runs: a delivery adds stock before its run leaves PENDING, so a delivery
    between the two reads changes one of them."""

    def settled(reads: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        statuses = [run["status"] for craft in reads[0]["crafts"] for run in craft["runs"]]
        return reads[0] == reads[1] and "DELIVERED" in statuses and "PENDING" not in statuses

    reads = poll(lambda: (_milk(url, admin), _milk(url, admin)), settled, within=within, interval=0.2)
    assert settled(reads), f"milk deliveries did not settle: {reads}"
    return reads[1]


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in DEFAULT_PORTS}
    data_dir = tmp_path / "var"
    with launched(ROOT, launcher_env(ROOT, data_dir, ports)) as (runner, output):
        url = f"http://127.0.0.1:{ports['router']}/graphql"
        assert f"playground + endpoint: {url}" in output, output
        started = descendants(runner.pid)
        assert len(started) >= len(DEFAULT_PORTS), started  # every subgraph and the router

        token = post(url, LOGIN, l="demo", p="demo-password")["login"]["token"]
        purchases = post(url, PURCHASES, token)["me"]["purchases"]
        assert purchases["totalCount"] == 1
        lines_ = purchases["nodes"][0]["check"]["lines"]
        bought = next(line for line in lines_ if line["product"]["name"] == MILK)
        assert bought["quantity"] == 2
        assert bought["product"]["crafts"] == [
            {"countPerRun": 3, "intervalSeconds": 5, "factory": {"name": "Dairy & Orchard Works"}}
        ]

        # The playground opens ready: a Login tab, and a MyPurchases tab holding a working demo token.
        playground = httpx.get(url, headers={"Accept": "text/html"}, timeout=30).text
        assert "mutation Login" in playground and "query MyPurchases" in playground
        (ready,) = set(re.findall(r"Bearer (ey[\w-]+\.[\w-]+\.[\w-]+)", playground))
        assert post(url, PURCHASES, ready)["me"]["purchases"]["totalCount"] == 1

        # The demo crafts deliver: milk's stock is the seeded stock, less the demo purchase, plus 3 per
        # delivered run. An operator's ADMIN (`make admin`, which finds the run's database) may see the runs.
        admin_token = make_admin(url, data_dir, "operator")
        milk = _settled_milk(url, admin_token, within=60)
        (craft,) = milk["crafts"]
        statuses = {run["status"] for run in craft["runs"]}
        assert statuses == {"DELIVERED"}, craft["runs"]
        seeded = next(stock for items in CATALOG.values() for name, _, _, stock in items if name == MILK)
        delivered = len(craft["runs"])
        assert milk["stock"] == seeded - bought["quantity"] + craft["countPerRun"] * delivered

        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=30) == 0
        assert not {pid for pid in started if alive(pid)}
