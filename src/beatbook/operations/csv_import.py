"""Import operations and their results from CSV files, checked against the ledger's rules.

Operations files (``operation, from, to, areas[, description]``) and results files
(``operation, area, measure, count``) are told apart by their header and imported
together in one transaction (:func:`import_files`); any bad row refuses every file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from beatbook.errors import CSVFormatError, InputError
from beatbook.ingest.sources import read_table
from beatbook.operations.records import (
    Key,
    Operation,
    _Areas,
    _check_by,
    _Given,
    _name_key,
    _operation_name,
    _plan_operation,
    _save,
    parse_count,
    parse_date,
    parse_measure,
)
from beatbook.store import Store

OPERATION_COLUMNS = ("operation", "from", "to", "areas", "description")
RESULT_COLUMNS = ("operation", "area", "measure", "count")


@dataclass
class ImportSummary:
    operations_added: int = 0
    operations_updated: int = 0
    results_changed: int = 0
    results_unchanged: int = 0
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _read_rows(path: Path) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """(file kind, [(line, row)]) of an operations or results CSV, columns checked."""
    name = str(path)
    header, rows = read_table(path)
    for kind, columns, required in (
        ("operations", OPERATION_COLUMNS, OPERATION_COLUMNS[:4]),
        ("results", RESULT_COLUMNS, RESULT_COLUMNS),
    ):
        if set(required) <= set(header):
            extra = [h for h in header if h not in columns]
            if extra:
                raise CSVFormatError(
                    name, f"unexpected column {extra[0]!r}; expected {', '.join(columns)}", line=1
                )
            full: list[tuple[int, dict[str, str]]] = []
            for line, row in rows:
                if None in row or any(v is None for v in row.values()):
                    raise CSVFormatError(name, f"expected {len(header)} fields", line=line)
                full.append((line, {k: v or "" for k, v in row.items()}))
            return kind, full
    raise CSVFormatError(
        name,
        "expected the columns operation, from, to, areas[, description] (operations) or "
        f"operation, area, measure, count (results); found {', '.join(header) or 'none'}",
        line=1,
    )


def _field(name: str, line: int, column: str, parse: Any, text: str) -> Any:
    try:
        return parse(text)
    except InputError as exc:
        problem = str(exc).removeprefix("--area ")  # areas.resolve speaks of the CLI option
        raise CSVFormatError(name, problem, line=line, column=column) from None


def import_files(store: Store, paths: Sequence[Path], by: str) -> ImportSummary:
    """Import operations files and results files together, in one transaction.

    Operations files (``operation, from, to, areas[, description]``; areas separated by
    ``;``) are applied first, then results files (``operation, area, measure, count``; an
    empty area or ``all`` is the operation total). Any bad row refuses every file.
    """
    by = _check_by(by)
    summary = ImportSummary(files=[str(p) for p in paths])
    parsed = [(str(p), *_read_rows(Path(p))) for p in paths]
    known = _Areas(store)
    plans = [
        _import_operation(known, name, line, row)
        for name, kind, rows in parsed
        if kind == "operations"
        for line, row in rows
    ]
    planned: dict[str, str] = {}  # an operation named again keeps the name first written
    for plan in plans:
        planned.setdefault(_name_key(plan.name), plan.name)
    given: dict[tuple[str, str, str], tuple[int, str]] = {}  # key -> (count, where)
    for name, kind, rows in parsed:
        if kind == "results":
            for line, row in rows:
                _collect_result(known, planned, name, line, row, given)
    by_operation: dict[str, dict[Key, _Given]] = {}
    for (op, area, measure), (count, where) in given.items():
        by_operation.setdefault(op, {})[(area, measure)] = _Given(count, where, where)
    statuses, changed = _save(known, plans, by_operation, by)
    summary.operations_added = statuses.count("added")
    summary.operations_updated = statuses.count("updated")
    summary.results_changed = sum(changed)
    summary.results_unchanged = len(changed) - sum(changed)
    return summary


def _import_operation(known: _Areas, name: str, line: int, row: dict[str, str]) -> Operation:
    starts = _field(name, line, "from", lambda t: parse_date(t, "date"), row["from"])
    ends = _field(name, line, "to", lambda t: parse_date(t, "date"), row["to"])
    if ends < starts:
        raise CSVFormatError(
            name,
            f"operation {row['operation']!r}: it ends ({ends}) before it starts ({starts})",
            line=line,
            column="to",
        )
    area_names = [a.strip() for a in row["areas"].split(";") if a.strip()]
    try:
        return _plan_operation(
            known, row["operation"], starts, ends, area_names, row.get("description")
        )
    except InputError as exc:
        column = "areas" if str(exc).startswith("--area ") else "operation"
        column = "description" if str(exc).startswith("description") else column
        raise CSVFormatError(
            name, str(exc).removeprefix("--area "), line=line, column=column
        ) from None


def _collect_result(
    known: _Areas,
    planned: dict[str, str],
    name: str,
    line: int,
    row: dict[str, str],
    given: dict[tuple[str, str, str], tuple[int, str]],
) -> None:
    op = _field(
        name,
        line,
        "operation",
        lambda t: _operation_name(known.store, t, planned),
        row["operation"],
    )
    area = _field(name, line, "area", known.key, row["area"])
    measure = _field(name, line, "measure", parse_measure, row["measure"])
    count = _field(name, line, "count", parse_count, row["count"])
    key = (op, area, measure)
    if key in given:
        raise CSVFormatError(
            name,
            f"{op} {row['area'] or 'all'} {measure} is given twice (also at {given[key][1]})",
            line=line,
        )
    given[key] = (count, f"{name}, line {line}")
