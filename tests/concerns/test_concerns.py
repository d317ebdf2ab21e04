"""Residents' concerns: parsing, place matching, import, the read API and the team's edits.

Everything runs against the real sample store (Leicestershire police.uk data). The
test CSVs in ``tests/data/concerns`` use real Leicester snap-point streets; the street
each row *means* is written here by hand, and snap-point coordinates and LSOAs are
recomputed from the raw police.uk files (``raw_db``), not taken from BeatBook.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beatbook.areas import resolve
from beatbook.concerns import records as concerns_mod
from beatbook.concerns.csv_import import (
    ConcernFileError,
    import_concerns,
    map_problem,
    parse_coordinate,
    parse_date,
    read_concerns_csv,
    record_concern,
)
from beatbook.concerns.matching import PlaceMatcher, normalise_place
from beatbook.concerns.records import concerns_in
from beatbook.errors import CSVFormatError, InputError
from beatbook.reference import concern_problems, crime_types, problem_groups
from beatbook.store import Store
from support.fixtures_store import raw_scalar

DATA = Path(__file__).parents[1] / "data" / "concerns"
MIXED = DATA / "mixed.csv"
DEMO = (
    Path(__file__).resolve().parents[2] / "data" / "sample" / "concerns" / "leicester-concerns.csv"
)
TODAY = dt.date(2025, 6, 30)

# mixed.csv, file line -> (the police.uk place the row means, problem). None: must stay unmatched.
MIXED_EXPECTED = {
    2: ("On or near Narborough Road", "drugs"),
    3: ("On or near Granby Street", "street-drinking"),
    4: ("On or near Foxon Street", "asb"),
    5: ("On or near Gallowtree Gate", "begging"),
    6: ("On or near Western Boulevard", "criminal-damage"),
    7: ("On or near Bede Park", "drugs"),
    8: ("On or near Haymarket Bus Station", "violence-weapons"),
    9: ("On or near St James Road", "speeding"),
    10: ("On or near Fosse Road North", "drug-dens"),
    11: ("On or near Evington Road", "acquisitive"),
    12: ("On or near Euston Street", "noise"),  # exactly its snap point's coordinates
    13: ("On or near Euston Street", "asb"),  # ~20 m from it
    14: (None, "drugs"),  # Nottingham: no Leicester snap point within 250 m
    15: (None, "street-drinking"),  # a landmark, no street
    16: (None, "acquisitive"),  # 'Supermarket': names no street
    17: (None, "parking"),  # a junction of two streets: ambiguous
    18: ("On or near Swannington Road", "criminal-damage"),
    19: ("On or near Swannington Road", "criminal-damage"),  # same row again: a second resident
    20: ("On or near Tudor Road", "drugs"),
    21: ("On or near Abingdon Road", "street-life"),
}


@pytest.fixture
def imported(writable_store: Store) -> Store:
    import_concerns(writable_store, MIXED, "Leicester", today=TODAY)
    return writable_store


def _table_digest(store: Store) -> dict[str, tuple[object, ...]]:
    """Row count and a digest of the full contents of the two concerns tables."""
    return {
        t: store.row(
            f"SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, '|' ORDER BY "
            f"r::VARCHAR)), '') FROM {t} AS r"
        )
        for t in ("concerns", "concern_contacts")
    }


# --- reference vocabulary -----------------------------------------------------------------


def test_problem_groups_of_concerns_are_police_uk_groups() -> None:
    problems = concern_problems()
    assert len({p.slug for p in problems}) == len(problems) == 15
    assert {p.problem_group for p in problems} - {None} == set(problem_groups())
    groups = [p.slug for p in problems if not p.concern_only]
    assert sorted(groups) == sorted(problem_groups())  # one row per group, slug = group


def test_every_police_uk_category_maps_to_its_own_group() -> None:
    by_slug = {p.slug: p.problem_group for p in concern_problems()}
    for t in crime_types():
        assert by_slug[map_problem(t.name)] == t.problem_group, t.name
        assert by_slug[map_problem(t.slug.replace("-", " "))] == t.problem_group, t.slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Street Drinking", "street-drinking"),
        ("street-life", "street-life"),
        ("ASB", "asb"),
        ("drug dealing", "drugs"),
        ("knife crime by the school", "knife-gang"),
        ("people dealing weed", "drugs"),
        ("cannabis smell", "drugs"),
        ("youths hanging about", "asb"),
        ("nuisance neighbours", "asb"),
        ("break-in at the shop", "acquisitive"),
        ("burglary", "acquisitive"),
        ("shoplifting", "acquisitive"),
        ("bike stolen", "acquisitive"),
        ("graffiti", "criminal-damage"),
        ("vandalism of the bus shelter", "criminal-damage"),
        ("knife seen", "violence-weapons"),
        ("a fight", "violence-weapons"),
        ("drinking on the benches", "street-drinking"),
        ("begging", "begging"),
        ("crack house", "drug-dens"),
        ("cuckooing of a vulnerable tenant", "drug-dens"),
        ("drug den next door", "drug-dens"),
        ("loud music", "noise"),
        ("boy racers", "speeding"),
        ("pavement parking", "parking"),
    ],
)
def test_problem_text_maps_to_the_expected_problem(text: str, slug: str) -> None:
    assert map_problem(text) == slug


def test_unknown_problem_lists_the_categories() -> None:
    with pytest.raises(
        ValueError,
        match="matches no problem; expected one of street-drinking, "
        "begging, street-life, drug-dens, noise, knife-gang, speeding, parking, asb, drugs",
    ):
        map_problem("aliens landing")
    with pytest.raises(ValueError):  # a keyword must be a whole word: 'crackers' is not 'crack'
        map_problem("crackers")


# --- parsers (properties) -----------------------------------------------------------------

dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=TODAY)  # settings.FIRST_DAY


@given(dates)
def test_dates_read_in_both_formats(day: dt.date) -> None:
    assert parse_date(day.isoformat(), TODAY) == day
    assert parse_date(f"{day.day:02d}/{day.month:02d}/{day.year}", TODAY) == day
    assert parse_date(f" {day.day}/{day.month}/{day.year} ", TODAY) == day


@given(st.dates(min_value=TODAY + dt.timedelta(days=1)))
def test_future_dates_are_refused(day: dt.date) -> None:
    with pytest.raises(ValueError, match="is in the future"):
        parse_date(day.isoformat(), TODAY)


@given(st.text(max_size=12))
def test_anything_else_is_not_a_date(text: str) -> None:
    shaped = re.fullmatch(r"\s*(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4})\s*", text, re.ASCII)
    if shaped:
        return
    with pytest.raises(ValueError, match="expected YYYY-MM-DD or DD/MM/YYYY"):
        parse_date(text, TODAY)


@given(st.floats(49, 61), st.floats(-9, 2.5))
def test_uk_coordinates_read_back_exactly(lat: float, lon: float) -> None:
    assert parse_coordinate(repr(lat), "latitude") == lat
    assert parse_coordinate(f" {lon!r} ", "longitude") == lon


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not 49 <= v <= 61),
        st.text(alphabet="abc,;-", min_size=1),
    )
)
def test_other_latitudes_are_refused(value: float | str) -> None:
    with pytest.raises(ValueError, match="outside the UK|not a number"):
        parse_coordinate(str(value), "latitude")


places = st.lists(
    st.sampled_from(
        list("abcSsTtNnEe &',.-/0123456789")
        + ["Rd ", "St ", "road ", "saint ", "on or near ", "corner of ", "the ", "North", " w"]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300)
@given(places)
def test_normalising_a_place_twice_changes_nothing(text: str) -> None:
    once = normalise_place(text)
    assert normalise_place(once) == once
    assert re.fullmatch(r"[a-z0-9 ,]*", once)
    assert normalise_place(text.upper()) == once


ABBREVIATIONS = {
    "Rd": "Road",
    "St": "Street",
    "Ave": "Avenue",
    "Cl": "Close",
    "Cres": "Crescent",
    "Dr": "Drive",
    "Ln": "Lane",
    "Gdns": "Gardens",
    "Sq": "Square",
    "Pl": "Place",
    "Terr": "Terrace",
}


@given(
    st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8), min_size=1, max_size=3),
    st.sampled_from(sorted(ABBREVIATIONS)),
    st.integers(1, 300),
)
def test_abbreviations_numbers_and_prefixes_do_not_matter(
    words: list[str], abbr: str, number: int
) -> None:
    if words[0] in ("the", "near", "off", "opp"):
        return
    name = " ".join(w.title() for w in words)
    full = normalise_place(f"{name} {ABBREVIATIONS[abbr]}")
    assert normalise_place(f"{name} {abbr}.") == full
    assert normalise_place(f"On or near {name} {ABBREVIATIONS[abbr]}") == full
    assert normalise_place(f"outside {number} {name} {abbr}") == full


# --- matching against the real Leicester snap points --------------------------------------


@pytest.fixture(scope="module")
def leicester_matcher(sample_store: Store) -> PlaceMatcher:
    return PlaceMatcher.for_area(sample_store, resolve(sample_store, "Leicester"))


def _leicester_names(raw_db) -> list[str]:
    rows = raw_db.execute(
        'SELECT DISTINCT "Location" FROM street WHERE district = \'Leicester\' AND "Location" '
        "LIKE 'On or near %' AND \"Longitude\" IS NOT NULL ORDER BY 1"
    ).fetchall()
    generic = {
        "Supermarket",
        "Parking Area",
        "Petrol Station",
        "Park/Open Space",
        "Nightclub",
        "Shopping Area",
        "Sports/Recreation Area",
        "Further/Higher Educational Building",
        "Pedestrian Subway",
        "Police Station",
        "Hospital",
        "Theatre/Concert Hall",
        "Conference/Exhibition Centre",
        "Bus/Coach Station",
        "Motorway Service Area",
        "Prison",
        "Airport/Airfield",
    }
    return [r[0] for r in rows if r[0].removeprefix("On or near ") not in generic]


def test_every_street_name_matches_itself(leicester_matcher: PlaceMatcher, raw_db) -> None:
    names = random.Random(7).sample(_leicester_names(raw_db), 300)
    for name in names:
        found = leicester_matcher.by_name(name.removeprefix("On or near "))
        assert found.place is not None and normalise_place(found.place) == normalise_place(name)


def test_misspellings_never_match_a_wrong_street(leicester_matcher: PlaceMatcher, raw_db) -> None:
    rng = random.Random(11)
    names = rng.sample(_leicester_names(raw_db), 300)
    matched = 0
    for name in names:
        street = name.removeprefix("On or near ")
        i = rng.randrange(len(street))
        typo = street[:i] + street[i + 1 :]  # one letter dropped
        found = leicester_matcher.by_name(typo)
        if found.place is not None:
            assert normalise_place(found.place) == normalise_place(name), (typo, found.place)
            matched += 1
    assert matched >= 0.8 * len(names)


def test_unmatched_text_keeps_suggestions(leicester_matcher: PlaceMatcher) -> None:
    found = leicester_matcher.by_name("junction of Melton Road and Loughborough Road")
    assert found.place is None and "ambiguous" in (found.note or "")
    assert {"On or near Melton Road", "On or near Loughborough Road"} <= set(found.suggestions)
    assert leicester_matcher.by_name("Narborough").suggestions[0] == "On or near Narborough Road"
    assert leicester_matcher.by_name("the park").note == (
        "a place with no street name: give the street or coordinates"
    )


# --- import -------------------------------------------------------------------------------


def _busiest_point(raw_db, place: str) -> tuple[float, float, str]:
    """(lon, lat, LSOA) of a Leicester street's snap point with most crimes, from the raw files.

    Evington Road has two points with 31 crimes each: the western one is kept.
    """
    lon, lat = raw_db.execute(
        'SELECT CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE) FROM street '
        "WHERE district = 'Leicester' AND \"Location\" = ? GROUP BY 1, 2 "
        "ORDER BY count(*) DESC, 1, 2 LIMIT 1",
        [place],
    ).fetchone()  # ties: west, then south

    lsoa = raw_scalar(
        raw_db,
        "SELECT \"LSOA code\" FROM street WHERE district = 'Leicester' AND "
        '"Location" = ? AND CAST("Longitude" AS DOUBLE) = ? AND '
        'CAST("Latitude" AS DOUBLE) = ? GROUP BY 1 ORDER BY count(*) DESC, 1 '
        "LIMIT 1",
        [place, lon, lat],
    )
    return lon, lat, lsoa


def test_import_matches_every_row_as_meant(imported: Store, raw_db) -> None:
    rows = imported.frame(
        "SELECT source_line, place, longitude, latitude, lsoa_code, problem, "
        "match_method, suggestions FROM concerns ORDER BY source_line"
    )
    assert rows["source_line"].to_list() == sorted(MIXED_EXPECTED)
    for r in rows.iter_rows(named=True):
        place, problem = MIXED_EXPECTED[r["source_line"]]
        assert (r["place"], r["problem"]) == (place, problem), r
        if place and r["source_line"] not in (12, 13):
            assert r["match_method"] == "street name"
            assert (r["longitude"], r["latitude"], r["lsoa_code"]) == _busiest_point(raw_db, place)
    by_line = {r["source_line"]: r for r in rows.iter_rows(named=True)}
    assert by_line[12]["match_method"] == by_line[13]["match_method"] == "coordinates"
    assert {"On or near Melton Road", "On or near Loughborough Road"} <= set(
        by_line[17]["suggestions"]
    )


def test_coordinates_snap_to_the_nearest_point(imported: Store, raw_db) -> None:
    points = raw_db.execute(
        'SELECT DISTINCT "Location", CAST("Longitude" AS DOUBLE), CAST("Latitude" AS DOUBLE) '
        "FROM street WHERE district = 'Leicester' AND \"Longitude\" IS NOT NULL"
    ).fetchall()

    def metres(lon: float, lat: float, lon2: float, lat2: float) -> float:  # haversine
        p1, p2 = math.radians(lat), math.radians(lat2)
        a = (
            math.sin((p2 - p1) / 2) ** 2
            + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon) / 2) ** 2
        )
        return 2 * 6_371_000 * math.asin(math.sqrt(a))

    nearest = min(points, key=lambda p: metres(-1.13275, 52.61610, p[1], p[2]))
    assert nearest[0] == "On or near Euston Street"
    assert metres(-1.13275, 52.61610, nearest[1], nearest[2]) < 50
    stored = imported.row("SELECT longitude, latitude FROM concerns WHERE source_line = 13")
    assert stored == (nearest[1], nearest[2])


def test_reimport_adds_nothing_and_identical_rows_are_two_concerns(
    imported: Store, tmp_path: Path
) -> None:
    before = _table_digest(imported)
    again = import_concerns(imported, MIXED, "Leicester", today=TODAY)
    assert (again.added, again.already_stored) == (0, len(MIXED_EXPECTED))
    subset = tmp_path / "subset.csv"  # the same rows in another file, with another header case
    lines = MIXED.read_text(encoding="utf-8").splitlines()
    subset.write_text("\n".join([lines[0].lower(), lines[17], lines[18], lines[1]]) + "\n", "utf-8")
    assert import_concerns(imported, subset, "Leicester", today=TODAY).added == 0
    assert _table_digest(imported) == before
    assert imported.scalar("SELECT count(*) FROM concerns WHERE source_line IN (18, 19)") == 2


def test_bom_and_blank_rows_are_fine(writable_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + MIXED.read_bytes() + b",,,,,,\n\n")
    assert import_concerns(writable_store, path, "Leicester", today=TODAY).added == 20


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bad_date.csv",
            [
                "bad_date.csv: 2 problems; nothing was imported",
                "bad_date.csv, line 2, column 'date': '31/02/2021' is not a date; expected "
                "YYYY-MM-DD or DD/MM/YYYY",
                "bad_date.csv, line 3, column 'date': 2099-01-01 is in the future",
            ],
        ),
        (
            "unknown_problem.csv",
            [
                "unknown_problem.csv, line 3, column 'problem': 'aliens landing' "
                "matches no problem; expected one of street-drinking, begging"
            ],
        ),
        (
            "unknown_source.csv",
            [
                "unknown_source.csv, line 2, column 'source': 'carrier pigeon' is "
                "not a source; expected one of street-survey, online, partner, "
                "phone, meeting, other; nothing was imported"
            ],
        ),
        (
            "missing_column.csv",
            [
                "missing_column.csv, line 1: missing column 'source' (expected "
                "columns: date, where, latitude, longitude, problem, source, contact"
            ],
        ),
        ("extra_column.csv", ["extra_column.csv, line 1: unexpected column 'notes'"]),
        (
            "lat_out_of_range.csv",
            [
                "line 2, column 'latitude': 152.3 is outside the UK (expected 49 to 61)",
                "line 3, column 'longitude': empty, but latitude is given",
            ],
        ),
        (
            "not_utf8.csv",
            ["not_utf8.csv, line 3: not UTF-8 text (byte 0xe9); save the sheet as 'CSV UTF-8'"],
        ),
    ],
)
def test_bad_files_import_nothing(imported: Store, name: str, expected: list[str]) -> None:
    before = _table_digest(imported)
    with pytest.raises(InputError) as caught:
        import_concerns(imported, DATA / name, "Leicester", today=TODAY)
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert _table_digest(imported) == before


def test_many_bad_rows_are_listed_up_to_twenty(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    rows = [f"2021-04-{d:02d},Foxon Street,asb,pigeon," for d in range(1, 26)]
    path.write_text("date,where,problem,source,contact\n" + "\n".join(rows) + "\n", "utf-8")
    with pytest.raises(ConcernFileError) as caught:
        read_concerns_csv(path, TODAY)
    assert caught.value.total == 25 and len(caught.value.errors) == 20
    lines = str(caught.value).splitlines()
    assert lines[0] == f"{path}: 25 problems (first 20 shown); nothing was imported"
    assert [e.line for e in caught.value.errors] == list(range(2, 22))
    assert all(isinstance(e, CSVFormatError) and e.column == "source" for e in caught.value.errors)


def test_a_nul_character_in_a_cell_is_named_by_line_and_column(tmp_path: Path) -> None:
    """PostgreSQL cannot store NUL, so no backend takes it; the contact is never repeated."""
    path = tmp_path / "nul.csv"
    path.write_text(
        "date,where,problem,source,contact\n2021-04-02,Foxon\x00 Street,asb,phone,a\x00b@x.uk\n",
        "utf-8",
    )
    with pytest.raises(ConcernFileError) as caught:
        read_concerns_csv(path, TODAY)
    message = str(caught.value)
    assert "line 2, column 'where': contains a NUL character" in message
    assert "line 2, column 'contact': contains a NUL character" in message
    assert "a\x00b@x.uk" not in message


def test_unknown_area_and_missing_file(writable_store: Store) -> None:
    with pytest.raises(InputError, match="no such area"):
        import_concerns(writable_store, MIXED, "Nowhereshire")
    with pytest.raises(InputError, match="absent.csv: cannot read the file"):
        import_concerns(writable_store, DATA / "absent.csv", "Leicester")


# --- the read API and the team's edits ----------------------------------------------------


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [{k.lower(): v for k, v in r.items()} for r in csv.DictReader(fh)]


def test_concerns_in_counts_what_the_file_holds(imported: Store) -> None:
    import_concerns(imported, DEMO, "Leicester", today=TODAY)
    leicester = resolve(imported, "Leicester")
    frame = concerns_in(imported, leicester, dt.date(2021, 5, 15), dt.date(2021, 6, 1))
    assert dict(frame.schema) == {
        "concern_id": pl.Int64,
        "reported_on": pl.Date,
        "month": pl.Date,
        "place": pl.Utf8,
        "longitude": pl.Float64,
        "latitude": pl.Float64,
        "lsoa_code": pl.Utf8,
        "problem": pl.Utf8,
        "problem_label": pl.Utf8,
        "problem_group": pl.Utf8,
        "source": pl.Utf8,
        "status": pl.Utf8,
    }
    rows = _csv_rows(MIXED) + _csv_rows(DEMO)
    in_months = [r for r in rows if "2021-05" <= _iso(r["date"])[:7] <= "2021-06"]
    assert frame.height == len(in_months)  # whole months: 15 May .. 1 June means May and June
    assert not {"where_text", "problem_text", "contact"} & set(frame.columns)
    street_drinking = frame.filter(frame["problem"] == "street-drinking")
    assert street_drinking["problem_group"].unique().to_list() == ["asb"]
    speeding = frame.filter(frame["problem"] == "speeding")  # mixed line 9; demo: 3 in May
    assert speeding.height == 4 and speeding["problem_group"].null_count() == 4


def _iso(text: str) -> str:
    return text if "-" in text else "-".join(reversed(text.split("/")))


def test_a_ward_holds_the_concerns_in_its_lsoas(imported: Store, raw_db) -> None:
    westcotes = resolve(imported, "Westcotes")
    frame = concerns_in(imported, westcotes, dt.date(2021, 4, 1), dt.date(2021, 6, 30))
    ward_lsoas = {
        r[0]
        for r in raw_db.execute(
            "SELECT LSOA11CD FROM ward_lookup WHERE WD19NM = 'Westcotes'"
        ).fetchall()
    }
    expected = {
        line
        for line, (place, _) in MIXED_EXPECTED.items()
        if place and _busiest_point(raw_db, place)[2] in ward_lsoas
    }
    assert expected >= {2, 4, 6, 7}  # Narborough Rd, Foxon St, Western Blvd, Bede Park
    ids = imported.frame("SELECT concern_id, source_line FROM concerns")
    lines = dict(zip(ids["concern_id"], ids["source_line"], strict=True))
    assert {lines[i] for i in frame["concern_id"]} == expected


def test_fix_a_match_and_close(imported: Store) -> None:
    (cid,) = imported.row("SELECT concern_id FROM concerns WHERE source_line = 17")
    assert cid in [u["concern_id"] for u in concerns_mod.unmatched(imported, area="Leicester")]
    with pytest.raises(InputError, match="--place 'Melton': no street of Leicester scores 88"):
        concerns_mod.match(imported, cid, place="Melton")
    done = concerns_mod.match(imported, cid, place="Melton Rd")
    assert done["place"] == "On or near Melton Road"
    assert imported.row(
        "SELECT match_method, suggestions FROM concerns WHERE concern_id = ?", [cid]
    ) == ("by hand", None)
    assert cid not in [u["concern_id"] for u in concerns_mod.unmatched(imported)]
    by_point = concerns_mod.match(imported, cid, latitude=52.615943, longitude=-1.1326)
    assert by_point["place"] == "On or near Euston Street"
    with pytest.raises(InputError, match="--latitude 95.0 is outside the UK"):
        concerns_mod.match(imported, cid, latitude=95.0, longitude=-1.13)
    with pytest.raises(InputError, match="concern 99999: no such concern"):
        concerns_mod.close(imported, 99999)
    with pytest.raises(InputError, match="before the concern was reported"):
        concerns_mod.close(imported, cid, on="2021-01-01")
    assert concerns_mod.close(imported, cid, on="01/07/2021")["changed"] is True
    again = concerns_mod.close(imported, cid, on="2021-08-01")
    assert (again["changed"], again["closed_on"]) == (False, "2021-07-01")
    leicester = resolve(imported, "Leicester")
    closed = concerns_in(
        imported, leicester, dt.date(2021, 1, 1), dt.date(2021, 12, 1), status="closed"
    )
    assert closed["concern_id"].to_list() == [cid]
    with pytest.raises(InputError, match="--status 'shut'"):
        concerns_in(imported, leicester, dt.date(2021, 1, 1), dt.date(2021, 12, 1), status="shut")


def test_record_concern_once_per_submission(writable_store: Store) -> None:
    args = {
        "area": "Leicester",
        "reported_on": dt.date(2021, 5, 1),
        "problem": "begging",
        "source": "online",
        "where": "Granby St",
        "contact": "form-user@example.org",
    }
    first = record_concern(writable_store, submission_id="form-1", **args)  # type: ignore[arg-type]
    assert record_concern(writable_store, submission_id="form-1", **args) == first  # type: ignore[arg-type]
    assert record_concern(writable_store, **args) != first  # type: ignore[arg-type]
    assert writable_store.row(
        "SELECT place, source_file FROM concerns WHERE concern_id = ?", [first]
    ) == ("On or near Granby Street", None)
    assert writable_store.scalar("SELECT count(*) FROM concern_contacts") == 2
    with pytest.raises(InputError) as caught:
        record_concern(
            writable_store,
            area="Leicester",
            reported_on="2021-13-01",
            problem="x",
            source="fax",
            contact="x",
        )
    message = str(caught.value)
    assert message.startswith("date: '2021-13-01' is not a date")
    assert "source: 'fax' is not a source" in message and "where: empty" in message
