"""The probes the Kubernetes manifests name answer on the processes as the manifests start them: each subgraph
as its pod runs the image's entrypoint (the init container's command, then the main container's) with its
containers' environment, and the router as the launcher starts it, with its container's environment. The
database is a SQLite file instead of PostgreSQL, and each process gets a free port instead of its
container's."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs import registry
from tests.kubernetes import ROOT, Object, container_port, environment, pod_spec, render, resolved, workloads
from tools import identity, kubernetes
from tools.stack import Process, Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]


def _identity_volume(subgraph: str, source: Path, folder: Path) -> Path:
    """A local folder holding what the subgraph's identity Secret would mount: its keys, as files."""
    volume = folder / f"{subgraph}-identity"
    volume.mkdir(parents=True, exist_ok=True)
    for key, path in kubernetes.identity_keys(subgraph, source).items():
        shutil.copy(source / path, volume / key)
    return volume


def _local_folders(pod: Object, container: Object, folder: Path) -> dict[str, Path]:
    """A local folder for each emptyDir the container mounts (the metrics' folder under /tmp, say)."""
    empty = {volume["name"] for volume in pod.get("volumes", []) if "emptyDir" in volume}
    local = {}
    for mount in container.get("volumeMounts", []):
        if mount["name"] in empty:
            local[mount["mountPath"]] = folder / container["name"] / mount["name"]
            local[mount["mountPath"]].mkdir(parents=True, exist_ok=True)
    return local


def _base_env() -> dict[str, str]:
    """What the image gives every process: its tools on PATH (here, this environment's alembic and uvicorn)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return {"PATH": path, "HOME": os.environ.get("HOME", "/"), "PYTHONUNBUFFERED": "1"}


def _check_probe(probe: dict[str, Any], container: Object, port: int, told: int) -> None:
    """The probe's port is the one the process was told to serve on, and the probe succeeds there."""
    if "httpGet" in probe:
        assert container_port(container, probe["httpGet"]["port"]) == told
        response = httpx.get(
            f"http://127.0.0.1:{port}{probe['httpGet']['path']}", timeout=probe["timeoutSeconds"]
        )
        assert 200 <= response.status_code < 400, response.text
    else:
        assert container_port(container, probe["tcpSocket"]["port"]) == told
        with socket.create_connection(("127.0.0.1", port), timeout=probe["timeoutSeconds"]):
            pass


def _subgraph_processes(objects: list[Object], folder: Path) -> dict[str, tuple[Process, Object, int]]:
    """Each subgraph's main container as a process on a free port, its database migrated by its init
    container's command; (process, container, the port its container is told) by name."""
    started: dict[str, tuple[Process, Object, int]] = {}
    migrations = []
    source = folder / "identity"
    identity.ensure(source)
    ports = {sub.name: free_port() for sub in registry.SUBGRAPHS}
    for sub in registry.SUBGRAPHS:
        pod = pod_spec(workloads(objects)[sub.name])
        secrets = {kubernetes.DATABASE_URL_KEY: f"sqlite:///{folder / f'{sub.name}.db'}"}
        volumes = {kubernetes.IDENTITY_DIR: _identity_volume(sub.name, source, folder)}
        (migrate,) = pod["initContainers"]
        env = {
            **_base_env(),
            **resolved(environment(objects, migrate), secrets, _local_folders(pod, migrate, folder)),
        }
        command = ["sh", "deploy/entrypoint.sh", *migrate["args"]]
        migrations.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
        (container,) = pod["containers"]
        env = {
            **_base_env(),
            **resolved(
                environment(objects, container),
                secrets,
                {**_local_folders(pod, container, folder), **volumes},
            ),
        }
        told = int(env["PORT"])  # the entrypoint serves on $PORT
        env["PORT"] = str(port := ports[sub.name])
        if "SERVICE_TREE_IDENTITY_URL" in env:  # purchase, on the port it was given here
            env["SERVICE_TREE_IDENTITY_URL"] = f"http://127.0.0.1:{ports[registry.IDENTITY]}"
        argv = ["sh", "deploy/entrypoint.sh", *container["args"]]
        readiness = container["readinessProbe"]["httpGet"]["path"]
        started[sub.name] = (
            Process(sub.name, argv, env, port, readiness, folder / f"{sub.name}.log"),
            container,
            told,
        )
    for migration in migrations:
        output, _ = migration.communicate(timeout=120)
        assert migration.returncode == 0, output.decode(errors="replace")
    return started


def test_the_probes_answer_where_the_manifests_call_them(tmp_path: Path) -> None:
    """On the production overlay's environment (the dev overlay's containers are probed alike:
    tests/test_kubernetes.py)."""
    objects = render("production")
    subgraphs = _subgraph_processes(objects, tmp_path)
    router_pod = pod_spec(workloads(objects)[registry.ROUTER])
    (router,) = router_pod["containers"]
    env = resolved(environment(objects, router), {})
    told = int(env["ROUTER_PORT"])
    stack = Stack.on_free_ports(tmp_path / "router", **env)  # the launcher's router, on its own port
    stack.ports[registry.IDENTITY] = subgraphs[registry.IDENTITY][
        0
    ].port  # its identity URL, as the launcher's
    try:
        for process, _, _ in subgraphs.values():
            process.start()
        stack.start(registry.ROUTER)
        for process, _, _ in subgraphs.values():
            process.wait_healthy()
        for process, container, port in subgraphs.values():
            for kind in ("readinessProbe", "livenessProbe"):
                _check_probe(container[kind], container, process.port, port)
        for kind in ("readinessProbe", "livenessProbe"):
            _check_probe(router[kind], router, stack.ports[registry.ROUTER], told)
    finally:
        stack.stop()
        for process, _, _ in subgraphs.values():
            process.stop()
