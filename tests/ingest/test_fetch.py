"""``beatbook fetch``: a team area's month from the police.uk API, stored like a file import.

Against the local police.uk server (tests/support/policeuk_server.py), which answers with
the real rows of the bundled 2021-06 street file in the API's shape. Every expected number
is worked out here from that answer or the raw files (json, csv, shapely), not by BeatBook.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
import pytest
from fetch_support import (
    AREA,
    COVERAGE,
    FETCHED,
    FILE_MONTHS,
    NAMES,
    answered,
    api,
    fetch_base,
    fetch_store,
    file_rows,
    server,
    street_file,
    ward_lsoas,
)

from beatbook import areas
from beatbook.errors import InputError
from beatbook.ingest.api_months import fetch_month
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.policeuk_server import Server, served_months

__all__ = ["api", "fetch_base", "fetch_store", "server"]  # fixtures


def _fetch(st: Store, client: PoliceUkApi, month: str = FETCHED, **kw: object):
    area = areas.resolve(st, AREA)
    return fetch_month(st, client, areas.outline(st, area), areas.reference(area), month, **kw)


def _stored(st: Store, month: str = FETCHED) -> list[dict]:
    return st.records(
        "SELECT * EXCLUDE (month) FROM street_crimes WHERE month = ? ORDER BY source_line",
        [f"{month}-01"],
    )


def _partition(st: Store, month: str = FETCHED) -> dict | None:
    found = st.records(
        "SELECT source_file, rows_stored, rows_quarantined, origin, publication, coverage "
        "FROM partitions WHERE kind = 'street' AND month = ?",
        [f"{month}-01"],
    )
    assert len(found) <= 1
    return found[0] if found else None


def test_the_fetched_rows_equal_an_independent_count_of_the_answer(
    fetch_store: Store, api: PoliceUkApi
) -> None:
    result = _fetch(fetch_store, api, today=dt.date(2021, 7, 20))
    expected = answered()
    rows = _stored(fetch_store)
    assert len(rows) == len(expected) == result.rows_stored > 600
    # Crime IDs, ASB without one, the file's type names, the snap point, the outcome.
    assert Counter(r["crime_id"] for r in rows) == Counter(
        c["persistent_id"] or None for c in expected
    )
    assert result.asb_rows == sum(not c["persistent_id"] for c in expected) > 50
    assert Counter(r["crime_type"] for r in rows) == Counter(NAMES[c["category"]] for c in expected)
    assert Counter(r["location"] for r in rows) == Counter(
        c["location"]["street"]["name"] for c in expected
    )
    assert all(r["location"].startswith("On or near ") for r in rows)
    assert Counter(r["last_outcome"] for r in rows) == Counter(
        (c["outcome_status"] or {}).get("category") for c in expected
    )
    assert {r["force"] for r in rows} == {"leicestershire"}
    assert {r["falls_within"] for r in rows} == {"Leicestershire Police"}  # as its files say
    # LSOAs come from the stored boundaries: each is one of West Leicester's, and for the
    # crimes (ASB has no ID to match) mostly the one police.uk's own file gives.
    west = ward_lsoas()
    assert {r["lsoa_code"] for r in rows} <= west
    assert {r["local_authority"] for r in rows} == {"Leicester"}
    in_file = {r["Crime ID"]: r["LSOA code"] for r in file_rows(FETCHED) if r["Crime ID"]}
    same = [r["lsoa_code"] == in_file[r["crime_id"]] for r in rows if r["crime_id"]]
    assert sum(same) / len(same) > 0.95
    # The partition says where the month came from, when, and for which area.
    assert _partition(fetch_store) == {
        "source_file": f"police.uk API crimes-street {FETCHED} ({COVERAGE})",
        "rows_stored": len(expected),
        "rows_quarantined": 0,
        "origin": "api",
        "publication": "2021-07-20",
        "coverage": COVERAGE,
    }
    # The counts every figure reads agree with the rows.
    assert fetch_store.scalar(
        "SELECT sum(counted) FROM monthly_counts WHERE month = ?", [f"{FETCHED}-01"]
    ) == len(expected)


def test_a_big_area_is_split_and_the_requests_keep_to_15_a_second(
    fetch_store: Store, server: Server
) -> None:
    """The area holds over 700 crimes; a cap of 20 makes the client split it into many
    requests. A clock that only moves when the client waits shows when each was sent."""
    now = [0.0]
    sent: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    hooks = {"request": [lambda request: sent.append(now[0])]}
    server.cap, server.extra = 20, {}
    server.requests.clear()
    client = httpx.Client(timeout=30.0, event_hooks=hooks)
    with PoliceUkApi(server.url, client=client, sleep=sleep, clock=lambda: now[0]) as api:
        result = _fetch(fetch_store, api)
    server.cap = 10_000
    posts = [r for r in server.requests if r == ("POST", "/api/crimes-street/all-crime")]
    assert len(posts) > 60 and len(sent) == len(server.requests)
    # A token bucket of 30 at 15 a second: any run of k requests spans (k - 30) / 15 s.
    for i in range(len(sent)):
        for j in range(i + 30, len(sent)):
            assert sent[j] - sent[i] >= (j - i + 1 - 30) / 15 - 1e-9
    assert sent[-1] >= (len(sent) - 30) / 15 - 1e-9
    # Split or not, the same crimes, each once.
    assert result.rows_stored == len(answered())
    assert fetch_store.scalar(
        "SELECT count(DISTINCT source_line) FROM street_crimes WHERE month = ?",
        [f"{FETCHED}-01"],
    ) == len(answered())


def test_a_month_the_api_does_not_list_is_refused_naming_its_latest(
    fetch_store: Store, api: PoliceUkApi, server: Server
) -> None:
    newest = sorted(p.name[:7] for p in street_file("x").parent.glob("*-street.csv.gz"))[-1]
    assert newest == "2025-09"
    before = fetch_store.table_counts()
    for month in ("2030-01", "2021-13", "June"):
        with pytest.raises(InputError, match="--month") as caught:
            _fetch(fetch_store, api, month)
        if month == "2030-01":
            assert f"latest {newest}" in str(caught.value)
    assert fetch_store.table_counts() == before
    assert ("POST", "/api/crimes-street/all-crime") not in server.requests


def test_latest_is_the_newest_month_crimes_street_dates_lists(
    fetch_store: Store, api: PoliceUkApi, server: Server
) -> None:
    server.months = ["2021-06", "2021-05"]  # an API whose newest month is 2021-06
    try:
        assert _fetch(fetch_store, api, "latest").month == "2021-06"
    finally:
        server.months = served_months()
    assert _fetch(fetch_store, api, "latest").month == "2025-09"
    assert _partition(fetch_store, "2025-09")["origin"] == "api"


def test_refetching_replaces_the_api_month_and_never_duplicates(
    fetch_store: Store, api: PoliceUkApi
) -> None:
    first = _fetch(fetch_store, api, today=dt.date(2021, 7, 20))
    counts = fetch_store.table_counts()
    again = _fetch(fetch_store, api, today=dt.date(2021, 8, 3))
    assert first.replaced_rows is None and again.replaced_rows == first.rows_stored
    assert fetch_store.table_counts() == counts  # replaced, not added
    assert _partition(fetch_store)["publication"] == "2021-08-03"
    assert len(_stored(fetch_store)) == len(answered())


def test_a_fetch_never_replaces_a_month_imported_from_a_file(
    fetch_store: Store, api: PoliceUkApi, server: Server
) -> None:
    server.months = [FETCHED, *FILE_MONTHS[::-1]]
    before = fetch_store.table_counts()
    try:
        with pytest.raises(InputError, match="never replaces a file or archive import"):
            _fetch(fetch_store, api, FILE_MONTHS[-1])
    finally:
        server.months = served_months()
    assert fetch_store.table_counts() == before
    assert ("POST", "/api/crimes-street/all-crime") not in server.requests
    assert _partition(fetch_store, FILE_MONTHS[-1])["origin"] == "file"


def test_a_later_file_import_of_the_month_supersedes_the_fetch(
    fetch_store: Store, api: PoliceUkApi
) -> None:
    _fetch(fetch_store, api)
    [result] = ingest(fetch_store, [street_file(FETCHED)])
    rows = file_rows(FETCHED)
    assert result.rows_stored == len(rows)
    assert _partition(fetch_store)["origin"] == "file"
    assert _partition(fetch_store)["coverage"] == "force"
    assert len(_stored(fetch_store)) == len(rows)  # the file's rows, none of the fetch's
    assert not fetch_store.scalar(
        "SELECT count(*) FROM street_crimes WHERE source_file LIKE 'police.uk API%'"
    )
    assert fetch_store.scalar(
        "SELECT sum(stored) FROM monthly_counts WHERE month = ?", [f"{FETCHED}-01"]
    ) == len(rows)


def test_another_areas_fetch_of_the_month_is_refused(fetch_store: Store, api: PoliceUkApi) -> None:
    _fetch(fetch_store, api)
    areas.add_area(fetch_store, "Castle team", lsoas=[], wards=["Castle (Leicester)"], geojson=None)
    castle = areas.resolve(fetch_store, "custom:Castle team")
    with pytest.raises(InputError, match=f"already stored from the police.uk API for {COVERAGE}"):
        fetch_month(
            fetch_store, api, areas.outline(fetch_store, castle), "custom:Castle team", FETCHED
        )
    assert _partition(fetch_store)["coverage"] == COVERAGE


def test_btp_crimes_are_left_out_and_bad_rows_quarantined(
    fetch_store: Store, api: PoliceUkApi, server: Server
) -> None:
    """Crimes in the API's documented shape added to the answer, copies of a real West
    Leicester crime: a British Transport Police one (in BTP's files, not the force's), one of an
    unknown category, one of another month, and a second row of a real Crime ID (police.uk
    repeats IDs): stored, and counted once."""
    real = next(c for c in answered() if c["persistent_id"])
    extra = [
        {**real, "id": 1, "location_type": "BTP", "category": "bicycle-theft"},
        {**real, "id": 2, "category": "public-disorder-weapons"},
        {**real, "id": 3, "month": "2021-05"},
        {**real, "id": 4},
    ]
    server.extra = {FETCHED: extra}
    result = _fetch(fetch_store, api)
    assert result.btp_left_out == 1 and result.quarantined == 2
    assert result.rows_stored == len(answered()) + 1 and result.repeated_rows == 1
    assert fetch_store.scalar(
        "SELECT sum(counted) FROM monthly_counts WHERE month = ?", [f"{FETCHED}-01"]
    ) == len(answered())
    reasons = [
        r[0]
        for r in fetch_store.rows(
            "SELECT reason FROM quarantine WHERE month = ? ORDER BY source_line",
            [f"{FETCHED}-01"],
        )
    ]
    assert reasons == [
        "category 'public-disorder-weapons' is not a police.uk crime type in "
        "reference/crime_types.csv",
        f"month '2021-05' is not the month fetched ({FETCHED})",
    ]
    assert _partition(fetch_store)["rows_quarantined"] == 2


def test_a_store_without_boundaries_under_the_area_is_refused(tmp_path, api: PoliceUkApi) -> None:
    with Store(tmp_path / "empty.duckdb") as st:
        from shapely.geometry import box

        with pytest.raises(InputError, match="import-boundaries"):
            fetch_month(st, api, box(-1.2, 52.6, -1.1, 52.7), "custom:Box", FETCHED)
        assert not st.scalar("SELECT count(*) FROM partitions")
