"""Operations ledger: named operations, their results by area, and roll-ups that stay honest.

An operation has a name, dates, the areas it worked in and *results*: counts of a
measure (warrants executed, arrests, ...) for the whole operation or for an area. Areas
form a hierarchy by what they cover, so the counts must agree with it, for every
measure (:func:`check_hierarchy`):

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

from beatbook import areas
from beatbook.areas import Area
from beatbook.errors import InputError
from beatbook.months import parse_day
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

WHOLE = "*"  # the area key of an operation-wide total

# measure -> (singular, plural) for the roll-up sentences
MEASURES: dict[str, tuple[str, str]] = {
    "warrants": ("warrant", "warrants"),
    "arrests": ("arrest", "arrests"),
    "charged": ("person charged", "people charged"),
    "custodial_months": ("month of custodial sentences", "months of custodial sentences"),
    "safeguarding_visits": ("safeguarding visit", "safeguarding visits"),
}


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


def measure_nouns(measure: str) -> tuple[str, str]:
    """(singular, plural) wording of a measure; ``other:<label>`` uses the label."""
    if measure in MEASURES:
        return MEASURES[measure]
    label = measure.removeprefix("other:")
    return label, label


def _measure_order(measure: str) -> tuple[int, str]:
    names = list(MEASURES)
    return (names.index(measure), "") if measure in MEASURES else (len(names), measure)


# --- the hierarchy rules (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Relations:
    """How recorded areas lie: ``contains`` holds (whole, part) pairs, ``disjoint`` pairs
    that share no ground. Equal areas contain each other. :data:`WHOLE` contains all."""

    contains: frozenset[tuple[str, str]] = frozenset()
    disjoint: frozenset[frozenset[str]] = frozenset()

    def inside(self, whole: str, part: str) -> bool:
        if whole == WHOLE:
            return part != WHOLE
        return part != whole and (whole, part) in self.contains

    def apart(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.disjoint


@dataclass(frozen=True)
class Violation:
    """A broken rule: the parts of ``whole`` (one, or several sharing no ground) add up to
    more than the whole's count for ``measure``."""

    measure: str
    whole: str
    whole_count: int
    parts: tuple[tuple[str, int], ...]

    @property
    def keys(self) -> set[tuple[str, str]]:
        """The (area, measure) results involved."""
        return {(a, self.measure) for a, _ in self.parts} | {(self.whole, self.measure)}

    def describe(self, names: Mapping[str, str]) -> str:
        whole = "operation total" if self.whole == WHOLE else names.get(self.whole, self.whole)
        if len(self.parts) == 1:
            ((part, count),) = self.parts
            return f"{names.get(part, part)} {self.measure} {count} > {whole} {self.whole_count}"
        terms = " + ".join(f"{names.get(a, a)} {n}" for a, n in self.parts)
        total = sum(n for _, n in self.parts)
        return (
            f"{self.measure} in areas that share no ground add up to more than "
            f"{whole} {self.whole_count}: {terms} = {total}"
        )


def max_disjoint(
    parts: Sequence[tuple[str, int]], relations: Relations
) -> tuple[int, tuple[tuple[str, int], ...]]:
    """The largest sum of counts over parts that pairwise share no ground, and those parts.

    A small branch and bound (an operation records a handful of areas): parts are tried
    largest first and a branch stops when even all remaining parts cannot beat the best.
    Of equal sums, the one with fewest parts (the coarsest areas) is kept.
    """
    items = sorted(parts, key=lambda x: (-x[1], x[0]))
    tail = [sum(n for _, n in items[i:]) for i in range(len(items) + 1)]
    best: list[Any] = [0, ()]

    def search(i: int, chosen: tuple[tuple[str, int], ...], total: int) -> None:
        if total > best[0] or (total == best[0] and len(chosen) < len(best[1])):
            best[0], best[1] = total, chosen
        if i == len(items) or total + tail[i] < best[0]:
            return
        area, count = items[i]
        if all(relations.apart(area, other) for other, _ in chosen):
            search(i + 1, (*chosen, (area, count)), total + count)
        search(i + 1, chosen, total)

    search(0, (), 0)
    return best[0], tuple(sorted(best[1]))


def check_hierarchy(counts: Mapping[tuple[str, str], int], relations: Relations) -> list[Violation]:
    """Every broken rule among results keyed (area, measure); :data:`WHOLE` is the total.

    Pure: areas are plain keys and how they lie is given by ``relations``.
    """
    found: list[Violation] = []
    for measure in sorted({m for _, m in counts}, key=_measure_order):
        here = {a: n for (a, m), n in counts.items() if m == measure}
        for whole, whole_count in sorted(here.items()):
            parts = sorted((p, n) for p, n in here.items() if relations.inside(whole, p))
            found += [
                Violation(measure, whole, whole_count, ((p, n),))
                for p, n in parts
                if n > whole_count
            ]
            best, family = max_disjoint(parts, relations)
            if len(family) > 1 and best > whole_count:
                found.append(Violation(measure, whole, whole_count, family))
    return found


def area_relations(store: Store, named: Mapping[str, Area]) -> Relations:
    """:class:`Relations` of stored areas keyed by reference (see :func:`areas.relations`)."""
    return Relations(*areas.relations(store, named))


# --- the store ----------------------------------------------------------------------------


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


def _find(store: Store, name: str) -> Operation | None:
    row = store.first(
        "SELECT name, starts, ends, areas, description FROM operations WHERE lower(name) = ?",
        [" ".join(name.split()).lower()],
    )
    return None if row is None else Operation(row[0], row[1], row[2], tuple(row[3]), row[4])


def get_operation(store: Store, name: str) -> Operation:
    """The stored operation called ``name`` (case does not matter)."""
    found = _find(store, name)
    if found is None:
        known = [r[0] for r in store.rows("SELECT name FROM operations ORDER BY 1")]
        hint = f" (known: {', '.join(known[:10])})" if known else " (none defined yet)"
        raise InputError(
            f"operation {name!r}: no such operation{hint}; add it with 'beatbook ops add'"
        )
    return found


def add_operation(
    store: Store,
    name: str,
    starts: dt.date,
    ends: dt.date,
    area_names: Sequence[str],
    description: str | None = None,
) -> Operation:
    """Define an operation, or update the dates, areas and description of one of that name."""
    with store.transaction():
        operation, _ = _upsert_operation(_Areas(store), name, starts, ends, area_names, description)
    return operation


def _upsert_operation(
    known: _Areas,
    name: str,
    starts: dt.date,
    ends: dt.date,
    area_names: Sequence[str],
    description: str | None,
) -> tuple[Operation, str]:
    """Write one operation inside the caller's transaction: ('added'|'updated'|'unchanged')."""
    clean = OPERATION_NAME.check(name, "operation name") or ""
    if not clean or clean.lower() in ("all", WHOLE):
        raise InputError(f"operation name {name!r}: give a name such as 'Operation Nightjar'")
    DESCRIPTION.check(description, "description")
    if ends < starts:
        raise InputError(f"operation {clean!r}: it ends ({ends}) before it starts ({starts})")
    if not area_names:
        raise InputError(f"operation {clean!r}: give at least one area (--area)")
    refs = tuple(dict.fromkeys(areas.reference(known.get(a)) for a in area_names))
    existing = _find(known.store, clean)  # keeps the name as first written
    operation = Operation(
        existing.name if existing else clean,
        starts,
        ends,
        refs,
        (description or "").strip() or None,
    )
    if existing == operation:
        return operation, "unchanged"
    known.store.execute(
        "INSERT OR REPLACE INTO operations VALUES (?, ?, ?, ?, ?, now())",
        [operation.name, starts, ends, list(refs), operation.description],
    )
    return operation, "updated" if existing else "added"


def _stored_counts(store: Store, operation: str) -> dict[tuple[str, str], int]:
    rows = store.rows(
        "SELECT area, measure, count FROM operation_results WHERE operation = ?", [operation]
    )
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


def _validate(
    known: _Areas,
    operation: str,
    counts: dict[tuple[str, str], int],
    touched: Mapping[tuple[str, str], str],
) -> None:
    """Refuse ``counts`` when a rule is broken by a result in ``touched`` (key -> where given).

    Only the touched measures are checked: measures never constrain each other.
    """
    counts = {k: n for k, n in counts.items() if k[1] in {m for _, m in touched}}
    named = known.named([a for a, _ in counts])
    found = check_hierarchy(counts, area_relations(known.store, named))
    broken = [v for v in found if v.keys & touched.keys()]
    if broken:
        names = {k: a.name for k, a in named.items()}
        first = broken[0]
        where = max((touched[k] for k in first.keys if k in touched), key=_line_order)
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise InputError(
            f"{where}: {first.describe(names)} in {operation}{more}; nothing was recorded"
        )


def _line_order(where: str) -> tuple[int, str]:
    found = re.search(r"line (\d+)", where)
    return (int(found[1]) if found else 0, where)


def _write_result(
    store: Store, operation: str, key: tuple[str, str], count: int, by: str, source: str
) -> bool:
    """Store one result inside the caller's transaction; audit it. False when unchanged."""
    area, measure = key
    old = store.first(
        "SELECT count FROM operation_results WHERE operation = ? AND area = ? AND measure = ?",
        [operation, area, measure],
    )
    if old is not None and old[0] == count:
        return False
    store.execute(
        "INSERT OR REPLACE INTO operation_results VALUES (?, ?, ?, ?, ?, now(), ?)",
        [operation, area, measure, count, by, source],
    )
    store.execute(
        "INSERT INTO operation_results_audit SELECT coalesce(max(change_id), 0) + 1, "
        "?, ?, ?, ?, ?, ?, now(), ? FROM operation_results_audit",
        [operation, area, measure, None if old is None else old[0], count, by, source],
    )
    return True


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
    with store.transaction():
        op = get_operation(store, operation)
        known = _Areas(store)
        key = (known.key(area), measure)
        counts = {**_stored_counts(store, op.name), key: count}
        _validate(known, op.name, counts, {key: f"--count {count}"})
        return _write_result(store, op.name, key, count, by, "ops record")


# --- roll-ups -------------------------------------------------------------------------------


def percent(part: int, total: int) -> str:
    """'33%' of a share, never rounding a part to 0% or 100% when it is not."""
    share = part / total
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{round(share * 100)}%"


def share_sentence(count: int, total: int | None, measure: str, area_name: str) -> str:
    """'46 of 141 warrants were in the West area (33%)'."""
    one, many = measure_nouns(measure)
    verb = "was" if count == 1 else "were"
    if total is None:
        return f"{count:,} {one if count == 1 else many} {verb} in the {area_name} area"
    return f"{count:,} of {total:,} {many} {verb} in the {area_name} area ({percent(count, total)})"


def summarise_measure(
    measure: str, counts: Mapping[str, int], relations: Relations, names: Mapping[str, str]
) -> dict[str, Any]:
    """One measure's roll-up: the total, each area's share and what no area accounts for.

    What the areas account for is known exactly when the outermost areas share no ground;
    when they overlap it is only bounded (overlapping counts are never added).
    """
    total = counts.get(WHOLE)
    parts = sorted(
        ((a, n) for a, n in counts.items() if a != WHOLE), key=lambda x: (-x[1], names[x[0]])
    )

    def strictly_inside(part: str) -> list[str]:
        return [w for w, _ in parts if relations.inside(w, part) and not relations.inside(part, w)]

    rows = [
        {
            "area": names[a],
            "reference": a,
            "count": n,
            "share": None if not total else n / total,
            "inside": sorted(names[w] for w in strictly_inside(a)),
            "text": share_sentence(n, total, measure, names[a]),
        }
        for a, n in parts
    ]
    result: dict[str, Any] = {
        "measure": measure,
        "label": measure_nouns(measure)[1],
        "total": total,
        "areas": rows,
        "unattributed": None,
        "unattributed_at_least": None,
        "unattributed_at_most": None,
        "text": [],
    }
    if total is None:
        result["text"] = ["operation total not recorded"] + [r["text"] for r in rows]
        return result
    outer: list[tuple[str, int]] = []
    seen: set[str] = set()
    for a, n in sorted(parts):
        twin_seen = any(relations.inside(a, s) and relations.inside(s, a) for s in seen)
        if not strictly_inside(a) and not twin_seen:
            outer.append((a, n))
            seen.add(a)
    low = max(0, total - sum(n for _, n in outer))
    high = max(0, total - max_disjoint(parts, relations)[0])
    result.update(
        unattributed_at_least=low,
        unattributed_at_most=high,
        unattributed=low if low == high else None,
    )
    one, many = measure_nouns(measure)
    lines = [f"{total:,} {one if total == 1 else many} in total"] + [r["text"] for r in rows]
    if parts and low == high:
        lines.append(f"not attributed to an area: {low:,}")
    elif parts:
        lines.append(
            f"not attributed to an area: between {low:,} and {high:,} (some areas "
            "overlap, so their counts are not added up)"
        )
    result["text"] = lines
    return result


def rollup(store: Store, name: str) -> dict[str, Any]:
    """An operation's results by measure (see :func:`summarise_measure`), re-checked against
    the rules as areas stand now (``violations`` lists what a later area change broke)."""
    op = get_operation(store, name)
    counts = _stored_counts(store, op.name)
    named = _Areas(store).named([*op.areas, *(a for a, _ in counts)])
    names = {k: a.name for k, a in named.items()}
    relations = area_relations(store, {k: named[k] for k in {a for a, _ in counts} if k != WHOLE})
    measures = sorted({m for _, m in counts}, key=_measure_order)
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
    rows = store.rows(
        "SELECT o.name, o.starts, o.ends, o.areas, o.description, count(r.count) "
        "FROM operations o LEFT JOIN operation_results r ON r.operation = o.name "
        "GROUP BY ALL ORDER BY o.starts, o.name"
    )
    result = []
    for name, starts, ends, refs, description, n in rows:
        names = {r: areas.resolve(store, r).name for r in refs}
        result.append(
            {
                **Operation(name, starts, ends, tuple(refs), description).to_dict(names),
                "results": int(n),
            }
        )
    return result


def audit(store: Store, name: str) -> list[dict[str, object]]:
    """Every change to an operation's results, oldest first: who, when, old and new."""
    op = get_operation(store, name)
    frame = store.frame(
        "SELECT change_id, area, measure, old_count, new_count, changed_by, changed_at, source "
        "FROM operation_results_audit WHERE operation = ? ORDER BY change_id",
        [op.name],
    )
    return frame.to_dicts()


def operations_report(
    store: Store, area: Area | str, start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """Roll-ups (:func:`rollup`) of the operations that ran between ``start`` and ``end`` in
    ``area``: their dates overlap the period and one of their areas shares ground with it
    (or how they lie cannot be told). For reports such as the JAG pack."""
    target = areas.resolve(store, area) if isinstance(area, str) else area
    rows = store.rows(
        "SELECT name, areas FROM operations WHERE starts <= ? AND ends >= ? ORDER BY starts, name",
        [end, start],
    )
    found, known = [], _Areas(store)
    for name, refs in rows:
        try:
            _, apart = areas.relations(store, {"\0": target, **known.named(refs)})
        except InputError:
            apart = frozenset()
        if any(frozenset(("\0", r)) not in apart for r in refs):
            found.append(rollup(store, name))
    return found
