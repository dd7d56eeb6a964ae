"""`make run`'s program as a user starts it: migrated, seeded, serving the demo through the router; Ctrl-C
(SIGINT) stops every process it started."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tools.stack import ROOT, free_port

pytestmark = pytest.mark.e2e

LOGIN = 'mutation { login(login: "demo", password: "demo-password") { token } }'
PURCHASES = """{ me { purchases { totalCount nodes { name check { number lines { quantity
  product { name crafts { countPerRun intervalSeconds factory { name } } } } } } } } }"""


def _post(url: str, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = httpx.post(url, json={"query": query}, headers=headers, timeout=30).json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def _children(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(line) for line in out.stdout.split()]


def test_make_run_serves_the_demo_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("ROUTER", "PURCHASE", "SHOP", "FACTORY")}
    env = {
        **os.environ,
        **{f"{name}_PORT": str(port) for name, port in ports.items()},
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
        url = f"http://127.0.0.1:{ports['ROUTER']}/graphql"
        assert f"playground + endpoint: {url}" in output, output
        started = _children(runner.pid)
        assert len(started) == 4, started  # three subgraphs and the router

        token = _post(url, LOGIN)["login"]["token"]
        purchases = _post(url, PURCHASES, token)["me"]["purchases"]
        assert purchases["totalCount"] == 1
        lines_ = purchases["nodes"][0]["check"]["lines"]
        milk = next(line for line in lines_ if line["product"]["name"] == "Milk 1 l")
        assert milk["quantity"] == 2
        assert milk["product"]["crafts"] == [
            {"countPerRun": 3, "intervalSeconds": 5, "factory": {"name": "Dairy & Orchard Works"}}
        ]
        # The demo crafts deliver: milk's stock grows by 3 every 5 s.
        stock = '{ product(id: "1") { stock } }'
        before = _post(url, stock)["product"]["stock"]
        time.sleep(5.5)
        assert _post(url, stock)["product"]["stock"] - before in (3, 6)

        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=30) == 0
        for pid in started:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
            )
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()
