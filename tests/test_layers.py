"""The import graph keeps the layers of ARCHITECTURE.md: no module imports one that imports
it back (directly or round a circle), and arrows point down only.

Read from the source (every `import`, at the top or inside a function), so a lazy import
that hides a circle from Python is still seen.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"


def import_graph() -> dict[str, set[str]]:
    """The graph, parsed in a fresh interpreter.

    In a long-lived test worker CPython 3.11's `ast.parse` can fail with "AST constructor
    recursion depth mismatch" after other code left its recursion bookkeeping off
    (gh-106905); a process of its own parses from a clean state.
    """
    done = subprocess.run([sys.executable, __file__], capture_output=True, text=True, check=True)
    return {name: set(targets) for name, targets in json.loads(done.stdout).items()}


def parse_import_graph() -> dict[str, set[str]]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # `from pkg import module` imports that module; `from mod import name`, mod
                targets = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
                targets = targets or [base]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert circles(import_graph()) == []


def test_the_walk_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


LAYER = "graphdock.server."
# Who may import whom (ARCHITECTURE.md): the lower layers never reach up.
FORBIDDEN = {
    "services": ("api", "executor", "adapters", "app", "backends", "container", "cli"),
    "ports": ("api", "executor", "adapters", "services", "app", "backends", "container"),
    "adapters": ("api", "executor", "app", "container"),
    "executor": ("api", "app", "adapters"),
}


def test_arrows_point_down():
    wrong = []
    for module, imported in import_graph().items():
        if module.startswith("graphdock.client") or module == "graphdock":
            wrong += [(module, i) for i in imported if i.startswith("graphdock.server")]
        if not module.startswith(LAYER):
            continue
        layer = module.removeprefix(LAYER).split(".")[0]
        for target in imported:
            if target.startswith(LAYER):
                if target.removeprefix(LAYER).split(".")[0] in FORBIDDEN.get(layer, ()):
                    wrong.append((module, target))
    assert wrong == []


if __name__ == "__main__":
    print(json.dumps({name: sorted(targets) for name, targets in parse_import_graph().items()}))
