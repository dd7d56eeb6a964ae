"""The Grafana dashboard shows real series: after a little traffic (a buy, a refused buy, a delivery, a craft
whose runs are delivered), every metric its queries use is in a scrape of the router or of a subgraph, with
the labels they group by."""

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from client.service_tree_client import DeliverInput, GraphQLClientGraphQLMultiError
from subgraphs import registry
from tests import dashboard
from tests.databases import Databases
from tests.e2e.helpers import (
    Router,
    admin_token,
    bought,
    buy,
    codes,
    create_catalog,
    create_craft,
    create_factory,
    poll,
    register,
    running_stack,
    settled_runs,
)
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

PROCESSES = (registry.ROUTER, *registry.NAMES)
# Added by Prometheus to every series it scrapes (the job is the process kind, deploy/observability/prometheus.yml).
SCRAPE_LABELS = {"job", "instance"}
# A sample line's series name as exposed, which is what Prometheus stores (the Python parser would rename a
# counter exposed without _total, as Hive Gateway's are).
SERIES = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(?=[{ ])")


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("dashboard"), databases) as started:
        yield started


class Scrape:
    """What /metrics of every process showed: the series names that had samples, and their label names."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.labels: set[str] = set()

    def missing(self, wanted: set[str]) -> set[str]:
        return wanted - self.names


async def scrape_all(http: httpx.AsyncClient, stack: Stack) -> Scrape:
    scraped = Scrape()
    for process in PROCESSES:
        response = await http.get(stack.metrics_url(process))
        assert response.status_code == 200, f"{process}: {response.text}"
        for line in response.text.splitlines():
            if match := SERIES.match(line):
                scraped.names.add(match.group())
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                scraped.labels.update(sample.labels)
    return scraped


async def test_every_metric_the_dashboard_queries_is_in_a_real_scrape(
    observed: Stack, http: httpx.AsyncClient
) -> None:
    wanted = dashboard.metric_names(dashboard.load())
    assert {"service_tree_router_requests_total", "service_tree_scheduler_held"} <= wanted  # the parse works

    router = Router(http, observed.router_url)
    admin = admin_token(observed, login="dashboard_admin")
    catalog = await create_catalog(router, admin, {"Garden": [("Rake", 300, 2)]}, prefix="Charted")
    rake = catalog.products["Rake"].id
    customer = await register(router, "charted")
    await bought(router, customer.token, catalog.shop_id, [(rake, 1)])
    refusal = await buy(router, customer.token, catalog.shop_id, [(rake, 50)])  # errors by code
    assert isinstance(refusal, GraphQLClientGraphQLMultiError)
    assert codes(refusal) == ["INSUFFICIENT_STOCK"]
    delivered = await router.as_(admin).deliver(
        DeliverInput(product_id=rake, count=5, key=f"charted-{uuid.uuid4().hex}")
    )
    assert delivered.deliver.key
    # A craft firing every second: runs exist, and their deliveries observe the lateness histogram.
    factory = await create_factory(router, admin, prefix="Charted")
    craft = await create_craft(router, admin, factory.id, rake, count=1, interval=1)
    runs = await poll(
        lambda: settled_runs(router, admin, craft.id, within=10),
        lambda runs: any(run.status.value == "DELIVERED" for run in runs),
        within=60,
    )
    assert any(run.status.value == "DELIVERED" for run in runs), runs

    scraped = await poll(
        lambda: scrape_all(http, observed), lambda scraped: not scraped.missing(wanted), within=60
    )
    assert scraped.missing(wanted) == set(), "the dashboard queries series no process exposes"
    unknown = dashboard.grouping_labels(dashboard.load()) - scraped.labels - {"le"} - SCRAPE_LABELS
    assert unknown == set(), "the dashboard groups by labels no series has"
