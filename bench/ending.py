"""Ending a session under load: the time from `logoutEverywhere` to the router refusing the ended session's
access token (401), TRIES times, while the flagship runs through the same router at concurrency 10."""

import logging
import threading
import time

import httpx

from bench import data
from bench.figures import Figures
from bench.flagship import FLAGSHIP
from bench.load import Load, wrk
from bench.system import System
from tools.client import SyncGraph, document
from tools.polling import poll

logger = logging.getLogger(__name__)
SECTION = "Ending a session under the flagship's load"
TRIES = 20
POLL_SECONDS = 0.02
GIVE_UP_SECONDS = 30.0
LOGOUT_EVERYWHERE = "mutation LogoutEverywhere { logoutEverywhere }"
LOGIN = document("Login")


def supported(url: str) -> bool:
    """Whether the tree under test has sessions to end (a baseline from before them has not)."""
    answer = httpx.post(url, json={"query": '{ __type(name: "Mutation") { fields { name } } }'}, timeout=30)
    fields = ((answer.json().get("data") or {}).get("__type") or {}).get("fields") or []
    return any(field["name"] == "logoutEverywhere" for field in fields)


def _until_refused(http: httpx.Client, url: str, token: str) -> float:
    """Seconds from logoutEverywhere with `token` until the router refuses `token`."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    ended = http.post(url, json={"query": LOGOUT_EVERYWHERE}, headers=headers).json()
    if not (ended.get("data") or {}).get("logoutEverywhere"):
        raise RuntimeError(f"logoutEverywhere answered {ended}")
    status = poll(
        lambda: http.post(url, json={"query": "{ __typename }"}, headers=headers).status_code,
        lambda status: status == 401,
        within=GIVE_UP_SECONDS,
        interval=POLL_SECONDS,
    )
    if status != 401:
        raise RuntimeError(f"the router still took the token {GIVE_UP_SECONDS:g} s after logoutEverywhere")
    return time.monotonic() - started


def measure(system: System, figures: Figures, flagship_customer: data.Customer, *, first: int) -> None:
    """TRIES sessions ended under the flagship's load; p50, p99 and the longest, in ms, and the flagship's
    requests/s meanwhile."""
    url = system.router_url
    if not supported(url):
        figures.notes.append(f"{SECTION}: not measured, this tree has no logoutEverywhere")
        return
    with SyncGraph(url) as graph:
        (ender,) = data.customers(graph, "ender", 1)
    loads: list[Load] = []
    stop = threading.Event()

    def load() -> None:  # the flagship at concurrency 10, in runs of 4 s, until the tries are done
        page, tokens = {"first": first}, [flagship_customer.token]
        while not stop.is_set():
            loads.append(wrk(url, FLAGSHIP, variables=page, connections=10, seconds=4, tokens=tokens))

    background = threading.Thread(target=load, name="flagship-load")
    background.start()
    times: list[float] = []
    try:
        time.sleep(2)  # the load is on
        with httpx.Client(timeout=30) as http:
            for _ in range(TRIES):
                login = {"query": LOGIN, "variables": {"login": ender.user.login, "password": data.PASSWORD}}
                token = http.post(url, json=login).json()["data"]["login"]["token"]
                times.append(_until_refused(http, url, token))
    finally:
        stop.set()
        background.join()
    times.sort()
    case = f"{TRIES} tries, flagship first {first} at concurrency 10"
    figures.add(SECTION, case, "p50 ms", 1000 * times[len(times) // 2])
    figures.add(SECTION, case, "p99 ms", 1000 * times[min(len(times) - 1, round(0.99 * (len(times) - 1)))])
    figures.add(SECTION, case, "longest ms", 1000 * times[-1])
    answered = sum(run.requests for run in loads)
    figures.add(SECTION, case, "flagship requests/s meanwhile", answered / sum(run.seconds for run in loads))
    for run in loads:
        if not run.clean:
            figures.notes.append(f"{SECTION}: the flagship's load was not clean: {run}")
    logger.info("  logoutEverywhere -> 401: %s ms", ", ".join(f"{1000 * t:.0f}" for t in times))
