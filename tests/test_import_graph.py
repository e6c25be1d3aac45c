"""Import direction between embedtune's packages: no cycle, and the bottom layers import only what they declare.

Nodes are the top-level packages and modules (``embedtune.corpus``, ``embedtune.errors``, ...). Every import
counts, also one inside a function (deferred to keep torch out of start-up) or under ``TYPE_CHECKING``: a deferred
import is still a dependency, and a cycle through one is a cycle in the design that only the call order hides.
Imports that run when their module is imported (*eager* ones) may form no cycle at all; deferred ones only through
the edges listed in ``DEFERRED_CYCLE_EDGES``, each with its reason and the change that removes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import embedtune

SRC = Path(embedtune.__file__).parent

# The bottom of the import order: what each of these packages may import (every import counts). The stages,
# serving and the CLI sit above and may import them; an import from here to anything unlisted points upward and
# fails here before it closes a cycle.
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "hashing": set(),
    "progress": set(),
    "hardware": {"progress"},
    "scale": {"errors"},  # which Ray cluster; the Ray jobs (retrieval.ray_encode, querygen.backends) sit above it
    "encoding": {"errors", "hardware", "hashing", "progress"},  # inference backends
    "models": {"encoding", "errors", "hardware", "hashing", "progress"},  # registry and loading
    "retrieval": {"encoding", "errors", "hashing", "models", "progress", "scale", "workspace"},
}

# Edges that close a cycle through deferred imports, allowed until the named change; each must stay deferred.
DEFERRED_CYCLE_EDGES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    """One import from one node to another: where it is, and whether it runs when its module is imported."""

    src: str
    dst: str
    where: str  # path:line, relative to the package root
    eager: bool


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_statements(nodes: Iterable[ast.AST], eager: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under ``nodes``, with whether it runs at import time (not in a function body,
    not under ``if TYPE_CHECKING``; class bodies and other blocks do run)."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, eager
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _import_statements(node.body, False)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_statements(node.body, False)
            yield from _import_statements(node.orelse, eager)
        else:
            yield from _import_statements(ast.iter_child_nodes(node), eager)


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


def _node(name: str, root: Path) -> str | None:
    """The top-level package or module ``name`` belongs to, or None outside ``root`` (or the root itself)."""
    parts = name.split(".")
    if parts[0] != root.name or len(parts) < 2:
        return None
    top = parts[1]
    return top if (root / top).is_dir() or (root / f"{top}.py").is_file() else None


def find_imports(root: Path = SRC) -> list[Import]:
    """Every import from one node of the package at ``root`` to another, in file and line order."""
    found: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        src = _node(module, root)
        if src is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, eager in _import_statements(tree.body, True):
            dsts = {_node(t, root) for t in _targets(node, module, path.name == "__init__.py")}
            where = f"{path.relative_to(root)}:{node.lineno}"
            found.extend(Import(src, dst, where, eager) for dst in sorted(d for d in dsts if d and d != src))
    return found


def graph(imports: Iterable[Import], *, eager_only: bool = False) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for i in imports:
        if i.eager or not eager_only:
            out.setdefault(i.src, set()).add(i.dst)
    return out


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


def cycle_problem(imports: list[Import], allowed: Iterable[tuple[str, str]] = ()) -> str | None:
    """What is wrong with ``imports``' cycles, or None: an eager cycle, or a cycle not broken by an ``allowed`` edge."""
    if cycle := find_cycle(graph(imports, eager_only=True)):
        return "import cycle at import time: " + _describe(cycle, imports)
    skip = set(allowed)
    full = {src: {d for d in dsts if (src, d) not in skip} for src, dsts in graph(imports).items()}
    if cycle := find_cycle(full):
        return "import cycle (deferred imports included): " + _describe(cycle, imports)
    return None


def _describe(cycle: list[str], imports: list[Import]) -> str:
    """``a -> b -> a`` and, for each step, the first import that makes it."""
    steps = [next(i for i in imports if (i.src, i.dst) == step) for step in zip(cycle, cycle[1:])]
    return " -> ".join(cycle) + " (" + "; ".join(f"{i.src} -> {i.dst} at {i.where}" for i in steps) + ")"


def test_no_import_cycle_between_packages() -> None:
    problem = cycle_problem(find_imports(), DEFERRED_CYCLE_EDGES)
    assert problem is None, problem


def test_deferred_cycle_edges_still_exist_and_stay_deferred() -> None:
    """When a change breaks a listed cycle, its edge leaves the list so it cannot come back unnoticed; while it is
    listed, no import of it may run at import time."""
    imports = find_imports()
    gone = sorted(e for e in DEFERRED_CYCLE_EDGES if e[1] not in graph(imports).get(e[0], set()))
    assert not gone, f"no longer imported, remove from DEFERRED_CYCLE_EDGES: {gone}"
    eager = [i.where for i in imports if (i.src, i.dst) in DEFERRED_CYCLE_EDGES and i.eager]
    assert not eager, f"an import on an allowed cycle edge must stay inside a function: {eager}"


def test_bottom_layers_import_only_what_they_declare() -> None:
    upward = [f"{i.src} -> {i.dst} at {i.where}" for i in find_imports()
              if i.src in LAYERS and i.dst not in LAYERS[i.src]]
    assert not upward, "imports not declared in LAYERS:\n" + "\n".join(upward)


def test_the_declared_layers_are_an_order() -> None:
    assert find_cycle(LAYERS) is None


def test_the_cycle_finder_reports_a_planted_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_a_new_cycle_through_an_import_in_a_function_fails(tmp_path: Path) -> None:
    root = _plant(tmp_path / "pkg", {
        "__init__.py": "",
        "low/__init__.py": "from pkg.errors import Oops\n",
        "low/cache.py": "def encode():\n    from pkg.high.run import stage  # the planted upward import\n",
        "high/__init__.py": "",
        "high/run.py": "from ..low import cache\n\ndef stage():\n    pass\n",
        "errors.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.high import run\n",
    })
    imports = find_imports(root)
    assert {(i.src, i.dst, i.eager) for i in imports} == {
        ("low", "errors", True), ("low", "high", False), ("high", "low", True), ("errors", "high", False)}
    assert find_cycle(graph(imports, eager_only=True)) is None  # the old test's view: no cycle
    problem = cycle_problem(imports)
    assert problem is not None and problem.startswith("import cycle (deferred imports included): ")
    assert "low/cache.py:2" in problem or "errors.py:3" in problem  # names the import to look at
    assert cycle_problem(imports, {("low", "high"), ("errors", "high")}) is None  # allowed edges, and only those
    assert cycle_problem(imports, {("low", "high")}) is not None


def test_an_eager_cycle_fails_whatever_is_allowed(tmp_path: Path) -> None:
    root = _plant(tmp_path / "pkg", {
        "__init__.py": "", "a.py": "import pkg.b\n", "b.py": "from pkg import a\n",
    })
    imports = find_imports(root)
    problem = cycle_problem(imports, {("a", "b"), ("b", "a")})
    assert problem == "import cycle at import time: a -> b -> a (a -> b at a.py:1; b -> a at b.py:1)"
