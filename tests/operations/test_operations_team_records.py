"""The operations ledger in the team's records, embedded and in PostgreSQL: results checked
against the hierarchy rules and written in one transaction, every change audited with ids
1, 2, 3, ... (the stored maximum plus one, read in that transaction), also when two people
record at once. Stored rows are read back by plain SQL, apart from BeatBook's code."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import sqlalchemy as sa
from ops_support import OPERATIONS_CSV, RESULTS_CSV, define_west

from beatbook.errors import InputError
from beatbook.operations import csv_import as operations_csv
from beatbook.operations import records as operations
from beatbook.store import Store
from support.write_race import run_racing

KESTREL = ("Operation Kestrel", dt.date(2025, 4, 1), dt.date(2025, 4, 30), ["Leicester"])


def sql(store: Store, text: str) -> list[tuple]:
    with store.team_records.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(text)).all()]


def audit_ids(store: Store) -> list[int]:
    return [n for (n,) in sql(store, "SELECT change_id FROM operation_results_audit ORDER BY 1")]


@pytest.fixture
def ops_store(team_store: Store) -> Store:
    define_west(team_store)
    return team_store


def test_add_record_and_import_audit_every_change_in_order(ops_store: Store) -> None:
    store = ops_store
    operations.add_operation(store, *KESTREL)
    assert operations.record_result(store, "operation kestrel", None, "arrests", 30, "PC 1")
    assert operations.record_result(
        store, "Operation Kestrel", "West Leicester", "arrests", 9, "PC 1"
    )
    assert not operations.record_result(store, "Operation Kestrel", None, "arrests", 30, "PC 2")
    assert operations.record_result(store, "Operation Kestrel", None, "arrests", 31, "PC 2")
    with pytest.raises(InputError, match="West Leicester arrests 32 > operation total 31"):
        operations.record_result(store, "Operation Kestrel", "West Leicester", "arrests", 32, "x")

    summary = operations_csv.import_files(store, [OPERATIONS_CSV, RESULTS_CSV], by="PC 2741")
    with RESULTS_CSV.open(encoding="utf-8", newline="") as fh:
        given = list(csv.DictReader(fh))
    assert (summary.operations_added, summary.results_changed) == (2, len(given))
    changes = 3 + len(given)
    assert audit_ids(store) == list(range(1, changes + 1))
    again = operations_csv.import_files(store, [OPERATIONS_CSV, RESULTS_CSV], by="PC 9")
    assert (again.results_changed, again.results_unchanged) == (0, len(given))
    assert len(audit_ids(store)) == changes

    stored = dict(
        sql(
            store,
            "SELECT operation || '/' || measure, sum(count) FROM operation_results GROUP BY 1",
        )
    )
    expected: dict[str, int] = {"Operation Kestrel/arrests": 31 + 9}
    for row in given:
        key = f"{row['operation']}/{row['measure']}"
        expected[key] = expected.get(key, 0) + int(row["count"])
    assert {k: int(v) for k, v in stored.items()} == expected

    history = operations.audit(store, "Operation Kestrel")
    assert [(h["change_id"], h["old_count"], h["new_count"]) for h in history] == [
        (1, None, 30),
        (2, None, 9),
        (3, 30, 31),
    ]
    assert all(h["changed_at"].utcoffset() == dt.timedelta(0) for h in history)  # type: ignore[union-attr]
    listed = {o["operation"]: o["results"] for o in operations.list_operations(store)}
    assert listed == {"Operation Kestrel": 2, "Operation Nightjar": 13, "Operation Lantern": 3}


def _race(store: Store, *records: tuple[str, str, int]) -> list[object]:
    """Record each (area, measure, count) of Operation Kestrel at once, one writer each."""
    cursors = [store.cursor() for _ in records]
    outcomes = run_racing(
        store.team_records.engine,
        [
            lambda s=s, r=r: operations.record_result(s, "Operation Kestrel", *r, "PC 1")  # type: ignore[misc]
            for s, r in zip(cursors, records, strict=True)
        ],
    )
    for cursor in cursors:
        cursor.close()
    return outcomes


@pytest.fixture
def racing_store(team_store: Store) -> Store:
    if team_store.team_records.dialect != "postgresql":
        pytest.skip("embedded, the app serialises its writers")
    define_west(team_store)
    operations.add_operation(team_store, *KESTREL)
    operations.record_result(team_store, "Operation Kestrel", None, "arrests", 10, "PC 1")
    return team_store


def test_two_records_at_once_get_the_next_two_audit_ids(racing_store: Store) -> None:
    outcomes = _race(racing_store, ("West Leicester", "arrests", 4), ("all", "warrants", 7))
    assert outcomes == [True, True]
    assert audit_ids(racing_store) == [1, 2, 3]


def test_two_records_that_break_a_rule_together_are_not_both_written(
    racing_store: Store,
) -> None:
    """Westcotes and Fosse share no ground: 6 + 6 is more than the operation's 10. Each
    writer alone is within the rules; the one that commits second is checked again on the
    other's result and refused."""
    outcomes = _race(
        racing_store,
        ("Westcotes (Leicester)", "arrests", 6),
        ("Fosse (Leicester)", "arrests", 6),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["InputError", "bool"]
    refused = next(o for o in outcomes if isinstance(o, InputError))
    assert "add up to more than operation total 10" in str(refused)
    assert audit_ids(racing_store) == [1, 2]
    assert len(sql(racing_store, "SELECT area FROM operation_results")) == 2
