"""Concerns on both backends of the team's records (``team_store``: embedded, PostgreSQL).

Expected numbers come from the CSV read with the ``csv`` module and from the tables read
with plain SQL (``sa.text``), not from BeatBook's own readers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from beatbook.areas import resolve
from beatbook.concerns import records as concerns_mod
from beatbook.concerns.csv_import import import_concerns, record_concern
from beatbook.concerns.records import PUBLIC_COLUMNS, concerns_in
from beatbook.store import Store

SAMPLE = (
    Path(__file__).resolve().parents[2] / "data" / "sample" / "concerns" / "leicester-concerns.csv"
)
TODAY = dt.date(2025, 6, 30)
MARKER = "Qzvprivate"  # in every contact and description written here


def _sql(store: Store, query: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with store.team_records.connect() as c:
        return [tuple(r) for r in c.execute(sa.text(query), params or {})]


def _sample_rows() -> list[tuple[int, dict[str, str]]]:
    """(file line, cells) of every non-blank row of the sample file."""
    with open(SAMPLE, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = []
        for cells in reader:
            if any(v.strip() for v in cells.values()):
                rows.append((reader.line_num, cells))
        return rows


def _holding(store: Store, text: str) -> set[str]:
    """Every table of the team's records with a text cell containing ``text``."""
    columns = _sql(
        store,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() "
        "AND data_type IN ('VARCHAR', 'character varying', 'text')",
    )
    return {
        t
        for t, c in columns
        if _sql(store, f'SELECT count(*) FROM "{t}" WHERE "{c}" LIKE :p', {"p": f"%{text}%"})[0][0]
    }


def test_the_sample_file_imports_once_with_contacts_apart(team_store: Store) -> None:
    rows = _sample_rows()
    with_contact = [cells for _, cells in rows if cells["contact"].strip()]
    assert len(rows) == 42 and len(with_contact) == 14  # counted by hand in the file

    result = import_concerns(team_store, SAMPLE, "Leicester", today=TODAY)
    assert (result.rows, result.added, result.already_stored) == (len(rows), len(rows), 0)
    stored = _sql(
        team_store, "SELECT source_line, reported_on, source FROM concerns ORDER BY source_line"
    )
    assert [(line, day.isoformat(), source) for line, day, source in stored] == [
        (line, cells["date"], cells["source"]) for line, cells in rows
    ]
    contacts = _sql(
        team_store,
        "SELECT n.contact FROM concern_contacts n JOIN concerns c USING (concern_id) "
        "ORDER BY c.source_line",
    )
    assert [c for (c,) in contacts] == [c["contact"].strip() for c in with_contact]
    for contact in ("resident-01@example.org", "resident-02@example.org"):
        assert _holding(team_store, contact) == {"concern_contacts"}
    unmatched = _sql(team_store, "SELECT count(*) FROM concerns WHERE place IS NULL")[0][0]
    assert len(result.unmatched) == unmatched

    again = import_concerns(team_store, SAMPLE, "Leicester", today=TODAY)
    assert (again.added, again.already_stored, again.unmatched) == (0, len(rows), [])
    counts = _sql(
        team_store,
        "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM concern_contacts)",
    )
    assert counts == [(len(rows), len(with_contact))]

    leicester = resolve(team_store, "Leicester")
    frame = concerns_in(team_store, leicester, dt.date(2021, 4, 1), dt.date(2021, 6, 30))
    assert dict(frame.schema) == PUBLIC_COLUMNS
    in_months = [line for line, c in rows if "2021-04" <= c["date"][:7] <= "2021-06"]
    assert frame.height == len(in_months)
    assert frame["reported_on"].is_sorted()


def test_report_match_and_close_round_trip(team_store: Store) -> None:
    cid = record_concern(
        team_store,
        area="Leicester",
        reported_on=dt.date(2021, 5, 3),
        problem="parking",
        source="online",
        where="junction of Melton Road and Loughborough Road",
        contact=f"{MARKER}-contact@example.org",
        description=f"{MARKER} description",
        submission_id="round-trip",
        today=TODAY,
    )
    assert _holding(team_store, f"{MARKER}-contact") == {"concern_contacts"}
    assert _holding(team_store, f"{MARKER} description") == {"concern_descriptions"}
    (listed,) = concerns_mod.unmatched(team_store, area="Leicester")
    assert (listed["concern_id"], listed["reported_on"], listed["source_file"]) == (
        cid,
        "2021-05-03",
        None,
    )
    assert {"On or near Melton Road", "On or near Loughborough Road"} <= set(listed["suggestions"])

    done = concerns_mod.match(team_store, cid, place="Melton Rd")
    query = (
        "SELECT place, lsoa_code, match_method, suggestions, match_note "
        "FROM concerns WHERE concern_id = :i"
    )
    assert _sql(team_store, query, {"i": cid}) == [
        ("On or near Melton Road", done["lsoa_code"], "by hand", None, None)
    ]
    assert concerns_mod.placed(team_store, cid).place == "On or near Melton Road"
    assert concerns_mod.unmatched(team_store) == []

    assert concerns_mod.close(team_store, cid, on="2021-07-01")["changed"] is True
    again = concerns_mod.close(team_store, cid, on="2021-08-01")
    assert (again["changed"], again["closed_on"]) == (False, "2021-07-01")
    assert _sql(team_store, "SELECT status, closed_on FROM concerns") == [
        ("closed", dt.date(2021, 7, 1))
    ]

    leicester = resolve(team_store, "Leicester")
    closed = concerns_in(
        team_store, leicester, dt.date(2021, 5, 1), dt.date(2021, 5, 1), status="closed"
    )
    assert closed["concern_id"].to_list() == [cid]
    assert MARKER.lower() not in str(closed.to_dicts()).lower()
    (mine,) = concerns_mod.team_list(team_store, area="Leicester", free_text=True)
    assert (mine["description"], mine["closed_on"], mine["match_method"]) == (
        f"{MARKER} description",
        "2021-07-01",
        "by hand",
    )
    assert concerns_mod.team_list(team_store, status="open") == []
    empty = concerns_in(team_store, leicester, dt.date(2020, 1, 1), dt.date(2020, 1, 1))
    assert empty.height == 0 and dict(empty.schema) == PUBLIC_COLUMNS


def test_concurrent_reports_are_each_stored_once(
    team_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty reports at once plus one sent twice. On PostgreSQL the twice-sent pair both
    find it unstored inside their transactions (a barrier) before either inserts; embedded,
    the app serialises writers, so they are sent one after another."""
    area = resolve(team_store, "Westcotes")
    submissions = [f"form-{i}" for i in range(20)] + ["twice", "twice"]
    ids: dict[int, int] = {}
    concurrent = team_store.team_records.dialect == "postgresql"

    def send(n: int) -> None:
        store = team_store.cursor()  # a DuckDB connection per thread
        try:
            ids[n] = record_concern(
                store,
                area=area,
                reported_on=dt.date(2021, 5, 1),
                problem="drugs",
                source="online",
                where="Narborough Road",
                contact=f"{MARKER}-{n}@example.org",
                submission_id=submissions[n],
                today=TODAY,
            )
        finally:
            store.close()

    if concurrent:
        records = team_store.team_records
        transact = records.transact
        pair = threading.Barrier(2)
        start = threading.Barrier(len(submissions))
        waiting = threading.local()

        def transact_after_the_pair_has_read(work: Any) -> Any:
            if not getattr(waiting, "pair", False):
                return transact(work)
            runs: list[int] = []

            def wait_on_the_first_run(c: sa.Connection) -> Any:
                runs.append(1)
                if len(runs) == 1:
                    c.execute(sa.text("SELECT count(*) FROM concerns"))  # takes the snapshot
                    pair.wait(timeout=20)
                return work(c)

            return transact(wait_on_the_first_run)

        monkeypatch.setattr(records, "transact", transact_after_the_pair_has_read)

        def thread(n: int) -> None:
            waiting.pair = submissions[n] == "twice"
            start.wait(timeout=20)
            send(n)

        threads = [threading.Thread(target=thread, args=(n,)) for n in range(len(submissions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    else:
        for n in range(len(submissions)):
            send(n)

    assert len(ids) == len(submissions)
    assert ids[20] == ids[21] and len(set(ids.values())) == 21
    for submission in sorted(set(submissions)):
        key = hashlib.sha256(f"form#{submission}".encode()).hexdigest()
        found = _sql(
            team_store, "SELECT concern_id FROM concerns WHERE row_sha256 = :k", {"k": key}
        )
        assert found == [(ids[submissions.index(submission)],)], submission
    counts = _sql(
        team_store,
        "SELECT (SELECT count(*) FROM concerns), (SELECT count(*) FROM concern_contacts), "
        "(SELECT count(DISTINCT concern_id) FROM concern_contacts)",
    )
    assert counts == [(21, 21, 21)]
    frame = concerns_in(team_store, area, dt.date(2021, 5, 1), dt.date(2021, 5, 1))
    assert sorted(frame["concern_id"].to_list()) == sorted(set(ids.values()))
    assert frame["place"].unique().to_list() == ["On or near Narborough Road"]
