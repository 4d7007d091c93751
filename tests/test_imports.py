"""The package's modules import each other one way, layer by layer, and only through public names.

Imports are read from the source with :mod:`ast`, those inside functions included, so an
import put off to call time to dodge a circle counts as much as one at the top.
"""

import ast
from pathlib import Path

from recasketch import config

PACKAGE = config.PROJ_ROOT / "recasketch"

#: The layers, lowest first: each imports only itself and the layers before it.
LAYERS = ("core", "datasets", "models", "parallel", "tuning", "study", "display", "tools")

#: Imports that may wait until a function runs: optional dependencies.
OPTIONAL = ("pyspark",)


def modules() -> dict[str, Path]:
    """Dotted name inside the package (``"tuning.grid"``, ``"metrics"``) -> its file."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imported(tree: ast.AST, name: str, known: dict) -> tuple[set[str], dict[str, str]]:
    """The package modules a module imports, and the local names bound to package modules."""
    here = name.split(".") if known[name].name == "__init__.py" else name.split(".")[:-1]
    found, aliases = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("recasketch."):
                    found.add(alias.name.removeprefix("recasketch."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
            elif (node.module or "").split(".")[0] == "recasketch":
                base = node.module.split(".")[1:]
            else:
                continue
            target = ".".join(base)
            if target in known and (target or node.module):
                found.add(target)
            for alias in node.names:
                sub = ".".join([*base, alias.name])
                if sub in known:
                    found.add(sub)
                    aliases[alias.asname or alias.name] = sub
    return found - {name, ""}, aliases


def package_imports() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports anywhere in its source."""
    known = modules()
    return {name: _imported(ast.parse(path.read_text(encoding="utf-8")), name, known)[0]
            for name, path in known.items() if name}


def layer(module: str) -> str:
    top = module.split(".")[0]
    return top if top in LAYERS else "core"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports as ``[a, b, ..., a]``, or ``None``."""
    state = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the current path, 2 done
    path = []

    def visit(module):
        state[module] = 1
        path.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == 1:
                return path[path.index(other):] + [other]
            if state.get(other) == 0 and (cycle := visit(other)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if state[module] == 0 and (cycle := visit(module)):
            return cycle
    return None


def test_the_parser_sees_every_kind_of_import():
    graph = package_imports()
    assert "errors" in graph["preprocess"]  # from .errors import DataError
    assert {"config", "data", "errors"} <= graph["datasets.download"]  # from .. import __version__, config
    assert "parallel.cluster" in graph["tuning.grid"]  # from ..parallel import cluster
    assert "study.published" in graph["study.budgets"]  # from . import published


def test_no_import_cycle():
    cycle = find_cycle(package_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_each_layer_imports_only_itself_and_the_layers_below():
    upward = [f"{module} -> {other}" for module, others in package_imports().items() for other in sorted(others)
              if LAYERS.index(layer(other)) > LAYERS.index(layer(module))]
    assert not upward, "imports that run up the layers: " + "; ".join(upward)


def test_the_data_layer_imports_run_one_way():
    graph = package_imports()
    assert graph["errors"] == set()
    assert graph["data"] == {"config", "errors"}
    assert "data" not in graph["datasets.synthetic"] and "data" not in graph["preprocess"]


def test_imports_wait_for_a_function_only_for_optional_dependencies():
    late = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [getattr(node, "module", None) or ""] + [alias.name for alias in node.names]
                    if not any(n.split(".")[0] in OPTIONAL for n in names):
                        late.append(f"{name}:{node.lineno}")
    assert not late, "imports inside functions (hoist them, or name the optional dependency): " + ", ".join(late)


def test_no_module_uses_another_modules_private_names():
    known = modules()
    private = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        _, aliases = _imported(tree, name, known)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("recasketch")):
                private += [f"{name}: from {node.module} import {a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                  and node.attr.startswith("_") and not node.attr.startswith("__")):
                private.append(f"{name}: {node.value.id}.{node.attr}")
    assert not private, "private names used across modules: " + "; ".join(private)


def test_no_module_is_over_800_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > 800}
    assert not long, f"modules over 800 lines: {long}"


def test_cycle_finder_finds_a_cycle_through_three_modules():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
