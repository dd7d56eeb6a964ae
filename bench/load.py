"""HTTP load from wrk (in C: the client does not compete for Python's CPU), scripted by bench/graphql.lua."""

import json
import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
SCRIPT = Path(__file__).resolve().with_name("graphql.lua")
TIMEOUT_SECONDS = 60  # wrk's default of 2 s would drop the slow answers from the latency figures
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class Load:
    """What wrk measured for one operation at one concurrency."""

    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    not_ok: int  # answers with an HTTP status other than 200
    with_errors: int  # answers carrying GraphQL errors
    codes: dict[str, int] = field(default_factory=dict)  # GraphQL errors by extensions.code
    locked: int = 0  # answers mentioning "database is locked"
    socket_errors: int = 0  # connect, read, write errors and timeouts

    @property
    def per_second(self) -> float:
        """Requests answered per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def good(self) -> int:
        """Answers with status 200 and no GraphQL errors."""
        return self.requests - max(self.not_ok, self.with_errors)

    @property
    def clean(self) -> bool:
        """True when every answer was a 200 without errors and no socket failed."""
        return self.not_ok == 0 and self.with_errors == 0 and self.socket_errors == 0


def wrk(
    url: str,
    query: str,
    *,
    connections: int,
    seconds: float,
    variables: dict[str, Any] | None = None,
    tokens: list[str] | None = None,
    thread_per_connection: bool = False,
) -> Load:
    """POST `query` to `url` for `seconds` with `connections` kept busy; what wrk saw."""
    body = json.dumps({"query": query, "variables": variables or {}})
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="bench-body-") as body_file:
        body_file.write(body)
        body_file.flush()
        threads = connections if thread_per_connection else 1
        argv = [
            "wrk",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            f"--timeout={TIMEOUT_SECONDS}s",
            f"--script={SCRIPT}",
            url,
        ]
        env = {**os.environ, "BENCH_BODY": body_file.name, "BENCH_TOKENS": ",".join(tokens or [])}
        result = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=seconds + TIMEOUT_SECONDS + 30, check=False
        )
    lines = [line for line in result.stdout.splitlines() if line.startswith(MARKER)]
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}\n{result.stderr}")
    raw = json.loads(lines[-1].removeprefix(MARKER))
    load = Load(
        connections=connections,
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["latency_us"]["p50"] / 1000,
        p99_ms=raw["latency_us"]["p99"] / 1000,
        not_ok=raw["not_ok"],
        with_errors=raw["with_errors"],
        codes=raw["codes"],
        locked=raw["locked"],
        socket_errors=sum(raw["socket_errors"][kind] for kind in ("connect", "read", "write", "timeout")),
    )
    logger.info(
        "  wrk c=%d %s: %.1f/s p50 %.2f ms p99 %.2f ms%s",
        connections,
        url,
        load.per_second,
        load.p50_ms,
        load.p99_ms,
        "" if load.clean else f" NOT CLEAN: {raw}",
    )
    return load
