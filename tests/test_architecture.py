"""The package's shape: layers that only import downwards, no import circle, short modules,
and SQL only where a table is owned (docs/architecture.md explains each rule)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "beatbook"

# Lowest first. A module may import from its own layer or any lower one, never a higher one.
# The same list, with what each layer is for, is in docs/architecture.md.
LAYERS: list[set[str]] = [
    {"errors", "settings", "months"},
    {"store", "reference", "geo"},
    {"stats", "hotspots", "charts"},
    {"ingest"},
    {"areas", "queries"},
    {"users", "concerns", "operations", "engagements", "priorities"},
    {"figures"},
    {"publish"},
    {"cli", "web"},
]
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path, name: str) -> set[str]:
    """Every beatbook module ``name`` imports, at top level or inside a function."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("beatbook")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            if not base.startswith("beatbook"):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def _top_level_imports(path: Path) -> set[str]:
    """The beatbook modules imported when ``path`` is imported (not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("beatbook"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("beatbook")}
    return {m for m in found if m in MODULES}


def _layer(module: str) -> int:
    first = module.split(".")[1] if "." in module else ""
    for index, names in enumerate(LAYERS):
        if first in names:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and the docs")


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        if name != "beatbook":
            _layer(name)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{name} (layer {_layer(name)}) imports {target} (layer {_layer(target)})"
        for name, path in MODULES.items()
        if name != "beatbook"
        for target in sorted(_imports(path, name))
        if target != "beatbook" and _layer(target) > _layer(name)
    ]
    assert not upward, "imports that run up a layer:\n" + "\n".join(upward)


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in MODULES.items():
        for target in _top_level_imports(path):
            if target != name and not name.startswith(target + "."):
                graph[name].add(target)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(MODULES):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_short(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it (at most {MAX_LINES})"


def test_the_layer_test_sees_an_upward_import(tmp_path: Path) -> None:
    """The checker itself: a store module importing the CLI is reported."""
    fake = tmp_path / "store.py"
    fake.write_text("from beatbook.cli import _common\n")
    assert "beatbook.cli._common" in _imports(fake, "beatbook.store")
    assert _layer("beatbook.cli._common") > _layer("beatbook.store")
