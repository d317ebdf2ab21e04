"""Issue 17: random months and dates fed to every command that takes one, in-process with
Typer's runner on a private copy of the real store (police.uk data 2020-01 .. 2021-12 and
2025-01 .. 2025-03, so a month may be 2020-01 .. 2025-09). Every run ends in success or a
:class:`~beatbook.errors.BeatBookError` (which ``beatbook`` prints as one line, exit code 2),
never another exception (a traceback); afterwards the public pages over the store answer 200.

A decision into 9999-12 already in the store (written by hand, as before the fix) does not
make ``beatbook update`` print a traceback: checked with a real process.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_cli import _env, beatbook
from typer.testing import CliRunner

from beatbook.areas import add_area
from beatbook.cli.main import app
from beatbook.concerns.csv_import import record_concern
from beatbook.errors import BeatBookError
from beatbook.priorities import lifecycle
from beatbook.store import Store
from beatbook.web import create_app

WARD = "Westcotes (Leicester)"
BY = "Insp. Property"
EDGE_MONTHS = (
    "0001-01",
    "9999-12",
    "2019-12",
    "2020-01",
    "2021-07",
    "2025-09",
    "2025-10",
    "2021-13",
    "2021-7",
    "10000-01",
    "",
    "9999-12-31",
    "2021-07\x00",
)
EDGE_DAYS = ("0001-01-01", "9999-12-31", "9999-12-25", "1999-12-31", "2021-02-29", "", "2021-7-1")
text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)
MONTHS = st.one_of(
    st.sampled_from(EDGE_MONTHS),
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1, 9999), st.integers(1, 12)),
    text,
)
DAYS = st.one_of(
    st.sampled_from(EDGE_DAYS),
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9-]{10}", fullmatch=True),
    text,
)
CHECK = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RUNS: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()


def candidate(place: str, problem: str, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "ward": "Westcotes",
        "place": place,
        "place_key": f"Westcotes|{place}",
        "problem": problem,
        "score": 1.0,
        "origin": "data",
        "parts": {"volume": 1.0, "change": 0.0, "forecast": 0.0, "concerns": 0.0},
        "reason": "test",
        "snap_points": [{"location": f"On or near {place}", "longitude": -1.15, "latitude": 52.63}],
    }


@pytest.fixture(scope="module")
def store(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the real store with the team area West, a proposed and an adopted priority
    for July 2021 and an open concern."""
    path = tmp_path_factory.mktemp("cli-months") / "store.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st_:
        add_area(st_, "West", lsoas=[], wards=["Westcotes", "Fosse", "Western"], geojson=None)
        proposal = {
            "area": {"name": "West", "reference": "custom:West"},
            "for_month": "2021-07",
            "wards": [
                {
                    "ward": "Westcotes",
                    "priorities": [
                        candidate("Narborough Road", "drugs", 1),
                        candidate("Hinckley Road", "asb", 2),
                        candidate("Upperton Road", "speeding", 3),
                    ],
                }
            ],
        }
        proposed, adopted, unassessable = lifecycle.save_proposals(st_, proposal)
        lifecycle.adopt(st_, adopted, BY)
        lifecycle.adopt(st_, unassessable, BY)
        concern = record_concern(
            st_,
            area="custom:West",
            reported_on="2021-07-02",
            problem="drugs",
            source="online",
            where="Narborough Road",
        )
    return {
        "path": path,
        "proposed": proposed,
        "adopted": adopted,
        "unassessable": unassessable,
        "concern": concern,
        "out": path.parent,
    }


def run(store: dict[str, Any], args: list[str]) -> None:
    """One command, in-process: it succeeds, or refuses with a BeatBookError (one line and
    exit code 2 from ``beatbook``); anything else would be a traceback."""
    result = CliRunner().invoke(app, ["--store", str(store["path"]), *args])
    RUNS[args[0] + (f" {args[1]}" if not args[1].startswith("-") else "")] += 1
    if result.exception is None or isinstance(result.exception, SystemExit):
        assert result.exit_code in (0, 2), (args, result.output)
        OUTCOMES["done" if result.exit_code == 0 else "usage error"] += 1
        return
    assert isinstance(result.exception, BeatBookError), (args, repr(result.exception))
    OUTCOMES["refused"] += 1
    assert "\n" not in str(result.exception).strip() or "problems" in str(result.exception)


Command = Callable[[dict[str, Any], str], list[str]]
MONTH_COMMANDS: dict[str, Command] = {
    "stats --to": lambda s, v: ["stats", "--area", "custom:West", "--from", "2021-01", "--to", v],
    "stats --from": lambda s, v: ["stats", "--area", "custom:West", "--from", v, "--to", "2021-12"],
    "compare --from": lambda s, v: [
        "compare",
        "--area",
        WARD,
        "--against",
        "Fosse (Leicester)",
        "--from",
        v,
        "--to",
        "2021-12",
    ],
    "places --to": lambda s, v: ["places", "--area", WARD, "--from", "2021-06", "--to", v],
    "hotspots --month": lambda s, v: [
        "hotspots",
        "--area",
        WARD,
        "--month",
        v,
        "--permutations",
        "19",
    ],
    "forecast --cutoff": lambda s, v: [
        "forecast",
        "--area",
        WARD,
        "--cutoff",
        v,
        "--method",
        "mean-3",
    ],
    "priorities propose --month": lambda s, v: [
        "priorities",
        "propose",
        "--area",
        WARD,
        "--month",
        v,
        "--per-ward",
        "1",
        "--forecast-method",
        "mean-3",
    ],
    "priorities assess --month": lambda s, v: [
        "priorities",
        "assess",
        str(s["adopted"]),
        "--month",
        v,
    ],
    "jag --month": lambda s, v: [
        "jag",
        "--area",
        WARD,
        "--month",
        v,
        "--out",
        str(s["out"] / "jag"),
        "--per-ward",
        "1",
        "--forecast-method",
        "mean-3",
    ],
    "concerns list --from": lambda s, v: ["concerns", "list", "--from", v],
    "update --month": lambda s, v: [
        "update",
        "--area",
        "custom:West",
        "--month",
        v,
        "--out",
        str(s["out"] / "u"),
    ],
}
DECISIONS: dict[str, Command] = {
    "priorities adopt --month": lambda s, v: [
        "priorities",
        "adopt",
        str(s["proposed"]),
        "--by",
        BY,
        "--month",
        v,
    ],
    "priorities continue --month": lambda s, v: [
        "priorities",
        "continue",
        str(s["adopted"]),
        "--by",
        BY,
        "--month",
        v,
    ],
    "priorities close --month": lambda s, v: [
        "priorities",
        "close",
        str(s["unassessable"]),
        "--by",
        BY,
        "--month",
        v,
    ],
}
DAY_COMMANDS: dict[str, Command] = {
    "engagements add --when": lambda s, v: [
        "engagements",
        "add",
        "--when",
        f"{v} 10:00",
        "--place",
        "Property Hall",
        "--kind",
        "surgery",
        "--area",
        WARD,
    ],
    "engagements list --from": lambda s, v: ["engagements", "list", "--from", v],
    "engagements ical --to": lambda s, v: [
        "engagements",
        "ical",
        "--from",
        "2021-01-01",
        "--to",
        v,
        "--out",
        str(s["out"] / "e.ics"),
    ],
    "ops add --to": lambda s, v: [
        "ops",
        "add",
        "Operation Property",
        "--from",
        "2021-07-01",
        "--to",
        v,
        "--area",
        "custom:West",
    ],
    "concerns close --on": lambda s, v: ["concerns", "close", str(s["concern"]), "--on", v],
}


@CHECK
@example("2021-07")  # a month of the data: the commands run through
@example("9999-12")
@example("0001-01")
@given(MONTHS)
def test_commands_taking_a_month_refuse_in_one_line(store: dict[str, Any], value: str) -> None:
    for name in sorted(MONTH_COMMANDS):
        run(store, MONTH_COMMANDS[name](store, value))


@CHECK
@example("2021-07")  # a month of the data: the commands run through
@example("9999-12")
@example("0001-01")
@given(MONTHS)
def test_decisions_refuse_in_one_line(store: dict[str, Any], value: str) -> None:
    for name in sorted(DECISIONS):
        run(store, DECISIONS[name](store, value))


@CHECK
@example("2021-07-14")
@example("9999-12-31")
@example("0001-01-01")
@given(DAYS)
def test_commands_taking_a_day_refuse_in_one_line(store: dict[str, Any], value: str) -> None:
    for name in sorted(DAY_COMMANDS):
        run(store, DAY_COMMANDS[name](store, value))


def test_afterwards_the_public_pages_over_the_store_answer(store: dict[str, Any]) -> None:
    """Whatever the commands above stored breaks no page (file order: this runs after)."""
    web = create_app(store["path"], secret="cli-months-secret-0123456789abcdef")
    try:
        client = TestClient(web, raise_server_exceptions=False)
        for url in ("/", "/priorities", "/updates", "/events", "/stats/custom%3AWest"):
            assert client.get(url).status_code == 200, url
        for url in ("/api/areas", "/api/priorities", "/api/events?from=2021-07-01"):
            assert client.get(url).status_code == 200, url
    finally:
        web.state.db.close()
    assert sum(RUNS.values()) >= 250 and OUTCOMES["done"] >= 15
    print(f"\ncommand runs: {sum(RUNS.values())} over {len(RUNS)} commands: {dict(OUTCOMES)}")


def test_update_prints_no_traceback_over_a_bad_stored_month(
    store: dict[str, Any], tmp_path: Path
) -> None:
    """A decision into 9999-12 written before the fix (here by hand): ``beatbook update``
    writes the update from the rest, logs the row in one line, and shows no traceback."""
    path = tmp_path / "bad.duckdb"
    shutil.copyfile(store["path"], path)
    with Store(path) as st_, st_.transaction() as con:
        con.execute(
            "INSERT INTO priority_events SELECT ?, max(seq) + 1, 'continued', 'before the fix', "
            "now(), DATE '9999-12-01', '{}' FROM priority_events WHERE priority_id = ?",
            [store["adopted"], store["adopted"]],
        )
    done = subprocess.run(
        [*beatbook(), "--store", str(path), "update", "--area", "custom:West", "--month", "2021-08"]
        + ["--out", str(tmp_path / "update")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "9999-12 is outside the calendar; left out" in done.stderr
    assert (tmp_path / "update" / "update.pdf").exists()
