"""``beatbook priorities``: the whole life of a priority through the command line.

Commands run through the real entry point (:func:`beatbook.cli.main.main`, the function the
``beatbook`` script calls) in this process, on a real store file, because starting a
process costs seconds; one test starts real processes to show that a bad argument gives
one line on stderr, exit code 2 and no traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from priorities_support import AREA

from beatbook.cli.main import main
from beatbook.priorities import lifecycle
from beatbook.priorities.propose import propose
from beatbook.records import schema
from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV, Store
from support.records_backend import attached, cli_env, open_store, team_sql_of

PROPOSE = [
    "priorities",
    "propose",
    "--area",
    AREA,
    "--month",
    "2021-06",
    "--per-ward",
    "2",
    "--forecast-method",
    "mean-3",
]
ASSESS_FIELDS = {
    "priority_id",
    "place",
    "ward",
    "problem",
    "selection_months",
    "before_months",
    "during_months",
    "comparison",
    "treated_before",
    "treated_during",
    "comparison_before",
    "comparison_during",
    "months_before",
    "months_during",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "expected_during",
    "difference_per_month",
    "corrected",
    "treated_selection",
    "comparison_selection",
    "months_selection",
    "selection_ratio",
    "selection_ci_low",
    "selection_ci_high",
    "selection_p_value",
    "test",
    "dispersion",
    "residual_df",
    "verdict",
    "wording",
}


class Cli:
    """Runs ``beatbook ARGS --store STORE`` through main() and returns (code, stdout, stderr);
    the store's team records where ``--records-backend`` keeps them (``BEATBOOK_DATABASE``)."""

    def __init__(self, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.store, self.capsys = store, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        argv, environ = sys.argv, dict(os.environ)
        sys.argv = ["beatbook", *args, "--store", str(self.store)]
        os.environ.pop(DATABASE_ENV, None)
        os.environ.update(cli_env(self.store))
        try:
            with pytest.raises(SystemExit) as done:
                main()
        finally:
            sys.argv = argv
            os.environ.clear()
            os.environ.update(environ)
        out, err = self.capsys.readouterr()
        return int(done.value.code or 0), out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(
    wards_store_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return Cli(wards_store_copy, capsys)


@pytest.fixture(scope="module")
def saved(
    wards_store: Store, wards_store_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int]:
    """A closed store holding the proposals of PROPOSE, saved; and the first one's id."""
    path = tmp_path_factory.mktemp("cli") / "saved.duckdb"
    shutil.copyfile(wards_store_path, path)
    result = propose(wards_store, AREA, "2021-06", per_ward=2, method="mean-3")
    with Store(path) as st:
        ids = lifecycle.save_proposals(st, result)
    return path, ids[0]


@pytest.fixture
def saved_copy(saved: tuple[Path, int], tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A private copy of ``saved`` (its records where ``--records-backend`` keeps them)."""
    path, first = saved
    store = tmp_path / "saved.duckdb"
    shutil.copyfile(path, store)
    with attached(store):
        yield store, first


def table_rows(store: Path) -> dict[str, list[tuple]]:
    """The rows of priorities and priority_events but their times, by the tests' own SQL."""
    found = {}
    with team_sql_of(store) as sql:
        for table, time in (
            (schema.priorities, "created_at"),
            (schema.priority_events, "decided_at"),
        ):
            columns = ", ".join(c.name for c in table.columns if c.name != time)
            rows = sql.execute(f"SELECT {columns} FROM {table.name}").fetchall()
            found[table.name] = sorted(rows, key=repr)
    return found


def test_propose_save_and_decide(cli: Cli) -> None:
    result = cli.json(*PROPOSE, "--save")
    flat = [c for w in result["wards"] for c in w["priorities"]]
    assert result["forecast_method"] == "mean-3" and result["for_month"] == "2021-07"
    assert {w["ward"] for w in result["wards"]} == {"Westcotes", "Fosse", "Saffron"}
    assert all(len(w["priorities"]) <= 2 for w in result["wards"]) and len(flat) == 6
    ids = [c["priority_id"] for c in flat]
    assert len(set(ids)) == 6
    with team_sql_of(cli.store) as sql:
        stored = {
            r[0]: r[1:]
            for r in sql.execute(
                "SELECT priority_id, place_key, problem, proposed_for FROM priorities"
            ).fetchall()
        }
    july = dt.date(2021, 7, 1)
    assert stored == {c["priority_id"]: (c["place_key"], c["problem"], july) for c in flat}

    listed = cli.json("priorities", "list")
    assert sorted(r["priority_id"] for r in listed) == sorted(ids)
    assert {r["status"] for r in listed} == {"proposed"}

    a, b = ids[0], ids[1]
    code, out, _ = cli(
        "priorities",
        "adopt",
        str(a),
        "--by",
        "Insp. Patel",
        "--label",
        "The parade",
        "--note",
        "agreed at the JAG",
    )
    assert code == 0 and out.strip() == f"priority {a} adopted by Insp. Patel"
    code, out, _ = cli(
        "priorities", "reject", str(b), "--by", "Insp. Patel", "--reason", "partnership plan"
    )
    assert code == 0 and out.strip() == f"priority {b} rejected by Insp. Patel"
    code, out, _ = cli("priorities", "continue", str(a), "--by", "Sgt. Hale", "--month", "2021-08")
    assert code == 0 and out.strip() == f"priority {a} continued into 2021-08"

    so_far = cli.json("priorities", "assess", str(a), "--month", "2021-08")
    assert set(so_far) == ASSESS_FIELDS
    assert so_far["during_months"] == ["2021-07", "2021-08"] and so_far["place"] == "The parade"
    closed = cli.json(
        "priorities", "close", str(a), "--by", "Insp. Patel", "--month", "2021-09", "--note", "done"
    )
    assert set(closed) == ASSESS_FIELDS
    assert closed["during_months"] == ["2021-07", "2021-08", "2021-09"]

    rows = {r["priority_id"]: r for r in cli.json("priorities", "list")}
    assert rows[a]["status"] == "closed" and rows[a]["label"] == "The parade"
    assert [(e["action"], e["actor"], e["month"]) for e in rows[a]["events"]] == [
        ("proposed", "beatbook", "2021-07-01"),
        ("adopted", "Insp. Patel", "2021-07-01"),
        ("continued", "Sgt. Hale", "2021-08-01"),
        ("closed", "Insp. Patel", "2021-09-01"),
    ]
    assert rows[a]["events"][1]["details"] == {"label": "The parade", "note": "agreed at the JAG"}
    assert rows[a]["events"][-1]["details"]["assessment"]["ratio"] == closed["ratio"]
    assert rows[b]["events"][-1]["details"] == {"reason": "partnership plan"}
    assert [r["priority_id"] for r in cli.json("priorities", "list", "--status", "closed")] == [a]
    assert [r["priority_id"] for r in cli.json("priorities", "list", "--status", "rejected")] == [b]
    assert len(cli.json("priorities", "list", "--area", AREA, "--status", "proposed")) == 4
    code, out, _ = cli("priorities", "list")
    assert code == 0 and "6 priorities" in out and "The parade" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["priorities", "adopt", "999", "--by", "Insp. Patel"],
            "priority 999: no such priority (see 'beatbook priorities list')",
        ),
        (
            ["priorities", "reject", "999", "--by", "Insp. Patel", "--reason", "x"],
            "priority 999: no such priority (see 'beatbook priorities list')",
        ),
        (
            ["priorities", "continue", "{a}", "--by", "Insp. Patel", "--month", "2021-13"],
            "--month '2021-13': expected a month as YYYY-MM, e.g. 2021-07",
        ),
        (
            ["priorities", "adopt", "{a}", "--by", " "],
            "--by: say who decided (a name or role, up to 80 characters)",
        ),
        (
            ["priorities", "close", "{a}", "--by", "Insp. Patel", "--month", "2021-09"],
            "priority {a} is proposed: it cannot be closed (only a priority that is adopted or continued can)",
        ),
        (
            ["priorities", "continue", "{a}", "--by", "Insp. Patel", "--month", "2021-08"],
            "priority {a} is proposed: it cannot be continued (only a priority that is adopted or continued can)",
        ),
        ([*PROPOSE, "--weight-volume", "-1"], "--weight-volume -1.0: expected a number >= 0"),
        (
            [*PROPOSE, "--asb-harm-days", "-5"],
            "--weight-asb-harm-days -5.0: expected a number >= 0",
        ),
        (
            [*PROPOSE[:-1], "glm"],
            "--forecast-method 'glm': expected one of sepp, mean-3, mean-6, mean-12, last-month "
            "(methods whose forecasts are expected crimes)",
        ),
        (
            ["priorities", "list", "--status", "open"],
            "--status 'open': expected one of proposed, adopted, rejected, continued, closed",
        ),
        (
            ["priorities", "assess", "{a}", "--month", "2021-09"],
            "priority {a} was never adopted: there is nothing to assess",
        ),
        # the library's rules, the same on the web desk
        (
            ["priorities", "reject", "{a}", "--by", "Insp. Patel", "--reason", "  "],
            "priority {a}: say why it is rejected (the reason is recorded)",
        ),
        (
            ["priorities", "reject", "{a}", "--by", "Insp. Patel", "--reason", ""],
            "priority {a}: say why it is rejected (the reason is recorded)",
        ),
        ([*PROPOSE, "--per-ward", "0"], "--per-ward 0: expected 1 to 10"),
        ([*PROPOSE, "--per-ward", "11", "--save"], "--per-ward 11: expected 1 to 10"),
        (
            ["jag", "--area", AREA, "--month", "2021-06", "--out", "{tmp}/jag", "--per-ward", "11"],
            "--per-ward 11: expected 1 to 10",
        ),
    ],
)
def test_bad_arguments_give_one_line_and_change_nothing(
    saved_copy: tuple[Path, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    store, first = saved_copy
    monkeypatch.delenv(STORE_ENV, raising=False)
    cli = Cli(store, capsys)
    before = table_rows(store)
    code, out, err = cli(*[a.format(a=first, tmp=tmp_path) for a in args])
    assert code == 2
    assert err == f"error: {message.format(a=first)}\n"
    assert table_rows(cli.store) == before
    assert not list(tmp_path.glob("jag*"))


def test_adopt_defaults_to_the_proposed_month_and_a_reason_is_recorded_stripped(
    saved_copy: tuple[Path, int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = saved_copy
    monkeypatch.delenv(STORE_ENV, raising=False)
    cli = Cli(store, capsys)
    a, b, c = sorted(r["priority_id"] for r in cli.json("priorities", "list"))[:3]
    assert cli("priorities", "adopt", str(a), "--by", "Insp. Patel")[0] == 0
    assert cli("priorities", "adopt", str(b), "--by", "Insp. Patel", "--month", "2021-09")[0] == 0
    code, _, err = cli(
        "priorities", "reject", str(c), "--by", "Insp. Patel", "--reason", "  a plan exists "
    )
    assert code == 0, err
    rows = {r["priority_id"]: r["events"][-1] for r in cli.json("priorities", "list")}
    assert (rows[a]["action"], rows[a]["month"]) == ("adopted", "2021-07-01")  # proposed for July
    assert (rows[b]["action"], rows[b]["month"]) == ("adopted", "2021-09-01")
    assert (rows[c]["action"], rows[c]["details"]) == ("rejected", {"reason": "a plan exists"})


def test_a_real_process_prints_one_line_and_exits_2(wards_store_copy: Path) -> None:
    script = Path(sys.executable).with_name("beatbook")
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]
    env = {k: v for k, v in os.environ.items() if k not in (STORE_ENV, DATABASE_ENV)} | {
        "NO_COLOR": "1",
        "COLUMNS": "200",
        **cli_env(wards_store_copy),
    }
    before = table_rows(wards_store_copy)
    proc = subprocess.run(
        [
            *exe,
            "priorities",
            "continue",
            "999",
            "--by",
            "Insp. Patel",
            "--month",
            "2021-08",
            "--store",
            str(wards_store_copy),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "error: priority 999: no such priority (see 'beatbook priorities list')\n"
    assert proc.stdout == ""
    assert table_rows(wards_store_copy) == before


def test_add_the_teams_priority_by_street_and_by_map_point(cli: Cli) -> None:
    """``priorities add``: a street (any case, abbreviated) or a point; then adopted."""
    added = cli.json(
        "priorities",
        "add",
        "--area",
        AREA,
        "--street",
        "westcotes dr",
        "--problem",
        "street-life",
        "--words",
        "ASB and street life around the hostel",
        "--reason",
        "Raised at the residents' meeting",
        "--month",
        "2021-07",
        "--by",
        "Insp. Patel",
    )
    assert (added["label"], added["ward"], added["problem"], added["origin"]) == (
        "Westcotes Drive",
        "Westcotes",
        "asb",
        "team",
    )
    assert added["problem_words"] == "ASB and street life around the hostel"
    assert added["events"][0]["details"]["team_reason"] == added["reason"]
    point = added["snap_points"][0]
    code, out, err = cli(
        "priorities",
        "add",
        "--area",
        AREA,
        "--lat",
        str(point["latitude"] + 0.0002),  # about 22 m north of a Westcotes Drive point
        "--lon",
        str(point["longitude"]),
        "--problem",
        "drug-dens",
        "--origin",
        "residents",
        "--month",
        "2021-07",
        "--by",
        "Insp. Patel",
    )
    assert code == 0, err
    second = added["priority_id"] + 1
    assert (
        out.split()
        == (
            f"priority {second} added for 2021-07: Westcotes Drive (Westcotes): drug dens and "
            "cuckooing, raised by residents"
        ).split()
    )
    with open_store(cli.store, read_only=True) as st:
        p = lifecycle.priority(st, second)
    assert (p["problem"], p["place_key"]) == ("drugs", added["place_key"])
    code, out, err = cli("priorities", "adopt", str(second), "--by", "Insp. Patel")
    assert code == 0 and out.strip() == f"priority {second} adopted by Insp. Patel"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--street", "Nowhere Lane"], "street 'Nowhere Lane': no police.uk street of"),
        (["--lat", "52.7", "--lon", "-1.0"], "map point 52.70000, -1.00000: no police.uk street"),
        (["--street", "Tudor Road", "--problem", ""], "problem: expected one of street-drinking"),
        (["--street", "Tudor Road", "--reason", "x" * 501], "reason: 501 characters; at most 500"),
    ],
)
def test_add_refuses_bad_input_in_one_line(cli: Cli, args: list[str], message: str) -> None:
    before = table_rows(cli.store)
    base = ["--problem", "drugs", *args] if "--problem" not in args else args
    code, out, err = cli("priorities", "add", "--area", AREA, "--by", "x", *base)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert table_rows(cli.store) == before


def test_the_proposal_print_numbers_by_rank_within_the_ward_with_the_id_apart(cli: Cli) -> None:
    code, out, err = cli(*PROPOSE, "--save")
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines() if line.strip().startswith("#")]
    with open_store(cli.store, read_only=True) as st:
        stored = {p["priority_id"]: p for p in lifecycle.list_priorities(st)}
    assert len(lines) == len(stored) == 6
    for line in lines:
        head = line.split(":")[0]  # "#2 in Fosse · id 18"
        rank, ward, pid = head[1:].split(" in ")[0], head.split(" in ")[1].split(" · ")[0], head
        p = stored[int(pid.rsplit("id ", 1)[1])]
        assert p["ward"] == ward and p["events"][0]["details"]["rank"] == int(rank)
        assert f" = volume {p['parts']['volume']:.2f} + " in line
        assert line.count("proactive") == 1
