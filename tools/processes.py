"""Child processes: started to end with the process that started them, however it ends; stopped (the one
process-stop helper of the launcher, the tests and the benchmark); run to completion; found by parent."""

import os
import signal
import subprocess
import sys
from pathlib import Path


def ending_with_parent(
    argv: list[str], sig: signal.Signals = signal.SIGTERM, *, user: str | None = None
) -> list[str]:
    """`argv` run so that it gets `sig` when its parent ends, even by SIGKILL or a crash (Linux's parent-death
    signal, which util-linux's setpriv sets just before it executes `argv`, in the same process), as `user`
    when given: setpriv changes the user first, since a change of user clears the parent-death signal."""
    as_user = [f"--reuid={user}", f"--regid={user}", "--init-groups"] if user else []
    return ["setpriv", *as_user, "--pdeathsig", sig.name.removeprefix("SIG"), "--", *argv]


def stop(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 30.0
) -> int:
    """Stop `process`: `sig` (SIGTERM for a clean stop, SIGINT as Ctrl-C, SIGKILL to simulate a crash), then
    SIGKILL if it has not exited within `timeout` seconds; its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


def run_module(
    cwd: Path, env: dict[str, str], *argv: str, stdin: str | None = None, timeout: float = 180
) -> str:
    """`python -m ARGV` in `cwd`, which must succeed (RuntimeError with its output otherwise); its output."""
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"python -m {' '.join(argv)} failed:\n{output}")
    return output


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped by its parent, does not)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return status.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(pid: int) -> set[int]:
    """The processes `pid` started and theirs, down the tree, as they are now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # ended while we looked
            children.setdefault(parent, []).append(int(entry))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found
