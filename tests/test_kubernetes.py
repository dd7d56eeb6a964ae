"""The Kubernetes manifests (deploy/kubernetes/): every overlay renders and validates against the Kubernetes API
schemas, strictly; the production overlay sets every setting the code requires outside development and only
settings the code reads; keys and database URLs come from Secrets; pods run as non-root on a read-only root;
resources cover the benchmark's figures; and the NetworkPolicies allow exactly the calls the system makes."""

import copy
import importlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml  # type: ignore[import-untyped]
from kubernetes_validate.utils import SchemaNotFoundError  # type: ignore[import-untyped]
from pydantic import model_validator

from subgraphs import registry
from subgraphs._common.settings import SubgraphSettings
from tests.code_settings import router_reads
from tests.kubernetes import (
    ROOT,
    Object,
    SecretRef,
    containers,
    environment,
    main_container,
    manifests,
    of_kind,
    pod_spec,
    processes,
    render,
    render_path,
    workloads,
)
from tools import deployment, kubernetes

pytestmark = pytest.mark.db_agnostic

KUBERNETES_VERSION = "1.37"  # the schemas kubernetes-validate bundles, as the kubectl it comes beside
OVERLAYS = kubernetes.OVERLAYS
NAMESPACES = {"dev": "service-tree-dev", "production": "service-tree"}
# What a subgraph process reads besides its settings: the entrypoint's PORT, the logging setup's LOG_FORMAT,
# the metrics' folder of its processes, OpenTelemetry's service name and uvicorn's trusted forwarders.
PROCESS_ENV = {"PORT", "LOG_FORMAT", "PROMETHEUS_MULTIPROC_DIR", "OTEL_SERVICE_NAME", "FORWARDED_ALLOW_IPS"}
# Read by Node itself, not the router's code.
NODE_ENV = {"NODE_OPTIONS"}
IMAGES = {
    kubernetes.SUBGRAPH_IMAGE: ROOT / "Dockerfile",
    kubernetes.ROUTER_IMAGE: ROOT / "router" / "Dockerfile",
}
BENCH_RESULTS = ROOT / "bench" / "results"


@pytest.mark.parametrize(
    "folder", ["base", "dev-database", "overlays/dev", "overlays/production"], ids=lambda f: f.split("/")[-1]
)
def test_every_kustomization_renders(folder: str) -> None:
    assert render_path(manifests() / folder)


def validation_errors(objects: list[Object]) -> list[str]:
    """Every object that does not validate against the Kubernetes API schemas (strict: no unknown field)."""
    errors = []
    for obj in objects:
        where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
        except SchemaNotFoundError as error:
            errors.append(f"{where}: {error.message}")
    return errors


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    assert validation_errors(render(overlay)) == []


def _unknown_field(deployment: Object) -> None:
    pod_spec(deployment)["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 80}}


def _wrong_type(deployment: Object) -> None:
    deployment["spec"]["replicas"] = "two"


def _missing_field(deployment: Object) -> None:
    del pod_spec(deployment)["containers"][0]["name"]


def _unknown_kind(deployment: Object) -> None:
    deployment["apiVersion"] = "apps/v1beta9"


@pytest.mark.parametrize("spoil", [_unknown_field, _wrong_type, _missing_field, _unknown_kind])
def test_the_validation_refuses_mistakes(spoil: Callable[[Object], None]) -> None:
    spoiled = copy.deepcopy(of_kind(render("production"), "Deployment")[registry.ROUTER])
    spoil(spoiled)
    assert validation_errors([spoiled]) != []


def _names(objects: list[Object]) -> set[tuple[str, str]]:
    # The generated ConfigMap's name ends in a hash of its content.
    return {
        (obj["kind"], re.sub(r"^(service-tree)-[a-z0-9]{10}$", r"\1", obj["metadata"]["name"]))
        for obj in objects
    }


def expected_objects(overlay: str) -> set[tuple[str, str]]:
    """The objects of an overlay, derived from the registry."""
    names = processes()
    found = {("Namespace", NAMESPACES[overlay]), ("ConfigMap", kubernetes.CONFIG)}
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"):
        found |= {(kind, name) for name in names}
    found |= {("HorizontalPodAutoscaler", name) for name in registry.NAMES}
    found |= {("NetworkPolicy", "default-deny"), ("NetworkPolicy", "dns")}
    if overlay == "dev":
        postgres = kubernetes.POSTGRES
        found |= {("StatefulSet", postgres), ("Service", postgres), ("NetworkPolicy", postgres)}
        found |= {("ConfigMap", f"{postgres}-init")}
        found |= {("Secret", kubernetes.secret_name(name)) for name in (*registry.NAMES, postgres)}
        found |= {("Secret", kubernetes.identity_secret_name(name)) for name in registry.NAMES}
    else:
        found |= {("Ingress", registry.ROUTER)}
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_holds_the_objects_the_registry_implies(overlay: str) -> None:
    objects = render(overlay)
    assert _names(objects) == expected_objects(overlay)
    assert {obj["metadata"].get("namespace", NAMESPACES[overlay]) for obj in objects} == {NAMESPACES[overlay]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_replicas_rollouts_budgets_and_autoscaling(overlay: str) -> None:
    objects = render(overlay)
    deployments = of_kind(objects, "Deployment")
    budgets = of_kind(objects, "PodDisruptionBudget")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    assert deployments[registry.ROUTER]["spec"]["replicas"] == 2
    for name in processes():
        spec = deployments[name]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items()
        # A rollout makes a new pod ready before an old one goes: never fewer ready pods than before.
        assert spec["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
        }
        budget = budgets[name]["spec"]
        assert budget["minAvailable"] == 1
        assert budget["selector"]["matchLabels"].items() <= labels.items()
    for name in registry.NAMES:
        # The autoscaler owns a subgraph's replicas (2 at least): an apply must not reset them.
        assert "replicas" not in deployments[name]["spec"]
        scaler = autoscalers[name]["spec"]
        assert scaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert scaler["minReplicas"] == 2 and scaler["maxReplicas"] > 2
        assert [metric["resource"]["name"] for metric in scaler["metrics"]] == ["cpu"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_before_a_subgraph_pod_serves(overlay: str) -> None:
    """Each subgraph pod migrates its own database in an init container, which gets nothing but its URL, then
    serves without migrating again."""
    objects = render(overlay)
    for sub in registry.SUBGRAPHS:
        spec = pod_spec(workloads(objects)[sub.name])
        (migrate,) = spec["initContainers"]
        assert migrate["args"] == ["migrate", sub.name]
        assert migrate["image"] == main_container(objects, sub.name)["image"]
        url = f"{sub.env_prefix}DATABASE_URL"
        assert environment(objects, migrate) == {
            url: environment(objects, main_container(objects, sub.name))[url]
        }
        assert main_container(objects, sub.name)["args"] == ["serve", sub.name]


def _how_run(objects: list[Object]) -> dict[str, list[dict[str, Any]]]:
    """What each process's containers run, serve on and are probed at."""
    kept = ("name", "args", "ports", "readinessProbe", "livenessProbe")
    return {
        name: [{key: c.get(key) for key in kept} for c in containers(workloads(objects)[name])]
        for name in processes()
    }


def test_the_dev_overlay_runs_and_probes_the_processes_as_production() -> None:
    """So the probes checked on production's processes (tests/e2e/test_kubernetes_probes.py) hold for dev."""
    assert _how_run(render("dev")) == _how_run(render("production"))


def dockerfile_user(path: Path) -> int:
    """The numeric user the image's last stage runs as."""
    users = re.findall(r"^USER (\d+)(?::\d+)?$", path.read_text(), re.MULTILINE)
    assert users, f"{path.relative_to(ROOT)}: USER by number, so that runAsNonRoot can be checked"
    return int(users[-1])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_non_root_on_a_read_only_root(overlay: str) -> None:
    for name, workload in workloads(render(overlay)).items():
        spec = pod_spec(workload)
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, name
        assert security["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(workload):
            assert container["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"]},
            }, f"{name}/{container['name']}"
        if name in processes():
            image = kubernetes.ROUTER_IMAGE if name == registry.ROUTER else kubernetes.SUBGRAPH_IMAGE
            assert security["runAsUser"] == dockerfile_user(IMAGES[image]), f"{name}: the image's own user"


# The loads a pod's memory is sized for: a report that measured peak RSS under fewer of them (a run of the
# flagship alone) does not resize anything.
SIZED_LOADS = ("during the flagship at concurrency 10", "during 1000 crafts")


def _peak_rss_under_every_sized_load(report: str) -> bool:
    if "## Peak RSS, MiB" not in report:
        return False
    section = report.split("## Peak RSS, MiB", 1)[1].split("\n## ", 1)[0]
    return all(f"| {load}" in section for load in SIZED_LOADS)


def newest_bench_report() -> str:
    """The newest report (by its timestamped name, in any folder of bench/results/) that measures peak RSS
    under every load the sizing covers."""
    reports = sorted(
        (path for path in BENCH_RESULTS.rglob("*.md") if _peak_rss_under_every_sized_load(path.read_text())),
        key=lambda path: path.name,
    )
    assert reports, "no benchmark report with peak RSS under the flagship and 1,000 crafts in bench/results/"
    return reports[-1].read_text()


def peak_rss_mib(report: str) -> dict[str, float]:
    """Each process's highest peak RSS in the report's "after" column, over every case and repeat."""
    section = report.split("## Peak RSS, MiB", 1)[1].split("\n## ", 1)[0]
    peaks: dict[str, float] = {}
    for row in re.findall(r"^\| [^|]+ \| (\w+) \| ([^|]+) \|", section, re.MULTILINE):
        process, cell = row
        if process in processes():
            numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", cell)]
            peaks[process] = max(peaks.get(process, 0.0), *numbers)
    return peaks


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * units[unit]


def cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_resources_cover_the_benchmark_figures(overlay: str) -> None:
    """Every container requests and limits CPU and memory; each process's request and limit hold the peak RSS
    of the newest benchmark report that measures it."""
    peaks = peak_rss_mib(newest_bench_report())
    assert set(peaks) == set(processes())
    objects = render(overlay)
    for workload in workloads(objects).values():
        for container in containers(workload):
            resources = container["resources"]
            assert set(resources) == {"requests", "limits"} and set(resources["requests"]) == {
                "cpu",
                "memory",
            }
            assert set(resources["limits"]) == {"cpu", "memory"}
            assert cores(resources["requests"]["cpu"]) <= cores(resources["limits"]["cpu"])
            assert mebibytes(resources["requests"]["memory"]) <= mebibytes(resources["limits"]["memory"])
    for name in processes():
        resources = main_container(objects, name)["resources"]
        assert mebibytes(resources["requests"]["memory"]) >= peaks[name], name
        assert mebibytes(resources["limits"]["memory"]) >= peaks[name], name


def test_the_sizing_names_the_benchmark_figures() -> None:
    """The generator's figures are the newest report's (a new report should resize them)."""
    peaks = peak_rss_mib(newest_bench_report())
    for name in processes():
        assert kubernetes.SIZING[name].peak_rss_mib == pytest.approx(peaks[name]), name


SECRET_LIKE = re.compile(r"SECRET|PASSWORD|DATABASE_URL|TOKEN|KEY", re.IGNORECASE)


# Settings that name a file of a Secret volume (a key file), not a secret value themselves.
KEY_FILES = {
    "PURCHASE_SIGNING_KEYS_DIR",
    "PURCHASE_SERVICE_CREDENTIALS_FILE",
    *(f"{registry.get(name).env_prefix}SERVICE_SECRET_FILE" for name in registry.SERVICES),
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_keys_and_database_urls_come_from_each_process_own_secret(overlay: str) -> None:
    objects = render(overlay)
    secrets = of_kind(objects, "Secret")
    for name, workload in workloads(objects).items():
        own = {kubernetes.secret_name(name), kubernetes.identity_secret_name(name)}
        for container in containers(workload):
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            for variable, value in environment(objects, container).items():
                if variable in KEY_FILES:
                    assert isinstance(value, str) and value.startswith(kubernetes.IDENTITY_DIR), variable
                    assert kubernetes.IDENTITY_DIR in mounts, f"{name}: {variable} names a file it has"
                elif SECRET_LIKE.search(variable):
                    assert isinstance(value, SecretRef), f"{name}: {variable} must come from a Secret"
                if isinstance(value, SecretRef):
                    assert value.secret == kubernetes.secret_name(name), f"{name}: its own Secret only"
                    if overlay == "dev":
                        assert value.key in secrets[value.secret]["stringData"], f"{name}: {value}"
        for volume in pod_spec(workload).get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in own, f"{name}: its own Secrets only"
    if overlay == "production":
        assert secrets == {}, "production's Secrets are made beforehand, never kept in the manifests"


def test_the_dev_overlay_commits_no_key_and_each_process_gets_only_its_own_part() -> None:
    """The dev overlay's identity is made on the machine that applies it (.gitignore'd), never committed; the
    router holds no secret at all, a service only its own secret, purchase the signing keys."""
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert f"{kubernetes.DEV_IDENTITY}/" in ignored
    committed = "\n".join(path.read_text() for path in (ROOT / kubernetes.DIR).rglob("*.yaml"))
    assert "PRIVATE KEY" not in committed and "sha256:" not in committed
    objects = render("dev")
    secrets = of_kind(objects, "Secret")
    signing = secrets[kubernetes.identity_secret_name(registry.IDENTITY)]["data"]
    assert "keys.json" in signing and any(key.endswith(".pem") for key in signing)
    for service in registry.SERVICES:
        assert set(secrets[kubernetes.identity_secret_name(service)]["data"]) == {f"{service}.secret"}
    assert "volumes" not in pod_spec(workloads(objects)[registry.ROUTER]) or all(
        "secret" not in volume for volume in pod_spec(workloads(objects)[registry.ROUTER])["volumes"]
    )


def _variable(settings: type[SubgraphSettings], name: str) -> str:
    alias = settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else f"{settings.model_config.get('env_prefix', '')}{name.upper()}"


def settings_of(subgraph: str) -> type[SubgraphSettings]:
    settings: type[SubgraphSettings] = importlib.import_module(registry.get(subgraph).settings).Settings
    return settings


def _loads(settings: type[SubgraphSettings], env: dict[str, str]) -> bool:
    by_variable = {_variable(settings, name): name for name in settings.model_fields}
    try:
        values: dict[str, Any] = {
            by_variable[name]: value for name, value in env.items() if name in by_variable
        }
        settings(**values)
    except ValueError:
        return False
    return True


# Placeholders of the right form for what the Secrets hold.
PLACEHOLDERS = {kubernetes.DATABASE_URL_KEY: "postgresql://u:p@db:5432/x"}


def required_outside_development(
    settings: type[SubgraphSettings], calls: set[str], complete: dict[str, str]
) -> set[str]:
    """The variables a subgraph must be given outside development, from its Settings: fields without a
    default (in the shared SubgraphSettings, whose subclasses default to local development values, or its
    own), the addresses of the processes it calls (`calls`; their defaults are this machine's), and every
    field whose default the settings refuse outside development (found by leaving each at its default in
    `complete`, an environment the settings accept)."""
    no_default = {
        name
        for cls in (SubgraphSettings, settings)
        for name, info in cls.model_fields.items()
        if info.is_required()
    }
    refused = {
        name
        for name in settings.model_fields
        if not _loads(settings, {k: v for k, v in complete.items() if k != _variable(settings, name)})
    }
    return {_variable(settings, name) for name in no_default | calls | refused}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No setting of the machine running the tests reaches the Settings classes."""
    prefixes = ("SERVICE_TREE_", *(sub.env_prefix for sub in registry.SUBGRAPHS))
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)


def production_environment(subgraph: str) -> tuple[dict[str, str | SecretRef], dict[str, str]]:
    """The production overlay's environment of a subgraph, as written and with placeholders for its Secret."""
    objects = render("production")
    env = environment(objects, main_container(objects, subgraph))
    complete = {name: PLACEHOLDERS[v.key] if isinstance(v, SecretRef) else v for name, v in env.items()}
    return env, complete


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("subgraph", registry.NAMES)
def test_production_sets_every_setting_a_subgraph_requires(subgraph: str) -> None:
    env, complete = production_environment(subgraph)
    settings = settings_of(subgraph)
    assert complete["SERVICE_TREE_ENV"] != "development"
    assert _loads(settings, complete), "the settings refuse the production overlay's environment"
    required = required_outside_development(settings, set(registry.get(subgraph).calls), complete)
    assert f"{subgraph.upper()}_DATABASE_URL" in required  # found, as today
    assert required & KEY_FILES, "its identity files are required outside development"
    assert required - set(env) == set()


@pytest.mark.usefixtures("clean_environment")
def test_the_requirement_search_finds_a_newly_refused_default() -> None:
    """A setting the code starts to require outside development is found without a change to this test."""
    shop = settings_of("shop")

    class Stricter(shop):  # type: ignore[valid-type,misc]
        @model_validator(mode="after")
        def _refuse_default_timeout(self) -> "Stricter":
            if self.environment != "development" and self.purchase_timeout_seconds == 5.0:
                raise ValueError("SHOP_PURCHASE_TIMEOUT_SECONDS must be set outside development")
            return self

    _, complete = production_environment("shop")
    complete["SHOP_PURCHASE_TIMEOUT_SECONDS"] = "3"
    assert "SHOP_PURCHASE_TIMEOUT_SECONDS" in required_outside_development(Stricter, set(), complete)
    assert "SHOP_PURCHASE_TIMEOUT_SECONDS" not in required_outside_development(shop, set(), complete)


def router_sources() -> list[Path]:
    """The router's own TypeScript (gateway.config.ts and the modules beside or under it)."""
    found = [
        path
        for path in (ROOT / "router").rglob("*.ts")
        if "node_modules" not in path.parts and not path.name.endswith(".d.ts")
    ]
    assert found
    return found


def router_requires() -> set[str]:
    """The variables the router refuses to start without outside development (its "... must be set" errors),
    and the subgraphs' URLs, whose defaults (the supergraph's routing URLs) are this machine's."""
    source = "\n".join(path.read_text() for path in router_sources())
    required = set(re.findall(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+) must be set", source))
    return required | {sub.url_env for sub in registry.SUBGRAPHS}


def test_production_sets_every_setting_the_router_requires() -> None:
    objects = render("production")
    env = environment(objects, main_container(objects, registry.ROUTER))
    assert env["SERVICE_TREE_ENV"] != "development"
    required = router_requires()
    assert "SERVICE_TREE_IDENTITY_URL" in required  # found, as today
    assert required - set(env) == set()
    for sub in registry.SUBGRAPHS:
        assert env[sub.url_env] == f"http://{sub.name}:{deployment.SUBGRAPH_PORT}/graphql"
    # The kubelet's probes and the Service reach the pod's address, not its loopback.
    assert env["ROUTER_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_set_is_one_the_code_reads(overlay: str) -> None:
    objects = render(overlay)
    router = set(environment(objects, main_container(objects, registry.ROUTER)))
    assert router - router_reads() - NODE_ENV == set()
    shared = {
        info.validation_alias
        for info in SubgraphSettings.model_fields.values()
        if isinstance(info.validation_alias, str)
    }
    for sub in registry.SUBGRAPHS:
        own = {_variable(settings_of(sub.name), name) for name in settings_of(sub.name).model_fields}
        variables = set(environment(objects, main_container(objects, sub.name)))
        assert variables - own - shared - PROCESS_ENV == set(), sub.name


# NetworkPolicies, evaluated: which pod may open a connection to which, on which port.
@dataclass(frozen=True)
class Endpoint:
    """A pod (in a namespace, with labels) or an address outside the cluster."""

    name: str
    namespace: str | None  # None: outside the cluster
    labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[tuple[str, int], ...] = field(default=(), compare=False)


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, f"only matchLabels is evaluated here: {selector}"
    wanted: dict[str, str] = selector.get("matchLabels", {})
    return wanted.items() <= labels.items()


def _peer_matches(peer: dict[str, Any], endpoint: Endpoint, policy_namespace: str) -> bool:
    assert "ipBlock" not in peer, "ipBlock peers are not evaluated here"
    if endpoint.namespace is None:
        return False  # a pod or namespace selector never matches an address outside the cluster
    if "namespaceSelector" in peer:
        namespace_labels = {"kubernetes.io/metadata.name": endpoint.namespace}
        if not _matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return _matches(peer.get("podSelector", {}), dict(endpoint.labels))


def _rule_allows(
    rule: dict[str, Any], side: str, peer: Endpoint, port: tuple[str, int], namespace: str
) -> bool:
    peers = rule.get(side)
    if peers and not any(_peer_matches(candidate, peer, namespace) for candidate in peers):
        return False
    ports = rule.get("ports")
    return not ports or any((p.get("protocol", "TCP"), p["port"]) == port for p in ports)


def _allowed(
    policies: list[Object], direction: str, subject: Endpoint, peer: Endpoint, port: tuple[str, int]
) -> bool:
    if subject.namespace is None or subject.namespace not in {p["metadata"]["namespace"] for p in policies}:
        return True  # no policy of these manifests applies to it
    side = "to" if direction == "Egress" else "from"
    selecting = [
        policy
        for policy in policies
        if direction in policy["spec"]["policyTypes"]
        and _matches(policy["spec"]["podSelector"], dict(subject.labels))
    ]
    if not selecting:
        return True
    return any(
        _rule_allows(rule, side, peer, port, policy["metadata"]["namespace"])
        for policy in selecting
        for rule in policy["spec"].get(direction.lower(), [])
    )


def endpoints(objects: list[Object], namespace: str) -> list[Endpoint]:
    """The overlay's pods and the world around them: an ingress controller, the cluster's DNS, a database
    managed outside the cluster and the internet."""
    found = []
    for name, workload in workloads(objects).items():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        ports = tuple(
            (port.get("protocol", "TCP"), port["containerPort"])
            for container in pod_spec(workload)["containers"]
            for port in container.get("ports", [])
        )
        found.append(Endpoint(name, namespace, tuple(sorted(labels.items())), ports))
    return [
        *found,
        Endpoint("ingress-controller", "ingress-nginx", (("app", "ingress-nginx"),), (("TCP", 443),)),
        Endpoint("kube-dns", "kube-system", (("k8s-app", "kube-dns"),), (("UDP", 53), ("TCP", 53))),
        Endpoint("managed-postgresql", None, (), (("TCP", 5432),)),
        Endpoint("internet", None, (), (("TCP", 443),)),
    ]


def allowed_connections(objects: list[Object], namespace: str) -> set[tuple[str, str, str, int]]:
    """(from, to, protocol, port) for every connection the NetworkPolicies let through."""
    policies = list(of_kind(objects, "NetworkPolicy").values())
    everything = endpoints(objects, namespace)
    return {
        (source.name, target.name, *port)
        for source in everything
        for target in everything
        for port in target.ports
        if source != target
        and _allowed(policies, "Egress", source, target, port)
        and _allowed(policies, "Ingress", target, source, port)
    }


def expected_connections(overlay: str) -> set[tuple[str, str, str, int]]:
    """What the system does, from the registry: the router is called from outside the namespace and calls
    every subgraph, each subgraph calls what its `calls` name and its PostgreSQL, each service calls the
    identity subgraph (keys, its token, ended sessions), every pod asks the cluster's DNS; and whatever is
    outside the namespace may reach whatever else is (no policy here governs them)."""
    router, port = registry.ROUTER, deployment.SUBGRAPH_PORT
    world = {
        "ingress-controller": [("TCP", 443)],
        "kube-dns": [("UDP", 53), ("TCP", 53)],
        "managed-postgresql": [("TCP", 5432)],
        "internet": [("TCP", 443)],
    }
    databases = ["managed-postgresql"] + (["postgres"] if overlay == "dev" else [])
    pods = [*processes(), *(["postgres"] if overlay == "dev" else [])]
    expected = {(outside, router, "TCP", registry.ROUTER_PORT) for outside in world}
    expected |= {(router, sub.name, "TCP", port) for sub in registry.SUBGRAPHS}
    for sub in registry.SUBGRAPHS:
        for target in sub.calls.values():
            expected.add((sub.name, target, "TCP", registry.ROUTER_PORT if target == router else port))
        if sub.name in registry.SERVICES:
            expected.add((sub.name, registry.IDENTITY, "TCP", port))
        expected |= {(sub.name, database, "TCP", 5432) for database in databases}
    expected |= {(pod, "kube-dns", protocol, 53) for pod in pods for protocol in ("UDP", "TCP")}
    expected |= {(a, b, *p) for a in world for b in world if a != b for p in world[b]}
    return expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_allow_exactly_the_calls_the_system_makes(overlay: str) -> None:
    objects = render(overlay)
    assert allowed_connections(objects, NAMESPACES[overlay]) == expected_connections(overlay)


def test_the_policy_check_sees_a_missing_or_an_extra_allowance() -> None:
    objects = render("production")
    namespace = NAMESPACES["production"]
    assert ("shop", "purchase", "TCP", 8000) in allowed_connections(objects, namespace)
    # The purchase subgraph stops accepting the shop's calls.
    narrower = copy.deepcopy(objects)
    sources = of_kind(narrower, "NetworkPolicy")["purchase"]["spec"]["ingress"][0]["from"]
    sources.remove(
        next(peer for peer in sources if peer == {"podSelector": {"matchLabels": kubernetes.labels("shop")}})
    )
    assert ("shop", "purchase", "TCP", 8000) not in allowed_connections(narrower, namespace)
    # The factory accepts anything: only pods whose egress is open reach it (not the shop's).
    wider = copy.deepcopy(objects)
    of_kind(wider, "NetworkPolicy")["factory"]["spec"]["ingress"].append({})
    assert ("shop", "factory", "TCP", 8000) not in allowed_connections(wider, namespace)
    assert ("ingress-controller", "factory", "TCP", 8000) in allowed_connections(wider, namespace)


def _dockerfile_stages(path: Path) -> list[str]:
    return re.findall(r"^FROM (\S+)", path.read_text(), re.MULTILINE)


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_the_images_are_pinned_and_run_as_non_root(image: str) -> None:
    dockerfile = IMAGES[image]
    for base in _dockerfile_stages(dockerfile):
        assert re.fullmatch(r"[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[0-9a-f]{64})", base), (
            f"{dockerfile.relative_to(ROOT)}: {base} is not an exact release or a digest"
        )
    assert dockerfile_user(dockerfile) != 0


def test_the_router_image_holds_the_built_web_app_and_every_router_source() -> None:
    dockerfile = (ROOT / "router" / "Dockerfile").read_text()
    assert "COPY web/package.json web/package-lock.json ./\nRUN npm ci " in dockerfile  # the app's own lock
    assert "vite build" in dockerfile
    assert "COPY --from=web /web/dist /app/web/dist" in dockerfile
    assert "ROUTER_WEB_DIR=/app/web/dist" in dockerfile
    assert "COPY router/ ./" in dockerfile  # not file by file: the gateway's modules come along
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "**/node_modules" in ignored and "web/dist" in ignored


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlays_name_the_repository_s_images_pinned(overlay: str) -> None:
    """Every image but PostgreSQL's is one of the Dockerfiles', at the tag or digest its overlay sets: an exact
    release (or the locally built `dev` in the dev overlay)."""
    folder = ROOT / kubernetes.DIR / "overlays" / overlay
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    images = {entry["name"]: entry for entry in kustomization["images"]}
    assert set(images) == set(IMAGES)
    expected = {
        f"{entry.get('newName', name)}"
        + (f"@{entry['digest']}" if "digest" in entry else f":{entry['newTag']}")
        for name, entry in images.items()
    }
    named = {c["image"] for w in workloads(render(overlay)).values() for c in containers(w)}
    assert named - {deployment.POSTGRES_IMAGE} == expected
    release = r"(:\d+\.\d+\.\d+|@sha256:[0-9a-f]{64})$"
    for image in expected:
        assert re.search(release if overlay == "production" else f"{release}|:dev$", image), image


def _ingress_backends(objects: list[Object]) -> Iterator[str]:
    for ingress in of_kind(objects, "Ingress").values():
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                yield path["backend"]["service"]["name"]


def test_production_exposes_only_the_router() -> None:
    objects = render("production")
    assert set(_ingress_backends(objects)) == {registry.ROUTER}
    services = of_kind(objects, "Service")
    assert all(service["spec"].get("type", "ClusterIP") == "ClusterIP" for service in services.values())


def test_dev_postgresql_keeps_its_data_on_a_volume() -> None:
    objects = render("dev")
    postgres = of_kind(objects, "StatefulSet")[kubernetes.POSTGRES]
    (claim,) = postgres["spec"]["volumeClaimTemplates"]
    (container,) = pod_spec(postgres)["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == "/var/lib/postgresql/data"
    env = environment(objects, container)
    assert env[deployment.DATABASES_ENV] == " ".join(registry.NAMES)
    assert (
        of_kind(objects, "ConfigMap")["postgres-init"]["data"]["init.sql"]
        == (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    )
    for sub in registry.SUBGRAPHS:
        url = of_kind(objects, "Secret")[kubernetes.secret_name(sub.name)]["stringData"]["database-url"]
        assert url.startswith(f"postgresql://{deployment.POSTGRES_USER}:") and url.endswith(
            f"@{kubernetes.POSTGRES}:5432/{sub.name}"
        )
