"""Engagements: UK local times, CSV and police.uk imports, listing by area, iCalendar export.

Exports are parsed back with icalendar and compared with the fixture CSV read by the csv
module; the VTIMEZONE is checked by a second parser (dateutil's tzical); the UTC times of
the clock-change Sundays are worked by hand (tests/data/engagements/README.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shlex
import shutil
from pathlib import Path

import icalendar
import pytest
from dateutil import tz
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from beatbook import areas, engagements
from beatbook.cli.main import app
from beatbook.engagements import KINDS, parse_local_time
from beatbook.errors import InputError, PoliceUkApiError
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.months import day_bounds
from beatbook.store import STORE_ENV, Store
from support.fixtures_store import ROOT
from support.policeuk_server import Server

DATA = Path(__file__).parent / "data" / "engagements"
FIXTURE = DATA / "engagements.csv"
UTC = dt.UTC
WEST_WARDS = ["Westcotes (Leicester)", "Fosse (Leicester)", "Western (Leicester)"]


def snapshot(store: Store) -> tuple:
    return store.first(
        "SELECT count(*), coalesce(md5(string_agg(e::VARCHAR, chr(10) ORDER BY e::VARCHAR)), '') "
        "FROM engagements AS e"
    )


def fixture_rows() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def events(data: bytes) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(data).walk("VEVENT"))


@pytest.fixture(scope="module")
def store(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A writable store with West Leicester defined and the fixture CSV imported once."""
    path = tmp_path_factory.mktemp("engagements") / "eng.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st_:
        areas.add_area(st_, "West Leicester", lsoas=[], wards=WEST_WARDS, geojson=None)
        st_.first_import = engagements.import_csv(st_, FIXTURE)  # type: ignore[attr-defined]
        yield st_


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    s = Server()
    s.files["/api/leicestershire/NC99/events"] = DATA / "api-events.json"
    yield s
    s.stop()


# --- times -------------------------------------------------------------------------------------


@given(
    st.datetimes(  # the days a person may give: settings.FIRST_DAY to YEARS_AHEAD ahead
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime.combine(day_bounds()[1], dt.time(23, 59)),
    ).map(lambda t: t.replace(second=0, microsecond=0))
)
def test_every_existing_local_time_parses_to_itself(moment: dt.datetime) -> None:
    text = f"{moment:%Y-%m-%d %H:%M}"
    try:
        parsed = parse_local_time(text, "start")
    except InputError as exc:  # only inside the hour the clocks skip
        assert "does not exist in the UK" in str(exc)
        london = tz.gettz("Europe/London")
        assert not tz.datetime_exists(moment, tz=london)
        return
    assert parsed == moment
    assert parse_local_time(f"{moment:%Y-%m-%dT%H:%M}:00", "start") == moment


@pytest.mark.parametrize("text", ["2025-03-30 01:00", "2025-03-30 01:59", "2024-03-31 01:30"])
def test_the_skipped_hour_is_refused(text: str) -> None:
    with pytest.raises(InputError, match=f"start '{text}': that time does not exist in the UK"):
        parse_local_time(text, "start")


@pytest.mark.parametrize(
    "text",
    [
        "30/03/2025 10:00",
        "2025-03-30",
        "2025-02-30 10:00",
        "2025-03-30 24:00",
        "2025-3-30 10:00",
        "",
    ],
)
def test_malformed_times_are_refused(text: str) -> None:
    with pytest.raises(InputError, match=f"--when {text!r}: "):
        parse_local_time(text, "--when")


# --- CSV import ----------------------------------------------------------------------------------


def test_import_stores_every_row_and_reimport_changes_nothing(store: Store) -> None:
    rows = fixture_rows()
    assert store.first_import == {"added": len(rows), "updated": 0, "unchanged": 0}  # type: ignore[attr-defined]
    before = snapshot(store)
    assert engagements.import_csv(store, FIXTURE) == {
        "added": 0,
        "updated": 0,
        "unchanged": len(rows),
    }
    assert snapshot(store) == before
    stored = {(e.starts, e.place, e.kind) for e in engagements.list_engagements(store)}
    assert stored >= {
        (dt.datetime.strptime(r["start"], "%Y-%m-%d %H:%M"), r["place"], r["kind"]) for r in rows
    }


BAD = [
    ("bad-kind.csv", 3, "kind", "kind 'door knocking': expected one of street-survey"),
    (
        "bad-missing-hour.csv",
        2,
        "start",
        "that time does not exist in the UK (the clocks go "
        "forward from 01:00 to 02:00 on 2025-03-30)",
    ),
    ("bad-end-before-start.csv", 2, "end", "expected a time after the start (2025-03-08 10:00)"),
    (
        "bad-time.csv",
        2,
        "start",
        "start '08/03/2025 10:00': expected a local time as YYYY-MM-DD HH:MM",
    ),
    ("bad-contact.csv", 2, "notes", "looks like an email address or phone number"),
    ("bad-area.csv", 2, "area", "'Westcotess': no such area"),
    ("bad-empty-place.csv", 2, "place", "place is empty"),
    ("bad-missing-column.csv", 1, None, "missing column 'area'; expected start, end, kind"),
    ("bad-duplicate.csv", 3, None, "the same engagement as line 2"),
]


@pytest.mark.parametrize(("name", "line", "column", "problem"), BAD)
def test_a_bad_row_refuses_the_file(
    store: Store, name: str, line: int, column: str | None, problem: str
) -> None:
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        engagements.import_csv(store, DATA / name)
    message = str(info.value)
    assert message.startswith(
        f"{DATA / name}, line {line}" + (f", column '{column}'" if column else "") + ": "
    )
    assert problem in message and "\n" not in message
    assert snapshot(store) == before


def test_a_changed_row_updates_the_same_event_with_a_new_sequence(
    store: Store, tmp_path: Path
) -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace("Road safety talk", "Road safety assembly")
    changed = tmp_path / "changed.csv"
    changed.write_text(text, encoding="utf-8")
    assert engagements.import_csv(store, changed)["updated"] == 1
    [item] = [e for e in engagements.list_engagements(store) if e.place == "Fosse Primary School"]
    assert (item.title, item.sequence) == ("Road safety assembly", 1)
    assert item.uid == engagements.engagement_uid(
        dt.datetime(2025, 3, 12, 14, 30), "fosse primary school", "school-visit"
    )
    engagements.import_csv(store, FIXTURE)  # and back, for the other tests
    [item] = [e for e in engagements.list_engagements(store) if e.place == "Fosse Primary School"]
    assert (item.title, item.sequence) == ("Road safety talk", 2)


PLACE = st.text(st.sampled_from("abcdefghijklmnop ABCXYZ,'\"&-éß"), min_size=1, max_size=30).filter(
    lambda t: t.strip()
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 31))
            .filter(lambda t: t.hour != 1)
            .map(lambda t: t.replace(second=0, microsecond=0)),
            st.integers(1, 600),
            st.sampled_from(sorted(KINDS)),
            PLACE,
            st.sampled_from(["Westcotes (Leicester)", "E05010466"]),
            st.none() | PLACE,
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda r: (r[0], " ".join(r[3].lower().split()), r[2]),
    )
)
def test_any_rows_written_with_the_csv_module_import_as_written(
    store: Store, tmp_path_factory: pytest.TempPathFactory, rows: list[tuple]
) -> None:
    path = tmp_path_factory.mktemp("roundtrip") / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["start", "end", "kind", "place", "area", "title"])
        for start, minutes, kind, place, area, title in rows:
            end = start + dt.timedelta(minutes=minutes)  # wall clock; skip the missing hour
            end_text = "" if end.hour == 1 else f"{end:%Y-%m-%d %H:%M}"
            writer.writerow([f"{start:%Y-%m-%d %H:%M}", end_text, kind, place, area, title or ""])
    engagements.import_csv(store, path)
    for start, _, kind, place, area, title in rows:
        uid = engagements.engagement_uid(start, place, kind)
        item = engagements.get_engagement(store, uid)
        assert (item.starts, item.kind, item.place) == (start, kind, " ".join(place.split()))
        assert item.area_name == ("Westcotes" if area.startswith("Westcotes") else "Fosse")
        assert item.title == (" ".join(title.split()) if title else None)
    for start, _, kind, place, _, _ in rows:  # leave the store as the other tests expect
        store.execute(
            "DELETE FROM engagements WHERE uid = ?",
            [engagements.engagement_uid(start, place, kind)],
        )


# --- listing ---------------------------------------------------------------------------------


def test_list_by_area_and_dates(store: Store) -> None:
    rows = fixture_rows()

    def from_fixture(area: str | None) -> list[engagements.Engagement]:
        return [
            e
            for e in engagements.list_engagements(store, area)
            if e.source.startswith(f"{FIXTURE}, line ")
        ]

    in_west = [r for r in rows if r["area"] in ("West Leicester", *WEST_WARDS)]
    assert len(from_fixture("West Leicester")) == len(in_west)
    assert len(from_fixture("Leicester")) == len(rows)  # every ward of the fixture is in the city
    assert len(from_fixture("Castle (Leicester)")) == sum(
        r["area"] == "Castle (Leicester)" for r in rows
    )
    assert from_fixture("local authority:Charnwood") == []
    march_30 = engagements.list_engagements(store, None, dt.date(2025, 3, 30), dt.date(2025, 3, 30))
    assert [e.to_dict()["start"] for e in march_30] == [
        r["start"].replace(" ", "T") for r in rows if r["start"].startswith("2025-03-30")
    ]
    with pytest.raises(InputError, match="before --from"):
        engagements.list_engagements(store, None, dt.date(2025, 3, 30), dt.date(2025, 3, 1))


# --- iCalendar ---------------------------------------------------------------------------------


def test_ical_export_matches_the_csv(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "all.ics"
    assert engagements.write_ical(store, out) == len(fixture_rows())
    found = {
        (e.decoded("dtstart").replace(tzinfo=None), str(e["location"])): e
        for e in events(out.read_bytes())
    }
    assert len({str(e["uid"]) for e in found.values()}) == len(found)
    for row in fixture_rows():
        start = dt.datetime.strptime(row["start"], "%Y-%m-%d %H:%M")
        event = found[(start, row["place"])]
        assert event.decoded("dtstart").tzinfo.key == "Europe/London"
        end = (
            start + dt.timedelta(hours=1)
            if not row["end"]
            else dt.datetime.strptime(
                row["end"] if len(row["end"]) > 5 else f"{row['start'][:10]} {row['end']}",
                "%Y-%m-%d %H:%M",
            )
        )
        assert event.decoded("dtend").replace(tzinfo=None) == end
        assert [str(c) for c in event["categories"].cats] == [row["kind"]]
        assert str(event["summary"]) == (row["title"] or f"{KINDS[row['kind']]}: {row['place']}")
        assert row["notes"] in str(event["description"])
        assert str(event["uid"]).endswith("@beatbook")
        assert event.decoded("dtstamp").tzinfo is not None and "sequence" in event
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    assert [str(z["tzid"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/London"]


HAND_WORKED_UTC = {  # local start -> (UTC start, UTC end): see tests/data/engagements/README.md
    "2025-03-30 10:00": ("2025-03-30 09:00", "2025-03-30 11:00"),
    "2025-03-30 00:30": ("2025-03-30 00:30", "2025-03-30 02:00"),
    "2025-10-25 10:00": ("2025-10-25 09:00", "2025-10-25 10:00"),
    "2025-10-26 00:30": ("2025-10-25 23:30", "2025-10-26 02:30"),
    "2025-10-26 10:00": ("2025-10-26 10:00", "2025-10-26 11:00"),
}


def test_clock_change_sundays_export_the_right_instants(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "dst.ics"
    engagements.write_ical(store, out)
    data = out.read_bytes()
    text = data.decode()
    vtimezone = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE") + 13]
    london = tz.tzical(io.StringIO(vtimezone)).get()  # the file's own zone, read by dateutil
    by_start = {f"{e.decoded('dtstart'):%Y-%m-%d %H:%M}": e for e in events(data)}
    for local, (start_utc, end_utc) in HAND_WORKED_UTC.items():
        event = by_start[local]
        for key, expected in (("dtstart", start_utc), ("dtend", end_utc)):
            moment = event.decoded(key)
            assert f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}" == expected  # icalendar's reading
            wall = moment.replace(tzinfo=london)
            assert f"{wall.astimezone(UTC):%Y-%m-%d %H:%M}" == expected  # the VTIMEZONE's


def test_reexport_is_identical_and_keeps_uids(store: Store, tmp_path: Path) -> None:
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    engagements.write_ical(store, first, "West Leicester")
    engagements.import_csv(store, FIXTURE)
    engagements.write_ical(store, second, "West Leicester")
    assert first.read_bytes() == second.read_bytes()
    assert "X-WR-CALNAME:BeatBook engagements: West Leicester" in first.read_text()


# --- police.uk events ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ({"title": "Drop In Beat Surgery", "type": "meeting"}, "surgery"),
        ({"title": "PACT meeting", "type": "meeting"}, "community-meeting"),
        ({"title": "Westcotes Street Meet", "type": "other"}, "street-survey"),
        ({"title": "Visit to Fosse Primary School", "type": None}, "school-visit"),
        ({"title": "Online chat with your team", "type": "other"}, "online"),
        ({"title": "Community payback", "type": "other"}, "community-meeting"),
        ({"title": "Crime prevention stall", "type": "other"}, "other"),
    ],
)
def test_police_uk_event_kinds(event: dict, kind: str) -> None:
    assert engagements.kind_from_api(event) == kind


def test_import_api_reads_the_captured_events(store: Store, server: Server) -> None:
    raw = json.loads(
        (Path(__file__).parent / "data" / "policeuk_api" / "NC04-events.json").read_text()
    )
    with PoliceUkApi(server.url) as api:
        counts = engagements.import_api(store, api, "leicestershire", "NC04", "Castle (Leicester)")
    assert counts == {"added": len(raw), "updated": 0, "unchanged": 0}
    [item] = [
        e
        for e in engagements.list_engagements(store)
        if e.source == "police.uk leicestershire/NC04"
    ]
    assert (item.title, item.place, item.kind, item.area_name) == (
        raw[0]["title"],
        raw[0]["address"],
        "surgery",
        "Castle",
    )
    assert (item.starts, item.ends) == (
        dt.datetime.fromisoformat(raw[0]["start_date"]),
        dt.datetime.fromisoformat(raw[0]["end_date"]),
    )


def test_import_api_keeps_no_contact_details(store: Store, server: Server) -> None:
    with PoliceUkApi(server.url) as api:
        engagements.import_api(store, api, "leicestershire", "NC99")
    stored = [e for e in engagements.list_engagements(store) if e.source.endswith("NC99")]
    assert [(e.kind, e.notes, e.area) for e in stored] == [
        ("street-survey", "Come and meet your local officers & PCSOs.", None),
        ("community-meeting", None, None),
    ]
    assert stored[1].ends - stored[1].starts == dt.timedelta(minutes=60)  # no end given
    dump = str(store.first("SELECT list(e::VARCHAR) FROM engagements e"))
    assert "example.police.uk" not in dump and "222 2222" not in dump


def test_import_api_when_the_server_is_down_changes_nothing(store: Store) -> None:
    down = Server()
    down.stop()
    before = snapshot(store)
    waits: list[float] = []
    with (
        PoliceUkApi(down.url, sleep=waits.append, retries=2) as api,
        pytest.raises(
            PoliceUkApiError, match=r"leicestershire/NC04/events: no answer after 3 tries"
        ),
    ):
        engagements.import_api(store, api, "leicestershire", "NC04")
    assert len(waits) == 2 and snapshot(store) == before


# --- the command line ------------------------------------------------------------------------------


def test_cli_examples_and_json(
    sample_store_path: Path, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st_:
        areas.add_area(st_, "West Leicester", lsoas=[], wards=WEST_WARDS, geojson=None)
    monkeypatch.chdir(ROOT)  # the import example names data/sample/operations/
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def run(*args: str) -> str:
        result = CliRunner().invoke(
            app, ["--store", str(path), *args], env={"COLUMNS": "200", STORE_ENV: None}
        )
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    for command in ("add", "import", "import-api", "list", "ical"):
        line = next(
            x
            for x in run("engagements", command, "--help").splitlines()
            if x.strip().startswith("Example:")
        )
        words = shlex.split(line.split("Example:", 1)[1])
        assert words[:3] == ["beatbook", "engagements", command]
        extra = ["--api-url", server.url] if command == "import-api" else []
        if command == "ical":
            words = [w.replace("engagements.ics", str(out_dir / "engagements.ics")) for w in words]
        run(*words[1:], *extra)
    listed = json.loads(run("engagements", "list", "--json", "--area", "West Leicester"))
    assert set(listed[0]) == {
        "uid",
        "start",
        "end",
        "kind",
        "place",
        "area",
        "area_reference",
        "title",
        "notes",
        "source",
        "sequence",
    }
    with (ROOT / "data/sample/operations/engagements.csv").open(encoding="utf-8") as fh:
        sample = list(csv.DictReader(fh))
    added = 1  # the add example: a street survey in Westcotes
    assert len(listed) == len(sample) - 1 + added  # every sample row but Castle's patrol
    in_city = json.loads(run("engagements", "list", "--json", "--area", "Leicester"))
    assert len(in_city) == len(sample) + added + 1  # and the police.uk event, put in Castle
    ics = events((out_dir / "engagements.ics").read_bytes())  # the example: --area Leicester
    assert sorted(str(e["uid"]) for e in ics) == sorted(e["uid"] for e in in_city)
    counts = json.loads(
        run("engagements", "import", "data/sample/operations/engagements.csv", "--json")
    )
    assert counts == {"added": 0, "updated": 0, "unchanged": len(sample)}


def test_cli_refuses_until_with_minutes(sample_store_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "cli.duckdb"
    shutil.copyfile(sample_store_path, path)
    result = CliRunner().invoke(
        app,
        [
            "--store",
            str(path),
            "engagements",
            "add",
            "--when",
            "2025-03-08 10:00",
            "--until",
            "11:00",
            "--minutes",
            "30",
            "--place",
            "Narborough Road",
            "--kind",
            "street-survey",
            "--area",
            "Westcotes (Leicester)",
        ],
        env={STORE_ENV: None},
    )
    assert isinstance(result.exception, InputError)
    assert str(result.exception) == "give --until or --minutes, not both"
