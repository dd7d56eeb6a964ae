"""What environment variables the code reads: the subgraphs' Settings classes (by introspection), and the reads
of the router, the web app's dev server, the launcher and tools, the subgraphs' own modules and the deployment
files (by scanning their sources). The README's settings table and the Kubernetes overlays are checked
against it."""

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

from pydantic.fields import FieldInfo

from subgraphs import registry
from subgraphs._common.settings import SubgraphSettings

ROOT = Path(__file__).resolve().parents[1]
# In the table, `<NAME>_X` stands for X of every subgraph of the registry (and `<name>` in its default).
EACH = "<NAME>_"
# Variables the scanned code reads only for the tests, never for a user: none today. Name each with the reason.
TEST_ONLY: dict[str, str] = {}
# Python reads of the environment: os.environ.get(X), os.getenv(X), os.environ[X], X in os.environ.
_ENVIRON = ("os.environ", "environ")
# TypeScript reads: env.X, env?.X, process.env.X, env['X'], and helpers named env... taking the name first or
# after the environment (envInt('X', ...), envInt(env, 'X', ...)); `${...}_URL` stands for every subgraph.
_TS_NAME = r"[A-Z][A-Z0-9_]*"
_TS_HELPER = r"\benv[A-Z]\w*\(\s*(?:[\w.]+\s*,\s*)?"
_TS_READS = (
    re.compile(rf"\benv\??\.({_TS_NAME})\b"),
    re.compile(rf"\benv\[\s*['\"]({_TS_NAME})['\"]\s*\]"),
    re.compile(rf"{_TS_HELPER}['\"]({_TS_NAME})['\"]"),
)
_TS_TEMPLATE = re.compile(rf"(?:{_TS_HELPER}|\benv\[\s*)`\$\{{[^}}`]*\}}(_[A-Z0-9_]+)`")
_SHELL_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]*)")
_PSQL_GETENV = re.compile(r"\\getenv\s+\w+\s+([A-Z][A-Z0-9_]*)")


def _expand(name: str) -> set[str]:
    """`name`, or every subgraph's variable when it starts with <NAME>_."""
    if name.startswith(EACH):
        return {sub.env_prefix + name.removeprefix(EACH) for sub in registry.SUBGRAPHS}
    return {name}


def _env_names(name: str, field: FieldInfo, prefix: str) -> set[str]:
    """The variables pydantic-settings reads for one field: its alias, else the prefixed field name."""
    alias = field.validation_alias
    if alias is None:
        return {prefix + name.upper()}
    assert isinstance(alias, str), f"{name}: teach this test the alias {alias!r}"
    return {alias}


def settings_fields() -> dict[str, object]:
    """Every variable a subgraph's Settings reads, with the field's default."""
    found: dict[str, object] = {}
    for sub in registry.SUBGRAPHS:
        settings: type[SubgraphSettings] = importlib.import_module(sub.settings).Settings
        prefix = str(settings.model_config.get("env_prefix", ""))
        assert prefix == sub.env_prefix, f"{sub.settings}: env_prefix {prefix!r}"
        for name, field in settings.model_fields.items():
            for variable in _env_names(name, field, prefix):
                found[variable] = field.default
    return found


class _PythonReads(ast.NodeVisitor):
    """The variables one module reads from os.environ, following a read through a parameter to the calls of
    its function in the same module."""

    def __init__(self, tree: ast.Module, where: str) -> None:
        self.tree = tree
        self.where = where
        self.found: set[str] = set()
        self._function: ast.FunctionDef | None = None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self._function = self._function, node
        self.generic_visit(node)
        self._function = outer

    def visit_Call(self, node: ast.Call) -> None:
        callee = ast.unparse(node.func)
        if node.args and (callee in {f"{e}.get" for e in _ENVIRON} or callee in ("os.getenv", "getenv")):
            self._read(node.args[0])
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if ast.unparse(node.value) in _ENVIRON:
            self._read(node.slice)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        tests_membership = any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        if tests_membership and any(ast.unparse(other) in _ENVIRON for other in node.comparators):
            self._read(node.left)
        self.generic_visit(node)

    def _read(self, name: ast.expr) -> None:
        for value in self._values(name):
            self.found |= _expand(value)

    def _values(self, name: ast.expr) -> Iterator[str]:
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            yield name.value
        elif isinstance(name, ast.JoinedStr):  # f"{name.upper()}_PORT": the variable of every subgraph
            parts = [p.value if isinstance(p, ast.Constant) else "<NAME>" for p in name.values]
            template = "".join(str(part) for part in parts)
            assert template.startswith(EACH), f"{self.where}: teach this test the read {template!r}"
            yield template
        elif isinstance(name, ast.Name) and self._function is not None:
            yield from self._arguments_for(self._function, name.id)
        else:
            raise AssertionError(f"{self.where}: a read this test cannot follow: {ast.unparse(name)}")

    def _arguments_for(self, function: ast.FunctionDef, parameter: str) -> Iterator[str]:
        names = [arg.arg for arg in function.args.args]
        assert parameter in names, f"{self.where}: {function.name} reads the environment by {parameter!r}"
        position = names.index(parameter)
        calls = [
            node
            for node in ast.walk(self.tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func) == function.name
        ]
        assert calls, f"{self.where}: nothing calls {function.name}, which reads the environment"
        outer, self._function = self._function, None
        for call in calls:
            named = [keyword.value for keyword in call.keywords if keyword.arg == parameter]
            yield from self._values(named[0] if named else call.args[position])
        self._function = outer


def python_reads() -> set[str]:
    """What the subgraphs' and the tools' modules read from the environment themselves."""
    found: set[str] = set()
    for folder in ("subgraphs", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            reads = _PythonReads(ast.parse(path.read_text()), str(path.relative_to(ROOT)))
            reads.visit(reads.tree)
            found |= reads.found
    return found


def _script_sources() -> Iterator[Path]:
    """The router's TypeScript and JavaScript (not its dependencies) and the web app's build configuration."""
    for path in sorted((ROOT / "router").rglob("*")):
        if path.suffix in (".ts", ".mts", ".mjs", ".js") and "node_modules" not in path.parts:
            yield path
    yield from sorted((ROOT / "web").glob("*.ts"))


def _scanned(paths: Iterator[Path]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        text = path.read_text()
        for pattern in _TS_READS:
            found |= set(pattern.findall(text))
        found |= {name for suffix in _TS_TEMPLATE.findall(text) for name in _expand(EACH + suffix[1:])}
    return found


def router_reads() -> set[str]:
    """What the router reads from the environment (its `<NAME>_URL` of every subgraph included)."""
    return _scanned(path for path in _script_sources() if path.is_relative_to(ROOT / "router"))


def script_reads() -> set[str]:
    """What the router and the web app's dev server read from the environment."""
    return _scanned(_script_sources())


def deployment_reads() -> set[str]:
    """What the compose file asks of its environment, the image's entrypoint and the database init script."""
    compose = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))
    entrypoint = set(_SHELL_READ.findall((ROOT / "deploy" / "entrypoint.sh").read_text()))
    init = set(_PSQL_GETENV.findall((ROOT / "deploy" / "postgres" / "init.sql").read_text()))
    return compose | entrypoint | init


def read_by_code() -> set[str]:
    """Every environment variable the code reads, but those only the tests need."""
    found = set(settings_fields()) | python_reads() | script_reads() | deployment_reads()
    return found - set(TEST_ONLY)
