"""`make run`'s program as a user starts it: migrated, seeded, serving the demo through the router; Ctrl-C
(SIGINT) stops every process it started."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs.shop.seed import CATALOG, MILK
from tools.stack import DEFAULT_PORTS, ROOT, Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token } }"
PURCHASES = """{ me { purchases { totalCount nodes { name check { number lines { quantity
  product { name crafts { countPerRun intervalSeconds factory { name } } } } } } } } }"""
# One request: the router reads the stock from the shop before it reads the runs from the factory.
MILK_STATE = """query($name: String!) { searchProducts(query: $name) { name stock
  crafts { countPerRun runs(last: 50) { status } } } }"""


def _post(url: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = httpx.post(
        url, json={"query": query, "variables": variables}, headers=headers, timeout=30
    ).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in out.stdout.split()]


def _settled_milk(url: str, admin: str, *, within: float) -> dict[str, Any]:
    """Milk once a run of its craft is DELIVERED, none is PENDING and two reads in a row agree. Its stock then
    counts exactly the DELIVERED runs: a delivery adds stock before its run leaves PENDING, so a delivery
    between the two reads changes one of them."""
    deadline = time.monotonic() + within
    previous: dict[str, Any] | None = None
    while True:
        found = _post(url, MILK_STATE, admin, name=MILK)["searchProducts"]
        milk: dict[str, Any] = next(product for product in found if product["name"] == MILK)
        statuses = [run["status"] for craft in milk["crafts"] for run in craft["runs"]]
        if milk == previous and "DELIVERED" in statuses and "PENDING" not in statuses:
            return milk
        assert time.monotonic() < deadline, f"milk deliveries did not settle: {milk}"
        previous = milk
        time.sleep(0.2)  # the polling interval; the loop's condition is the evidence


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in DEFAULT_PORTS}
    env = {
        **os.environ,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "SERVICE_TREE_DATA": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
    }
    runner = subprocess.Popen(
        [sys.executable, "-m", "tools.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert runner.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = runner.stdout.readline()
            lines.append(line)
            if "Ctrl-C stops everything" in line or not line:
                break
        output = "".join(lines)
        url = f"http://127.0.0.1:{ports['router']}/graphql"
        assert f"playground + endpoint: {url}" in output, output
        started = _children(runner.pid)
        assert len(started) == len(DEFAULT_PORTS), started  # every subgraph and the router

        token = _post(url, LOGIN, l="demo", p="demo-password")["login"]["token"]
        purchases = _post(url, PURCHASES, token)["me"]["purchases"]
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
        assert _post(url, PURCHASES, ready)["me"]["purchases"]["totalCount"] == 1

        # The demo crafts deliver: milk's stock is the seeded stock, less the demo purchase, plus 3 per
        # delivered run. An operator's ADMIN (the operator command on the run's database) may see the runs.
        operator = Stack(data_dir=tmp_path / "var", ports=ports)
        operator.create_admin("operator", "operator-password-0123")
        admin = _post(url, LOGIN, l="operator", p="operator-password-0123")["login"]["token"]
        milk = _settled_milk(url, admin, within=60)
        (craft,) = milk["crafts"]
        statuses = {run["status"] for run in craft["runs"]}
        assert statuses == {"DELIVERED"}, craft["runs"]
        seeded = next(stock for items in CATALOG.values() for name, _, _, stock in items if name == MILK)
        delivered = len(craft["runs"])
        assert milk["stock"] == seeded - bought["quantity"] + craft["countPerRun"] * delivered

        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=30) == 0
        for pid in started:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
            )
    finally:
        if runner.poll() is None:
            # SIGINT first: the runner stops its children (each in a session of its own) before it exits.
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()
