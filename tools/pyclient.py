"""The typed Python client of the public graph: generate client/service_tree_client with ariadne-codegen
from schema/api.graphql and client/operations/*.graphql (`make schema`), or check that the committed package
is what generation gives now (`--check`, run by `make lint`).

ariadne-codegen runs from its own environment (.tools/codegen, made by `make install` from client/codegen/),
with the settings of [tool.ariadne-codegen] in pyproject.toml."""

import argparse
import filecmp
import logging
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

logger = logging.getLogger("pyclient")

ROOT = Path(__file__).resolve().parents[1]
CODEGEN = ROOT / ".tools" / "codegen" / "bin" / "ariadne-codegen"


def settings() -> dict[str, object]:
    """The [tool.ariadne-codegen] table of pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        table: dict[str, object] = tomllib.load(file)["tool"]["ariadne-codegen"]
    return table


def package() -> Path:
    """Where the committed client lives."""
    config = settings()
    return ROOT / str(config["target_package_path"]) / str(config["target_package_name"])


def generate(into: Path) -> Path:
    """Generate the client into the folder `into`; the package folder made there."""
    if not CODEGEN.exists():
        raise FileNotFoundError(f"{CODEGEN.relative_to(ROOT)} is missing: run `make install`")
    config = settings() | {"target_package_path": str(into)}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "codegen.toml"
        path.write_text(_toml({"tool": {"ariadne-codegen": config}}))
        # Paths in the settings are relative to the checkout, as in pyproject.toml.
        result = subprocess.run(
            [str(CODEGEN), "--config", str(path)], cwd=ROOT, capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"ariadne-codegen failed:\n{result.stdout}{result.stderr}")
    return into / str(config["target_package_name"])


def stale() -> list[str]:
    """The files of the committed client that generation now writes differently, adds or drops."""
    committed = package()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(Path(scratch))
        return _differences(fresh, committed, committed.relative_to(ROOT))


def _differences(fresh: Path, committed: Path, shown: Path) -> list[str]:
    names = {p.name for p in fresh.glob("*.py")} | {p.name for p in committed.glob("*.py")}
    return sorted(
        str(shown / name)
        for name in names
        if not (fresh / name).exists()
        or not (committed / name).exists()
        or not filecmp.cmp(fresh / name, committed / name, shallow=False)
    )


def _toml(document: dict[str, object], prefix: str = "") -> str:
    """A TOML text of nested tables of strings, booleans and lists of strings (all the settings use)."""
    lines, tables = [], []
    for key, value in document.items():
        if isinstance(value, dict):
            tables.append(_toml(value, f'{prefix}"{key}".'))
        else:
            lines.append(f'"{key}" = {_value(value)}')
    head = [f"[{prefix.rstrip('.')}]"] if prefix and lines else []
    return "\n".join([*head, *lines, *tables]) + "\n"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def main(argv: list[str] | None = None) -> int:
    """Generate the client (0), or with --check report whether it is stale (1 when it is)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(prog="python -m tools.pyclient")
    parser.add_argument("--check", action="store_true", help="fail if the committed client is stale")
    args = parser.parse_args(argv)
    if args.check:
        differing = stale()
        for path in differing:
            logger.error(
                "%s is stale: run `make schema` (generated from schema/api.graphql and client/operations)",
                path,
            )
        return 1 if differing else 0
    target = package()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(Path(scratch))
        if not _differences(fresh, target, target):
            return 0
        # Replaced whole, so that the module of an operation no longer in client/operations goes too.
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(fresh, target, ignore=shutil.ignore_patterns("__pycache__"))
    logger.info("wrote %s", target.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
