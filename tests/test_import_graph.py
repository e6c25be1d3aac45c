"""Import direction: no cycle between embedtune's packages through module-level imports.

Imports inside functions (deferred on purpose, e.g. to keep torch out of start-up) and under ``TYPE_CHECKING``
do not count: only what runs when a module is imported. Nodes are the top-level packages and modules
(``embedtune.corpus``, ``embedtune.errors``, ...).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import embedtune

SRC = Path(embedtune.__file__).parent

# One edge of each cycle that existed when this test was written (issue 21), the one that points the wrong way;
# a cycle through any other edge fails. Remove an edge here with the change that breaks its cycle.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = {
    # scale/ray_generate.py imports querygen.backends.base (ChatRequest, QueryBackend) while querygen/generate.py
    # imports scale.ray_encode.ray_address: the request types belong below both.
    ("scale", "querygen"),
}
# encoding <-> retrieval <-> scale <-> models and mining <-> training (issue 21) go through imports inside
# functions only, so they are not module-level cycles and this test does not see them.


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run at import time: the module body, and ``if``/``try`` blocks there (not TYPE_CHECKING)."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: resolve against this module's package
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    yield base
    yield from (f"{base}.{a.name}" for a in node.names)  # `from embedtune import corpus` names a package


def _node(name: str) -> str | None:
    """The top-level package or module ``name`` belongs to, or None outside embedtune (or the root itself)."""
    parts = name.split(".")
    if parts[0] != "embedtune" or len(parts) < 2:
        return None
    top = parts[1]
    return top if (SRC / top).is_dir() or (SRC / f"{top}.py").is_file() else None


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        src = _node(module)
        if src is None:
            continue
        graph.setdefault(src, set())
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _top_level_imports(tree):
            for target in _targets(node, module, path.name == "__init__.py"):
                dst = _node(target)
                if dst is not None and dst != src:
                    graph[src].add(dst)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None (depth-first search, deterministic order)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        path.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_no_new_import_cycle_between_packages() -> None:
    graph = {src: {d for d in dsts if (src, d) not in KNOWN_CYCLE_EDGES} for src, dsts in package_graph().items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between embedtune packages: " + " -> ".join(cycle or [])


def test_known_cycle_edges_still_exist() -> None:
    """When a change breaks a known cycle, its edges leave the list above so they cannot come back unnoticed."""
    graph = package_graph()
    gone = sorted(e for e in KNOWN_CYCLE_EDGES if e[1] not in graph.get(e[0], set()))
    assert not gone, f"no longer imported at module level, remove from KNOWN_CYCLE_EDGES: {gone}"


def test_the_cycle_finder_reports_a_planted_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
