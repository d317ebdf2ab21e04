"""The package's shape: layers that only import downwards, no import circle, short modules,
and SQL only where a table is owned (docs/architecture.md explains each rule)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "beatbook"

# Lowest first. A module may import from its own layer or any lower one, never a higher one.
# The same list, with what each layer is for, is in docs/architecture.md.
LAYERS: list[set[str]] = [
    {"errors", "settings", "months"},
    {"store", "snapshots", "records", "aggregates", "reference", "geo"},
    {"stats", "hotspots", "charts"},
    {"ingest"},
    {"areas", "queries", "populations", "national", "postcode_areas", "export"},
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


# --- where SQL may appear ------------------------------------------------------------------

# Each table has one owner, the module that writes it. store.py (the schema) and queries.py
# (the read side behind every figure) may read any table; a few modules read tables they
# don't own, named here with why.
OWNERS: dict[str, set[str]] = {
    "beatbook.ingest.policeuk_csv": {
        "street_crimes",
        "crime_repeats",
        "outcomes",
        "stop_searches",
        "partitions",
        "quarantine",
    },
    "beatbook.aggregates": {"monthly_counts", "force_districts"},
    # A month fetched from the police.uk API is stored as a street partition, like a file.
    "beatbook.ingest.api_months": {"street_crimes", "crime_repeats", "partitions", "quarantine"},
    "beatbook.ingest.ons": {"lsoa_lookup", "lsoa_bridge", "population"},
    # Made by the import, outside the schema (the public search checks they exist).
    "beatbook.ingest.postcodes": {"postcodes", "postcode_units"},
    "beatbook.ingest.boundaries": {"lsoa_boundaries"},
    "beatbook.areas": {"custom_areas"},
    "beatbook.concerns.records": {"concerns", "concern_contacts", "concern_descriptions"},
    "beatbook.concerns.csv_import": {"concerns", "concern_contacts", "concern_descriptions"},
    "beatbook.operations.records": {
        "operations",
        "operation_results",
        "operation_results_audit",
    },
    "beatbook.engagements": {"engagements"},
    "beatbook.priorities.lifecycle": {"priorities", "priority_events"},
    "beatbook.priorities.notes": {"priority_notes"},
    "beatbook.publish.team_content": {"update_texts", "team_settings"},
    "beatbook.publish.team_images": {"update_images"},
    "beatbook.publish.published": {"published_updates", "published_update_files"},
    "beatbook.users": {"users", "sessions"},
}
READERS: dict[str, set[str]] = {
    # Areas are defined by the ONS geography and the district names in the crimes' LSOA
    # names (a force area: its districts, by the names the store knows); queries.py builds
    # on areas, so areas reads these itself.
    "beatbook.areas": {
        "lsoa_lookup",
        "lsoa_bridge",
        "lsoa_boundaries",
        "street_crimes",
        "force_districts",
        "partitions",
    },
    # The monthly counts are counted from the street rows, their repeats and partitions,
    # in the import's transaction (the import calls aggregates.refresh).
    "beatbook.aggregates": {"street_crimes", "crime_repeats", "partitions"},
    # The API gives no LSOA: a fetched crime is placed in the stored LSOA boundary under it.
    "beatbook.ingest.api_months": {"lsoa_boundaries"},
    # The Parquet export writes every stored row with its counting-rule columns.
    "beatbook.export": {
        "street_crimes",
        "crime_repeats",
        "outcomes",
        "stop_searches",
        "partitions",
        "lsoa_lookup",
    },
    # A postcode area is ranked when the forces policing its LSOAs' districts published.
    "beatbook.postcode_areas": {"lsoa_lookup"},
    # A note is written for a priority that exists, checked in the same transaction.
    "beatbook.priorities.notes": {"priorities"},
}
ANY_TABLE = {"beatbook.store", "beatbook.queries", "beatbook.populations", "beatbook.national"}
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|DESCRIBE|SHOW TABLES)\b")
TABLE_AFTER = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+\"?([a-z_]+)")


def _schema_tables() -> set[str]:
    """The store's tables (its SQL schema) and the team's records (records/schema.py)."""
    store = (PACKAGE / "store.py").read_text(encoding="utf-8")
    records = (PACKAGE / "records" / "schema.py").read_text(encoding="utf-8")
    return set(re.findall(r"CREATE TABLE IF NOT EXISTS ([a-z_]+)", store)) | set(
        re.findall(r'sa\.Table\(\s*"([a-z_]+)"', records)
    )


def _sql_strings(path: Path) -> list[str]:
    """String literals (and f-string parts) that read as SQL."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL.search(node.value)
        ):
            found.append(node.value)
    return found


def test_sql_only_where_a_table_is_owned() -> None:
    tables = _schema_tables()
    assert {"street_crimes", "concerns", "users", "sessions", "custom_areas"} <= tables
    wrong = []
    for name, path in MODULES.items():
        if name in ANY_TABLE:
            continue
        allowed = OWNERS.get(name, set()) | READERS.get(name, set())
        for text in _sql_strings(path):
            used = {t for t in TABLE_AFTER.findall(text) if t in tables}
            if name not in OWNERS and not used:
                continue  # SQL over files or scratch tables only (read_csv, DESCRIBE)
            for table in sorted(used - allowed):
                wrong.append(f"{name} queries {table}: {' '.join(text.split())[:70]}")
    assert not wrong, "SQL outside the table's owner, store.py or queries.py:\n" + "\n".join(wrong)


def test_every_table_has_an_owner() -> None:
    owned = set().union(*OWNERS.values())
    assert _schema_tables() - owned == {"meta"}  # meta: the schema version, store.py's own


def test_nothing_outside_the_store_touches_its_connection() -> None:
    direct = [
        f"{name}: .{node.attr}"
        for name, path in MODULES.items()
        if name != "beatbook.store"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr in {"con", "_con"}
        and not (isinstance(node.value, ast.Name) and node.value.id == "self")
    ]
    assert not direct, "the store's connection used directly:\n" + "\n".join(direct)


def test_the_sql_rule_sees_a_stray_query() -> None:
    assert TABLE_AFTER.findall("SELECT count(*) FROM street_crimes s JOIN users u") == [
        "street_crimes",
        "users",
    ]
