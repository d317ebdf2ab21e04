"""Operations ledger: named operations, their results by area, and roll-ups that stay honest.

An operation has a name, dates, the areas it worked in and *results*: counts of a
measure (warrants executed, arrests, ...) for the whole operation or for an area. Areas
form a hierarchy by what they cover, so the counts must agree with it, for every
measure (:func:`check_hierarchy`, in :mod:`beatbook.operations.rules` with the roll-ups'
wording; both re-exported here):

1. no area's count exceeds the operation total;
2. no part exceeds a whole that contains it (area A is inside B when A's LSOAs are a
   subset of B's; with polygon areas, when at most 1% of A's surface lies outside B:
   see :func:`beatbook.areas.relations`);
3. the counts of parts of a whole that share no ground add up to no more than the whole;
4. areas that overlap without one containing the other are allowed but never added up.

A record or import (:mod:`beatbook.operations.csv_import`) that would break a rule is refused
whole and nothing is written.
Re-recording a result replaces it; ``operation_results_audit`` keeps every change.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from beatbook import areas
from beatbook.areas import Area
from beatbook.errors import InputError
from beatbook.months import parse_day
from beatbook.operations.rules import (
    MEASURES,
    WHOLE,
    Relations,
    Violation,
    check_hierarchy,
    max_disjoint,
    measure_nouns,
    measure_order,
    percent,
    share_sentence,
    summarise_measure,
)
from beatbook.records import schema
from beatbook.records.engine import utc_now
from beatbook.settings import DESCRIPTION, MEASURE_LABEL, OPERATION_NAME
from beatbook.store import Store

__all__ = [
    "MEASURES",
    "WHOLE",
    "Operation",
    "Relations",
    "Violation",
    "add_operation",
    "area_relations",
    "audit",
    "check_hierarchy",
    "get_operation",
    "list_operations",
    "max_disjoint",
    "measure_nouns",
    "operations_report",
    "parse_count",
    "parse_date",
    "parse_measure",
    "percent",
    "record_result",
    "rollup",
    "share_sentence",
    "summarise_measure",
]

Key = tuple[str, str]  # (area, measure) of a result


# --- parsing ------------------------------------------------------------------------------


def parse_measure(text: str) -> str:
    """A measure name: one of :data:`MEASURES` or ``other:<label>`` (label lower-cased)."""
    name = " ".join(text.strip().lower().split())
    if name in MEASURES:
        return name
    label = name.removeprefix("other:").strip() if name.startswith("other:") else ""
    if label and re.fullmatch(r"[a-z0-9][a-z0-9 _-]*", label):
        MEASURE_LABEL.check(label, "measure")
        return f"other:{label}"
    raise InputError(
        f"measure {text!r}: expected one of {', '.join(MEASURES)} or other:<label> "
        "(letters, digits, spaces, - and _)"
    )


def parse_count(text: str) -> int:
    """A count: a non-negative whole number written with digits only (``0``, ``141``)."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,12}", value):
        raise InputError(f"count {text!r}: expected a whole number of 0 or more, e.g. 141")
    return int(value)


def parse_date(text: str, what: str) -> dt.date:
    """``YYYY-MM-DD`` within :func:`beatbook.months.day_bounds`, with a clear error naming
    ``what`` (an option or column)."""
    return parse_day(text, what)


def area_relations(store: Store, named: Mapping[str, Area]) -> Relations:
    """:class:`Relations` of stored areas keyed by reference (see :func:`areas.relations`)."""
    return Relations(*areas.relations(store, named))


# --- the team's records --------------------------------------------------------------------
# Areas are resolved and their relations worked out (analytical reads) before a records
# transaction; what the transaction checks against the stored rows it reads in itself, so
# SERIALIZABLE makes the check hold with concurrent writers (PostgreSQL reruns the loser).


@dataclass(frozen=True)
class Operation:
    name: str
    starts: dt.date
    ends: dt.date
    areas: tuple[str, ...]  # references that areas.resolve maps back
    description: str | None = None

    def to_dict(self, names: Mapping[str, str] | None = None) -> dict[str, object]:
        return {
            "operation": self.name,
            "from": self.starts.isoformat(),
            "to": self.ends.isoformat(),
            "areas": [(names or {}).get(a, a) for a in self.areas],
            "description": self.description,
        }


def _name_key(name: str) -> str:
    """What operation names are told apart by: case and runs of spaces do not matter."""
    return " ".join(name.split()).lower()


def _find(c: sa.Connection, name: str) -> Operation | None:
    t = schema.operations
    row = c.execute(
        sa.select(t.c.name, t.c.starts, t.c.ends, t.c.areas, t.c.description).where(
            sa.func.lower(t.c.name) == _name_key(name)
        )
    ).first()
    return None if row is None else Operation(row[0], row[1], row[2], tuple(row[3]), row[4])


def get_operation(store: Store, name: str) -> Operation:
    """The stored operation called ``name`` (case does not matter)."""
    with store.team_records.connect() as c:
        found = _find(c, name)
    if found is None:
        raise _unknown(store, name, [])
    return found


def _operation_name(store: Store, name: str, planned: Mapping[str, str]) -> str:
    """The name the operation called ``name`` is stored under, or will be: ``planned`` maps
    :func:`_name_key` to the name of an operation about to be written in the same import."""
    with store.team_records.connect() as c:
        found = _find(c, name)
    if found is not None:
        return found.name
    if _name_key(name) in planned:
        return planned[_name_key(name)]
    raise _unknown(store, name, list(planned.values()))


def _unknown(store: Store, name: str, planned: list[str]) -> InputError:
    """No operation called ``name``: the error names the known ones (stored or planned)."""
    with store.team_records.connect() as c:
        stored = c.execute(sa.select(schema.operations.c.name)).scalars().all()
    keys = {_name_key(n) for n in stored}
    known = sorted({*stored, *(n for n in planned if _name_key(n) not in keys)})
    hint = f" (known: {', '.join(known[:10])})" if known else " (none defined yet)"
    return InputError(
        f"operation {name!r}: no such operation{hint}; add it with 'beatbook ops add'"
    )


def _plan_operation(
    known: _Areas,
    name: str,
    starts: dt.date,
    ends: dt.date,
    area_names: Sequence[str],
    description: str | None,
) -> Operation:
    """An operation checked and its areas resolved, to be written by :func:`_put_operation`."""
    clean = OPERATION_NAME.check(name, "operation name") or ""
    if not clean or clean.lower() in ("all", WHOLE):
        raise InputError(f"operation name {name!r}: give a name such as 'Operation Nightjar'")
    DESCRIPTION.check(description, "description")
    if ends < starts:
        raise InputError(f"operation {clean!r}: it ends ({ends}) before it starts ({starts})")
    if not area_names:
        raise InputError(f"operation {clean!r}: give at least one area (--area)")
    refs = tuple(dict.fromkeys(areas.reference(known.get(a)) for a in area_names))
    return Operation(clean, starts, ends, refs, (description or "").strip() or None)


def _put_operation(c: sa.Connection, plan: Operation, now: dt.datetime) -> tuple[Operation, str]:
    """Write one operation in the transaction ``c``: ('added'|'updated'|'unchanged')."""
    existing = _find(c, plan.name)  # keeps the name as first written
    operation = Operation(
        existing.name if existing else plan.name,
        plan.starts,
        plan.ends,
        plan.areas,
        plan.description,
    )
    if existing == operation:
        return operation, "unchanged"
    _upsert(
        c,
        schema.operations,
        ["name"],
        name=operation.name,
        starts=operation.starts,
        ends=operation.ends,
        areas=list(operation.areas),
        description=operation.description,
        updated_at=now,
    )
    return operation, "updated" if existing else "added"


def _upsert(c: sa.Connection, table: sa.Table, key: list[str], **values: object) -> None:
    """Insert a row, or replace the one with the same ``key`` columns."""
    statement = insert(table).values(values)
    replace = {k: statement.excluded[k] for k in values if k not in key}
    c.execute(statement.on_conflict_do_update(index_elements=key, set_=replace))


def add_operation(
    store: Store,
    name: str,
    starts: dt.date,
    ends: dt.date,
    area_names: Sequence[str],
    description: str | None = None,
) -> Operation:
    """Define an operation, or update the dates, areas and description of one of that name."""
    plan = _plan_operation(_Areas(store), name, starts, ends, area_names, description)
    return store.team_records.transact(lambda c: _put_operation(c, plan, utc_now())[0])


def _stored_counts(c: sa.Connection, operation: str) -> dict[tuple[str, str], int]:
    t = schema.operation_results
    rows = c.execute(
        sa.select(t.c.area, t.c.measure, t.c.count).where(t.c.operation == operation)
    ).all()
    return {(a, m): int(n) for a, m, n in rows}


class _Areas:
    """:func:`areas.resolve` remembered for one command (areas do not change meanwhile)."""

    def __init__(self, store: Store) -> None:
        self.store, self.memo = store, dict[str, Area]()

    def get(self, text: str) -> Area:
        if text not in self.memo:
            area = areas.resolve(self.store, text)
            self.memo[text] = self.memo[areas.reference(area)] = area
        return self.memo[text]

    def key(self, text: str | None) -> str:
        """The stored key of an area given by name: its reference, or WHOLE for the operation."""
        if text is None or text.strip().lower() in ("", "all", WHOLE):
            return WHOLE
        return areas.reference(self.get(text))

    def named(self, keys: Sequence[str]) -> dict[str, Area]:
        return {k: self.get(k) for k in sorted(set(keys)) if k != WHOLE}


@dataclass(frozen=True)
class _Given:
    """A result to record: its count, where it was given (for errors) and its source."""

    count: int
    where: str
    source: str


class _Stale(Exception):
    """Another writer recorded an area whose relations were not worked out beforehand."""


@dataclass(frozen=True)
class _Check:
    """What checking an operation's results needs from the areas, worked out before the
    transaction: the relations of every area recorded for the measures given (or the error
    working them out, raised where the check stands)."""

    keys: frozenset[str]
    relations: Relations
    names: dict[str, str]
    error: InputError | None = None

    def validate(
        self, operation: str, counts: dict[tuple[str, str], int], given: Mapping[Key, _Given]
    ) -> None:
        """Refuse ``counts`` when a rule is broken by a result in ``given``.

        Only the given measures are checked: measures never constrain each other.
        """
        counts = {k: n for k, n in counts.items() if k[1] in {m for _, m in given}}
        if not {a for a, _ in counts} - {WHOLE} <= self.keys:
            raise _Stale
        if self.error is not None:
            raise self.error
        found = check_hierarchy(counts, self.relations)
        broken = [v for v in found if v.keys & given.keys()]
        if broken:
            first = broken[0]
            where = max((given[k].where for k in first.keys if k in given), key=_line_order)
            more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
            raise InputError(
                f"{where}: {first.describe(self.names)} in {operation}{more}; nothing was recorded"
            )


def _prepare(known: _Areas, results: Mapping[str, Mapping[Key, _Given]]) -> dict[str, _Check]:
    """A :class:`_Check` for each operation's results, from what is stored now."""
    with known.store.team_records.connect() as c:
        stored = {}
        for op in results:
            found = _find(c, op)
            stored[op] = _stored_counts(c, found.name) if found else {}
    checks = {}
    for op, given in results.items():
        measures = {m for _, m in given}
        keys = frozenset(a for a, m in [*stored[op], *given] if m in measures and a != WHOLE)
        try:
            named = known.named(sorted(keys))
            relations = area_relations(known.store, named)
        except InputError as exc:
            checks[op] = _Check(keys, Relations(), {}, exc)
            continue
        checks[op] = _Check(keys, relations, {k: a.name for k, a in named.items()})
    return checks


def _line_order(where: str) -> tuple[int, str]:
    found = re.search(r"line (\d+)", where)
    return (int(found[1]) if found else 0, where)


def _put_result(
    c: sa.Connection, operation: str, key: Key, given: _Given, by: str, now: dt.datetime
) -> bool:
    """Store one result in the transaction ``c``; audit it. False when unchanged.

    Audit ids are the stored maximum plus one, read in the same transaction."""
    area, measure = key
    t, log = schema.operation_results, schema.operation_results_audit
    old = c.execute(
        sa.select(t.c.count).where(
            t.c.operation == operation, t.c.area == area, t.c.measure == measure
        )
    ).scalar_one_or_none()
    if old == given.count:
        return False
    _upsert(
        c,
        t,
        ["operation", "area", "measure"],
        operation=operation,
        area=area,
        measure=measure,
        count=given.count,
        recorded_by=by,
        recorded_at=now,
        source=given.source,
    )
    last = c.execute(sa.select(sa.func.max(log.c.change_id))).scalar_one_or_none()
    c.execute(
        sa.insert(log).values(
            change_id=(last or 0) + 1,
            operation=operation,
            area=area,
            measure=measure,
            old_count=old,
            new_count=given.count,
            changed_by=by,
            changed_at=now,
            source=given.source,
        )
    )
    return True


def _save(
    known: _Areas,
    plans: Sequence[Operation],
    results: Mapping[str, Mapping[Key, _Given]],
    by: str,
) -> tuple[list[str], list[bool]]:
    """Write operations (:func:`_plan_operation`), then results keyed by operation name, in one
    transaction, refused whole if a result breaks a rule against what is stored. Returns each
    operation's status and, for each result (operations by name, keys sorted), whether it
    changed the stored count."""

    def work(c: sa.Connection) -> tuple[list[str], list[bool]]:
        now = utc_now()
        statuses = [_put_operation(c, plan, now)[1] for plan in plans]
        changed = []
        for op, given in sorted(results.items()):
            found = _find(c, op)
            assert found is not None  # stored before, or written above (none is ever deleted)
            counts = {**_stored_counts(c, found.name), **{k: g.count for k, g in given.items()}}
            checks[op].validate(found.name, counts, given)
            changed += [_put_result(c, found.name, k, given[k], by, now) for k in sorted(given)]
        return statuses, changed

    checks = _prepare(known, results)
    while True:  # a rerun sees every area recorded so far, and results are never deleted
        try:
            return known.store.team_records.transact(work)
        except _Stale:
            checks.update(_prepare(known, results))


def _check_by(by: str) -> str:
    if not by.strip() or len(by.strip()) > 80:
        raise InputError(
            "--by: say who records the result (a name, collar number or team, up to 80 characters)"
        )
    return by.strip()


def record_result(
    store: Store, operation: str, area: str | None, measure: str, count: int, by: str
) -> bool:
    """Record (or replace) one result; ``area`` None is the operation-wide total.

    Refused, with nothing written, when it would break a hierarchy rule. True when the
    stored value changed (then an audit row records who, when, old and new).
    """
    by = _check_by(by)
    measure = parse_measure(measure)
    if count < 0:
        raise InputError(f"--count {count}: expected a whole number of 0 or more")
    op = get_operation(store, operation)
    known = _Areas(store)
    key = (known.key(area), measure)
    given = {key: _Given(count, f"--count {count}", "ops record")}
    _, [changed] = _save(known, [], {op.name: given}, by)
    return changed


# --- roll-ups -------------------------------------------------------------------------------


def rollup(store: Store, name: str) -> dict[str, Any]:
    """An operation's results by measure (see :func:`summarise_measure`), re-checked against
    the rules as areas stand now (``violations`` lists what a later area change broke)."""
    op = get_operation(store, name)
    with store.team_records.connect() as c:
        counts = _stored_counts(c, op.name)
    named = _Areas(store).named([*op.areas, *(a for a, _ in counts)])
    names = {k: a.name for k, a in named.items()}
    relations = area_relations(store, {k: named[k] for k in {a for a, _ in counts} if k != WHOLE})
    measures = sorted({m for _, m in counts}, key=measure_order)
    by_measure = [
        summarise_measure(m, {a: n for (a, mm), n in counts.items() if mm == m}, relations, names)
        for m in measures
    ]
    return {
        **op.to_dict(names),
        "measures": by_measure,
        "violations": [v.describe(names) for v in check_hierarchy(counts, relations)],
    }


def list_operations(store: Store) -> list[dict[str, Any]]:
    """Every operation with its dates, areas and number of recorded results."""
    o, r = schema.operations, schema.operation_results
    results = sa.select(sa.func.count(r.c.count)).where(r.c.operation == o.c.name)
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(
                o.c.name,
                o.c.starts,
                o.c.ends,
                o.c.areas,
                o.c.description,
                results.scalar_subquery(),
            )
        ).all()
    result = []
    for name, starts, ends, refs, description, n in sorted(rows, key=lambda x: (x[1], x[0])):
        names = {r: areas.resolve(store, r).name for r in refs}
        result.append(
            {
                **Operation(name, starts, ends, tuple(refs), description).to_dict(names),
                "results": int(n),
            }
        )
    return result


# The audit's columns as the store's frame gave them (changed_at: UTC).
AUDIT_SCHEMA = pl.Schema(
    {
        "change_id": pl.Int64(),
        "area": pl.String(),
        "measure": pl.String(),
        "old_count": pl.Int64(),
        "new_count": pl.Int64(),
        "changed_by": pl.String(),
        "changed_at": pl.Datetime("us", "Etc/UTC"),
        "source": pl.String(),
    }
)


def audit(store: Store, name: str) -> list[dict[str, object]]:
    """Every change to an operation's results, oldest first: who, when, old and new."""
    op = get_operation(store, name)
    t = schema.operation_results_audit
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(*(t.c[k] for k in AUDIT_SCHEMA))
            .where(t.c.operation == op.name)
            .order_by(t.c.change_id)
        ).all()
    at = list(AUDIT_SCHEMA).index("changed_at")
    utc = [(*row[:at], row[at].astimezone(dt.UTC), *row[at + 1 :]) for row in rows]
    return pl.DataFrame(utc, schema=AUDIT_SCHEMA, orient="row").to_dicts()


def operations_report(
    store: Store, area: Area | str, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """Roll-ups (:func:`rollup`) of the operations that ran between ``start`` and ``end`` in
    ``area``: their dates overlap the period and one of their areas shares ground with it
    (or how they lie cannot be told). For reports such as the JAG pack."""
    target = areas.resolve(store, area) if isinstance(area, str) else area
    t = schema.operations
    with store.team_records.connect() as c:
        rows = c.execute(
            sa.select(t.c.name, t.c.areas, t.c.starts).where(t.c.starts <= end, t.c.ends >= start)
        ).all()
    found, known = [], _Areas(store)
    for name, refs, _ in sorted(rows, key=lambda x: (x[2], x[0])):
        try:
            _, apart = areas.relations(store, {"\0": target, **known.named(refs)})
        except InputError:
            apart = frozenset()
        if any(frozenset(("\0", r)) not in apart for r in refs):
            found.append(rollup(store, name))
    return found
