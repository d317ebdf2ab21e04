"""One priority per (place, problem) at a time, and reasons that stay current, on a store
built like the demo (its months, West Leicester, its concerns and the Makefile's decisions
in the Makefile's order: September's and October's proposals saved, then each ward's first
September proposal adopted, two continued into October and one closed in September).

Counts are checked against DuckDB over the raw police.uk files; which priorities run is
checked against the store's event rows by SQL, not through the lifecycle's own reading.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from priorities_support import (
    DEMO_AREA,
    DEMO_MONTHS,
    named_months,
    problem_crime_types,
    raw_counts_at,
)

from beatbook.errors import InputError
from beatbook.figures.public import current_by_area
from beatbook.priorities import lifecycle, review
from beatbook.priorities.propose import propose
from beatbook.store import Store
from support.fixtures_store import POLICE, WARD_LOOKUP
from support.records_backend import TeamSQL, attached, open_store

AREA = f"custom:{DEMO_AREA}"
BY = "Insp. Test"
SEPT, OCT = dt.date(2025, 9, 1), dt.date(2025, 10, 1)


def flat(result: dict[str, Any], key: str = "priorities") -> list[dict[str, Any]]:
    return [c for w in result["wards"] for c in w[key]]


@pytest.fixture(scope="module")
def demo(demo_like_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The store after the Makefile's decisions, and who is who: ``first`` maps each ward
    to its first September proposal's id (the demo's 7, 9 and 11)."""
    path = tmp_path_factory.mktemp("running") / "demo.duckdb"
    shutil.copyfile(demo_like_store_path, path)
    with attached(path), open_store(path) as st:
        september = propose(st, AREA, "2025-08", per_ward=2)
        sept_ids = lifecycle.save_proposals(st, september)
        october = propose(st, AREA, "2025-09", per_ward=2)
        oct_ids = lifecycle.save_proposals(st, october)
        first = {}
        for c, pid in zip(flat(september), sept_ids, strict=True):
            first.setdefault(c["ward"], pid)
        western, westcotes, fosse = first["Western"], first["Westcotes"], first["Fosse"]
        for pid in (western, westcotes, fosse):
            lifecycle.adopt(st, pid, BY, month=SEPT)
        for pid in (western, westcotes):
            lifecycle.decide(st, pid, "continued", BY, month=OCT)
        review.close(st, fosse, BY, SEPT)
        yield st, first, dict(zip(oct_ids, flat(october), strict=True))


@pytest.fixture(scope="module")
def october(demo) -> dict[str, Any]:
    """October's proposals (data to September) after the decisions, two per ward."""
    return propose(demo[0], AREA, "2025-09", per_ward=2)


def running_by_sql(st: Store) -> set[int]:
    """Priorities whose latest event is an adoption or continuation, read straight from SQL."""
    with TeamSQL.of(st) as sql:
        rows = sql.execute(
            "SELECT priority_id FROM priority_events e WHERE seq = (SELECT max(seq) FROM "
            "priority_events f WHERE f.priority_id = e.priority_id) "
            "AND action IN ('adopted', 'continued')"
        ).fetchall()
    return {r[0] for r in rows}


def key_of(st: Store, pid: int) -> tuple[str, str, str]:
    with TeamSQL.of(st) as sql:
        row = sql.execute(
            "SELECT area, place_key, problem FROM priorities WHERE priority_id = ?", [pid]
        ).fetchone()
    assert row is not None
    return row


def count_priorities(st: Store, *key: str) -> int:
    """Rows in priorities, or those of one (area, place_key, problem)."""
    where = " WHERE area = ? AND place_key = ? AND problem = ?" if key else ""
    with TeamSQL.of(st) as sql:
        return int(sql.scalar("SELECT count(*) FROM priorities" + where, list(key)))


def test_october_does_not_propose_the_running_ones_again(demo, october) -> None:
    st, first, _ = demo
    running = running_by_sql(st)
    assert running == {first["Western"], first["Westcotes"]}
    taken = {key_of(st, pid)[1:] for pid in running}
    result = october
    new = flat(result)
    assert not taken & {(c["place_key"], c["problem"]) for c in new}
    shown = {c["priority_id"]: c for c in flat(result, "running")}
    assert set(shown) == running
    for pid in running:
        entry = shown[pid]
        assert (entry["status"], entry["since"]) == ("continued", "2025-09")
        assert (entry["place_key"], entry["problem"]) == key_of(st, pid)[1:]
        # the running one sits in its own ward's record, beside new proposals that filled
        ward = next(w for w in result["wards"] if entry in w["running"])
        assert ward["ward"] == entry["ward"] and len(ward["priorities"]) == 2
        assert [c["rank"] for c in ward["priorities"]] == [1, 2]
    json.dumps(result)


def test_a_running_entry_carries_this_months_figures(demo, october) -> None:
    st, first, _ = demo
    result = october
    entry = next(c for c in flat(result, "running") if c["priority_id"] == first["Western"])
    with raw_street(["2025-07", "2025-08", "2025-09"]) as raw:
        lsoas = ward_lsoas("Western")
        types = problem_crime_types()[entry["problem"]]
        expected = raw_counts_at(
            raw, entry["snap_points"], lsoas, types, ["2025-07", "2025-08", "2025-09"]
        )
    assert entry["figures"]["crimes_recent"] == sum(expected.values())
    assert [m["count"] for m in entry["evidence"]["months"][-3:]] == list(expected.values())
    assert "July to September 2025" in entry["reason"]
    assert "January to June 2025" in entry["reason"]  # 2024 is not stored: named, not "year"
    assert "year before" not in entry["reason"]


def test_saving_never_records_a_running_one(demo, october) -> None:
    st, first, _ = demo
    result = october
    keys = [key_of(st, first[w]) for w in ("Western", "Westcotes")]

    def rows_for_keys() -> int:
        return sum(count_priorities(st, *k) for k in keys)

    held = rows_for_keys()
    ids = lifecycle.save_proposals(st, result)
    assert len(ids) == len(flat(result)) and rows_for_keys() == held
    # a proposal made before the adoption, saved after it: the running one is refused whole
    stale = json.loads(json.dumps(result))
    stale["for_month"] = "2025-11"
    stale["wards"][0]["priorities"].append({**flat(result, "running")[0], "rank": 3})
    before = count_priorities(st)
    with pytest.raises(
        InputError, match=r"is already a priority \(id \d+, running since 2025-09\)"
    ):
        lifecycle.save_proposals(st, stale)
    assert count_priorities(st) == before


def test_adopting_a_second_one_is_refused_naming_the_running_one(demo) -> None:
    st, first, saved_october = demo
    running = {key_of(st, pid): pid for pid in running_by_sql(st)}
    again = [pid for pid in saved_october if key_of(st, pid) in running]
    assert again, "October's saved proposals re-proposed a running priority (demo id 13)"
    for pid in again:
        other = running[key_of(st, pid)]
        label = lifecycle.priority(st, other)["label"]
        with pytest.raises(InputError) as refused:
            lifecycle.adopt(st, pid, BY)
        message = str(refused.value)
        assert f"id {other}, running since 2025-09" in message and label in message
        assert lifecycle.priority(st, pid)["status"] == "proposed"  # nothing recorded


def test_a_place_closed_last_month_says_so_when_proposed_again(demo) -> None:
    st, first, _ = demo
    closed = key_of(st, first["Fosse"])
    result = propose(st, AREA, "2025-09", per_ward=10)
    again = [c for c in flat(result) if (c["place_key"], c["problem"]) == closed[1:]]
    assert len(again) == 1
    assert again[0]["closed_in"] == "2025-09"
    assert again[0]["reason"].startswith("closed in September 2025; proposed again because ")
    assert all("closed_in" not in c for c in flat(result) if c is not again[0])


def test_a_continuation_records_figures_recomputed_from_the_latest_data(demo) -> None:
    st, first, _ = demo
    p = lifecycle.priority(st, first["Western"])
    proposed, continued = p["events"][0]["details"], p["events"][-1]["details"]
    assert proposed["recent_months"] == ["2025-06", "2025-07", "2025-08"]  # kept in history
    assert continued["data_to"] == "2025-09"
    assert continued["recent_months"] == ["2025-07", "2025-08", "2025-09"]
    assert continued["baseline_months"] == [f"2025-0{m}" for m in range(1, 7)]
    with raw_street(continued["recent_months"]) as raw:
        counts = raw_counts_at(
            raw,
            p["snap_points"],
            ward_lsoas("Western"),
            problem_crime_types()[p["problem"]],
            continued["recent_months"],
        )
    assert continued["figures"]["crimes_recent"] == sum(counts.values())
    assert "July to September 2025" in continued["reason"]


def test_the_public_list_uses_the_latest_figures_and_names_months(demo) -> None:
    st, first, _ = demo
    (block,) = current_by_area(st, AREA)
    rows = [r for w in block["wards"] for r in w["priorities"]]
    assert block["month"] == "2025-10"
    keys = [(r["place"], r["problem"]) for r in rows]
    assert len(keys) == len(set(keys))
    western = next(r for r in rows if r["id"] == first["Western"])
    assert "July to September 2025" in western["why"]  # October's data, not September's
    for r in rows:
        assert "year before" not in r["why"]  # no month of 2024 is stored
        assert set(named_months(r["why"])) <= set(DEMO_MONTHS), r["why"]


def test_the_public_list_shows_a_stored_duplicate_once(demo) -> None:
    """A store written before adoption was refused (the demo's 7 and 13 both adopted):
    the place and problem is listed once, as the one running since September."""
    st, first, saved_october = demo
    western = key_of(st, first["Western"])
    duplicate = next(pid for pid in saved_october if key_of(st, pid) == western)
    with TeamSQL.of(st) as sql:  # what an older BeatBook recorded
        sql.execute(
            "INSERT INTO priority_events VALUES (?, 2, 'adopted', ?, now(), ?, '{}')",
            [duplicate, BY, OCT],
        )
    try:
        (block,) = current_by_area(st, AREA)
        rows = [r for w in block["wards"] for r in w["priorities"]]
        shown = [r["id"] for r in rows if r["id"] in (first["Western"], duplicate)]
        assert shown == [first["Western"]]
        result = propose(st, AREA, "2025-09", per_ward=2)
        assert [c["priority_id"] for c in flat(result, "running")].count(first["Western"]) == 1
        assert duplicate not in [c["priority_id"] for c in flat(result, "running")]
    finally:
        with TeamSQL.of(st) as sql:
            sql.execute(
                "DELETE FROM priority_events WHERE priority_id = ? AND seq = 2", [duplicate]
            )


# --- helpers: the raw files, read without BeatBook ---------------------------------------------


class raw_street:  # noqa: N801 - a context manager read like a function
    """An in-memory DuckDB ``street`` table of the raw files of ``months``."""

    def __init__(self, months: list[str]) -> None:
        self.months = months

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.con = duckdb.connect()
        files = ", ".join(f"'{POLICE / f'{m}-leicestershire-street.csv.gz'}'" for m in self.months)
        self.con.execute(
            f'CREATE TABLE street AS SELECT *, "Month" AS month FROM read_csv([{files}], '
            "header = true, all_varchar = true)"
        )
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def ward_lsoas(ward: str) -> set[str]:
    """The 2011 LSOAs of a Leicester ward, from the raw ONS lookup."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"SELECT DISTINCT LSOA11CD FROM read_csv('{WARD_LOOKUP}', header = true, "
            "all_varchar = true) WHERE WD19NM = ? AND LAD19NM = 'Leicester'",
            [ward],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}
