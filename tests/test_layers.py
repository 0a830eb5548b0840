"""The layers of app/, read from the source with ``ast`` (nothing is imported).

Rules are data: add a forbidden edge to ``FORBIDDEN``; a package-level cycle that another change
is about to remove goes into ``KNOWN_CYCLES`` with a comment saying which change removes it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> packages it must not import (module-level or inside a function)
FORBIDDEN: dict[str, set[str]] = {
    # detection is statistics: it measures and decides, it never explains, stores, probes or reports
    "detection": {"rca", "analysis", "governance", "storage", "probing", "watcher", "views", "commands"},
}

# package cycles tolerated for now, each a frozenset of the packages on it, with the change that removes it
KNOWN_CYCLES: set[frozenset[str]] = set()

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


@dataclass(frozen=True)
class Edge:
    """One ``app.`` import: from package ``src`` to package ``dst``, at ``where`` (path:line)."""

    src: str
    dst: str
    where: str


def package_of(path: Path, root: Path) -> str:
    """The top-level package (or root module) of ``app`` a file belongs to.

    >>> package_of(Path("/r/app/detection/ks.py"), Path("/r"))
    'detection'
    >>> package_of(Path("/r/app/cli.py"), Path("/r"))
    'cli'
    """
    parts = path.relative_to(root).with_suffix("").parts
    return parts[1]


def _targets(node: ast.AST) -> list[str]:
    """The ``app`` packages an import node names (``from app.x.y import z`` -> x; ``from app import x`` -> x)."""
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        if node.module == "app":
            return [a.name for a in node.names]
        if node.module.startswith("app."):
            return [node.module.split(".")[1]]
    if isinstance(node, ast.Import):
        return [a.name.split(".")[1] for a in node.names if a.name.startswith("app.")]
    return []


def edges_of(source: str, src: str, where: str) -> list[Edge]:
    """Every import of another app package in ``source`` (module level and inside functions).

    >>> [e.dst for e in edges_of("import os\\ndef f():\\n    from app.rca import x\\n", "detection", "f.py")]
    ['rca']
    """
    out = []
    for node in ast.walk(ast.parse(source)):
        for dst in _targets(node):
            if dst != src:
                out.append(Edge(src, dst, f"{where}:{node.lineno}"))
    return out


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    t = handler.type
    names = t.elts if isinstance(t, ast.Tuple) else [t] if t is not None else []
    return any(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names)


def guarded_app_imports(source: str) -> list[int]:
    """Lines of ``app`` imports inside a ``try`` whose handler catches ImportError.

    >>> guarded_app_imports("try:\\n    from app.x import y\\nexcept ImportError:\\n    y = None\\n")
    [2]
    >>> guarded_app_imports("try:\\n    import shap\\nexcept ImportError:\\n    shap = None\\n")
    []
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for stmt in node.body:
                lines += [n.lineno for n in ast.walk(stmt) if _targets(n)]
    return sorted(lines)


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one package (Tarjan).

    >>> sorted(sorted(c) for c in cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}))
    [['a', 'b', 'c']]
    >>> cycles({"a": {"b"}, "b": set()})
    []
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _app_files() -> list[Path]:
    return sorted((ROOT / "app").rglob("*.py"))


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    out = []
    for path in _app_files():
        out += edges_of(path.read_text(encoding="utf-8"), package_of(path, ROOT), str(path.relative_to(ROOT)))
    return out


def test_the_scan_sees_the_packages(edges: list[Edge]) -> None:
    srcs = {e.src for e in edges}
    assert {"analysis", "detection", "rca", "commands", "watcher"} <= srcs
    assert any(e.src == "analysis" and e.dst == "detection" for e in edges)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_imports(edges: list[Edge], package: str) -> None:
    bad = [f"{e.where}: {e.src} -> {e.dst}" for e in edges if e.src == package and e.dst in FORBIDDEN[package]]
    assert bad == [], "\n".join(bad)


def test_no_import_cycle_between_packages(edges: list[Edge]) -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        graph[e.src].add(e.dst)
    new = [c for c in cycles(graph) if c not in KNOWN_CYCLES]
    detail = [f"{sorted(c)}: " + ", ".join(e.where for e in edges if e.src in c and e.dst in c) for c in new]
    assert new == [], "\n".join(detail)
def test_no_import_error_fallback_for_own_modules() -> None:
    files = _app_files() + sorted((ROOT / "ui").rglob("*.py"))
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in files for n in guarded_app_imports(p.read_text(encoding="utf-8"))]
    assert bad == [], "a broken import of the project's own code must fail, not be skipped: " + ", ".join(bad)
