"""What the Grafana dashboard (deploy/observability/grafana/dashboards/service-tree.json) asks Prometheus: its
PromQL expressions, the metric names and the grouping labels they use."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "deploy" / "observability" / "grafana" / "dashboards" / "service-tree.json"

# Our metrics and Hive Gateway's; a bare identifier such as `le` or `rate` is not one.
_METRIC = re.compile(r"\b(?:service_tree|graphql)_\w+")
_GROUPING = re.compile(r"\bby\s*\(([^)]*)\)")


def load() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included (a collapsed row holds its panels)."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def expressions(dashboard: dict[str, Any]) -> list[str]:
    """The PromQL of every panel's targets and of the template variables' queries."""
    found = [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        found.append(query["query"] if isinstance(query, dict) else str(query or ""))
    return found


def metric_names(dashboard: dict[str, Any]) -> set[str]:
    """Every series name the expressions select, as Prometheus stores it (histograms by _bucket, _sum or
    _count, counters with the name they are exposed under)."""
    return {name for expr in expressions(dashboard) for name in _METRIC.findall(expr)}


def grouping_labels(dashboard: dict[str, Any]) -> set[str]:
    """Every label the expressions group by (`sum by (le, operation)`, ...)."""
    return {
        label.strip()
        for expr in expressions(dashboard)
        for group in _GROUPING.findall(expr)
        for label in group.split(",")
        if label.strip()
    }
