"""graphql-http's GraphQL-over-HTTP server audit (npm) against the router and each subgraph: no MUST fails."""

import json
import logging
import subprocess
from collections import Counter
from typing import Any

import pytest

from subgraphs import registry
from tools.stack import ROOT, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

logger = logging.getLogger(__name__)

SCRIPT = ROOT / "tests" / "e2e" / "http_audit.mjs"
ENDPOINTS = [registry.ROUTER, *registry.NAMES]


def audit(urls: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each URL's audit results (id, name, status and, for a failed audit, reason and response)."""
    result = subprocess.run(
        ["node", str(SCRIPT), *urls], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    results: dict[str, list[dict[str, Any]]] = json.loads(result.stdout)
    return results


def test_the_router_and_every_subgraph_pass_every_must_of_the_graphql_over_http_audit(
    stack: Stack, request: pytest.FixtureRequest
) -> None:
    urls = {name: stack.subgraph_url(name) for name in ENDPOINTS}
    results = audit(list(urls.values()))
    failures: list[str] = []
    for name, url in urls.items():
        audits = results[url]
        counts = Counter(
            (entry["name"].split()[0], "ok" if entry["status"] == "ok" else "failed") for entry in audits
        )
        warnings = [entry["name"] for entry in audits if entry["status"] == "warn"]
        summary = (
            f"{name}: MUST {counts['MUST', 'ok']} passed, {counts['MUST', 'failed']} failed; "
            f"SHOULD {counts['SHOULD', 'ok']} passed, {len(warnings)} WARN; MAY {counts['MAY', 'ok']} passed, "
            f"{counts['MAY', 'failed']} notices"
        )
        request.node.user_properties.append((f"audit_{name}", summary))
        logger.info("%s; WARN: %s", summary, warnings)
        assert counts["MUST", "ok"] > 0, (name, audits)  # the audit ran
        failures += [
            f"{name}: {entry['name']}: {entry['reason']} (saw {entry['response']})"
            for entry in audits
            if entry["status"] == "error" or (entry["name"].startswith("MUST") and entry["status"] != "ok")
        ]
    assert not failures, "\n".join(failures)
