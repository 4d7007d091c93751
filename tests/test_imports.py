"""The package's modules import each other one way: no module imports one that imports it back.

Imports are read from the source with :mod:`ast`, those inside functions included, so an
import put off to call time to dodge a circle counts as much as one at the top.
"""

import ast

from recasketch import config

PACKAGE = config.PROJ_ROOT / "recasketch"


def package_imports() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports anywhere in its source."""
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    graph = {}
    for module in sorted(modules):
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
                found.update(n.split(".")[1] for n in names if n.startswith("recasketch."))
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and not (node.module or "").startswith("recasketch"):
                    continue
                parts = (node.module or "").split(".")
                inner = parts[1:] if node.level == 0 else parts
                if inner and inner[0]:  # from .data import x / from recasketch.data import x
                    found.add(inner[0])
                else:  # from . import config / from recasketch import data
                    found.update(alias.name for alias in node.names)
        graph[module] = (found & modules) - {module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports as ``[a, b, ..., a]``, or ``None``."""
    state = dict.fromkeys(graph, 0)  # 0 unseen, 1 on the current path, 2 done
    path = []

    def visit(module):
        state[module] = 1
        path.append(module)
        for other in sorted(graph[module]):
            if state[other] == 1:
                return path[path.index(other):] + [other]
            if state[other] == 0 and (cycle := visit(other)):
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
    assert {"config", "data", "errors"} <= graph["download"]  # from . import __version__, config
    assert "data" in graph["bench"]  # imported inside a function


def test_no_import_cycle():
    cycle = find_cycle(package_imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_data_layer_imports_run_one_way():
    graph = package_imports()
    assert graph["errors"] == set()
    assert graph["data"] == {"config", "errors"}
    assert "data" not in graph["synthetic"] and "data" not in graph["preprocess"]


def test_cycle_finder_finds_a_cycle_through_three_modules():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
