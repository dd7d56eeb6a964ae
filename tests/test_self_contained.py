"""The repository stands alone: no tracked file points at a folder outside the checkout (a team folder beside
it, one machine's disk) or at an issue of a tracker; what a reader needs is in the repository (docs/)."""

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.db_agnostic

ROOT = Path(__file__).resolve().parents[1]
# Written so that this file does not match itself.
OUTSIDE = {
    "a folder beside the checkout": re.compile(r"\.\./(?:shared)\b"),
    "an absolute path of the development machines": re.compile(r"(?<![\w.])/(?:work)/"),
    "an issue number": re.compile(r"\b[Ii]ssues? #?[0-9]"),
}


def tracked_text_files() -> list[Path]:
    """Every file git tracks in this checkout that is text (no NUL byte in its first 8 kB)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout
    files = [ROOT / name for name in listed.decode().split("\0") if name]
    return [path for path in files if path.is_file() and b"\0" not in path.read_bytes()[:8192]]


def references(text: str) -> list[tuple[int, str, str]]:
    """(line number, what, line) of every reference to something outside the repository in `text`."""
    return [
        (number, what, line.strip())
        for number, line in enumerate(text.splitlines(), start=1)
        for what, pattern in OUTSIDE.items()
        if pattern.search(line)
    ]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git checkout: nothing is tracked")
def test_no_tracked_file_refers_outside_the_repository() -> None:
    files = tracked_text_files()
    assert len(files) > 100, "git ls-files listed the checkout"
    found = [
        f"{path.relative_to(ROOT)}:{number}: {what}: {line}"
        for path in files
        for number, what, line in references(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert found == [], "say it in the repository instead (docs/):\n" + "\n".join(found)


# Each split in two, so that this file does not match itself.
@pytest.mark.parametrize(
    "line",
    [
        "the design is in `../" + "shared/design/`",
        "git worktree add /" + "work/baseline b73193a",
        "every figure of issue" + " 7",
        "see Issue" + " #12",
    ],
)
def test_the_check_finds_outside_references(line: str) -> None:
    assert references(f"fine\n{line}\n") != []


@pytest.mark.parametrize(
    "line",
    ["docs/api.md, docs/architecture.md", "https://example.com/work/x", "../schema/supergraph.graphql"],
)
def test_the_check_leaves_the_repository_alone(line: str) -> None:
    assert references(line) == []
