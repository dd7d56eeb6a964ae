"""The observability profile hangs together: Prometheus' scrape config (generated from the registry) lists the
router and every subgraph's replicas and is one `promtool check config` accepts, Grafana's provisioning points
at that Prometheus and at the mounted dashboard, whose panels all query it. That its metrics exist is checked
against real processes in tests/e2e/test_observability.py."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from subgraphs import registry
from tests import dashboard
from tools import deployment

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml")
GRAFANA = ROOT / deployment.GRAFANA_DIR
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "service-tree.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return found


@pytest.fixture(scope="module")
def scrape_config() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / deployment.PROMETHEUS_CONFIG).read_text())
    return loaded


def _promtool(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool is not installed (make promtool installs Debian's prometheus package)")
    return subprocess.run(
        [tool, "check", "config", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_accepts_the_prometheus_config() -> None:
    checked = _promtool(ROOT / deployment.PROMETHEUS_CONFIG)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize(
    "spoil",
    [
        ("scrape_interval:", "scrape_intervall:"),  # an unknown key
        ("type: A", "type: B"),  # an unknown DNS record type
        ('"15s"', '"soon"'),  # not a duration
    ],
    ids=["key", "record-type", "duration"],
)
def test_promtool_refuses_a_spoiled_config(spoil: tuple[str, str], tmp_path: Path) -> None:
    """The check can fail: the same file with one mistake is refused."""
    original = (ROOT / deployment.PROMETHEUS_CONFIG).read_text()
    assert spoil[0] in original
    spoiled = tmp_path / "prometheus.yml"
    spoiled.write_text(original.replace(spoil[0], spoil[1], 1))
    assert _promtool(spoiled).returncode != 0


def test_prometheus_scrapes_the_router_and_every_replica_of_every_subgraph(
    scrape_config: dict[str, Any], services: dict[str, Any]
) -> None:
    jobs = {job["job_name"]: job for job in scrape_config["scrape_configs"]}
    assert list(jobs) == [registry.ROUTER, *registry.NAMES]
    assert jobs[registry.ROUTER]["static_configs"] == [{"targets": [f"router:{registry.ROUTER_PORT}"]}]
    for name in registry.NAMES:
        # Docker's DNS answers a service name with one address per replica: each is a target.
        (lookup,) = jobs[name]["dns_sd_configs"]
        assert lookup["names"] == [name] and lookup["type"] == "A"
        assert lookup["port"] == deployment.SUBGRAPH_PORT
        assert services[name]["environment"]["PORT"] == str(lookup["port"])
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in jobs.values())


def test_the_observability_profile_runs_pinned_prometheus_and_grafana(services: dict[str, Any]) -> None:
    prometheus, grafana = services[deployment.PROMETHEUS], services[deployment.GRAFANA]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"]), "pin a release"
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", grafana["image"]), "pin a release"
    assert prometheus["profiles"] == grafana["profiles"] == ["observability"]
    assert f"./{deployment.PROMETHEUS_CONFIG}:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    assert prometheus["ports"] == ["9090:9090"] and grafana["ports"] == ["3000:3000"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"]}
    assert (
        mounts["/etc/grafana/provisioning/datasources/prometheus.yml"] == f"./{DATASOURCES.relative_to(ROOT)}"
    )
    assert (
        mounts["/etc/grafana/provisioning/dashboards/service-tree.yml"] == f"./{PROVIDERS.relative_to(ROOT)}"
    )
    assert mounts[f"{deployment.GRAFANA_DASHBOARDS}/service-tree.json"] == (
        f"./{dashboard.DASHBOARD.relative_to(ROOT)}"
    )
    environment = grafana["environment"]
    assert environment["GF_SECURITY_ADMIN_PASSWORD"] == "${GRAFANA_ADMIN_PASSWORD:-admin}"
    assert environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == (
        f"{deployment.GRAFANA_DASHBOARDS}/service-tree.json"
    )


def test_every_process_logs_json_and_subgraphs_count_in_an_empty_folder(services: dict[str, Any]) -> None:
    """LOG_FORMAT=json everywhere; the subgraphs' multiprocess metrics folder is a tmpfs, empty at each start."""
    assert services[registry.ROUTER]["environment"]["LOG_FORMAT"] == "json"
    for name in registry.NAMES:
        environment = services[name]["environment"]
        assert environment["LOG_FORMAT"] == "json"
        assert environment["PROMETHEUS_MULTIPROC_DIR"] == deployment.METRICS_DIR
        assert services[name]["tmpfs"] == [deployment.METRICS_DIR]
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    assert 'rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db' in entrypoint  # also without a tmpfs


def test_grafana_reads_prometheus_and_the_dashboard_folder() -> None:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == f"http://{deployment.PROMETHEUS}:{deployment.PROMETHEUS_PORT}"
    (provider,) = yaml.safe_load(PROVIDERS.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == deployment.GRAFANA_DASHBOARDS


def test_every_panel_queries_the_provisioned_prometheus() -> None:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    board = dashboard.load()
    assert board["uid"] and board["title"] == "Service Tree"
    panels = list(dashboard.panels(board))
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    charts = [panel for panel in panels if panel["type"] != "row"]
    assert len(charts) >= 10
    for panel in charts:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]
            assert dashboard.metric_names({"panels": [{"targets": [target]}]}), target["expr"]
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, panel["title"]


def test_the_dashboard_selects_subgraphs_by_the_jobs_prometheus_scrapes(
    scrape_config: dict[str, Any],
) -> None:
    """The subgraph selector lists the job label, and every job a query names is one the config defines."""
    board = dashboard.load()
    (variable,) = board["templating"]["list"]
    assert "job)" in variable["query"]["query"]
    jobs = {job["job_name"] for job in scrape_config["scrape_configs"]}
    named = {value for expr in dashboard.expressions(board) for value in re.findall(r'job="([^"]+)"', expr)}
    assert named <= jobs


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    """Request rate and p95 latency (router and subgraphs), errors by code, SQL statements per request, the
    outbox, runs by status, delivery lateness and the scheduler's holder."""
    wanted = dashboard.metric_names(dashboard.load())
    assert wanted >= {
        "service_tree_router_requests_total",
        "service_tree_router_request_duration_seconds_bucket",
        "service_tree_router_errors_total",
        "service_tree_graphql_requests_total",
        "service_tree_graphql_request_duration_seconds_bucket",
        "service_tree_graphql_errors_total",
        "service_tree_sql_statements_per_request_bucket",
        "service_tree_outbox_backlog",
        "service_tree_outbox_oldest_age_seconds",
        "service_tree_craft_runs",
        "service_tree_delivery_lateness_seconds_bucket",
        "service_tree_scheduler_held",
    }
