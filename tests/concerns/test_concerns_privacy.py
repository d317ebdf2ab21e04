"""Whoever reports a concern stays private: their contact is stored apart and shown nowhere.

A file with fake names, phone numbers and emails is imported into a copy of the real
store; then every ``concerns`` command (plain and ``--json``), the public read API,
the log, the error messages for bad rows and every file written are searched for the
contacts. Rich may wrap a long table cell, so each contact's distinctive pieces
("Zqxname", "900123") are searched for as well as the whole contact.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beatbook.areas import resolve
from beatbook.cli.main import app
from beatbook.concerns.csv_import import import_concerns, read_concerns_csv
from beatbook.concerns.records import concerns_in
from beatbook.errors import InputError
from beatbook.store import STORE_ENV, Store

DATA = Path(__file__).parents[1] / "data" / "concerns"
WITH_CONTACTS = DATA / "with_contacts.csv"
TODAY = dt.date(2025, 6, 30)


def _contacts(path: Path) -> list[str]:
    """The contact cells of a concerns CSV, read with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [r["contact"] for r in csv.DictReader(fh) if r.get("contact")]


CONTACTS = _contacts(WITH_CONTACTS)
PIECES = sorted(
    {
        p
        for c in CONTACTS
        for p in re.split(r"[^A-Za-z0-9]+", c)  # not '7700':
        if len(p) >= (6 if p.isdigit() else 4)  # it could be part of an LSOA code
        and p.lower() not in {"alice", "bobby", "example"}
    }
)


def assert_private(text: str, where: str) -> None:
    lowered = text.lower()
    for secret in [*CONTACTS, *PIECES]:
        assert secret.lower() not in lowered, f"{secret!r} appears in {where}"


def test_the_secrets_are_what_the_test_thinks() -> None:
    assert len(CONTACTS) == 6
    assert {"Zqxname", "900123", "Wqvpretend", "900456", "900789", "ykzz"} <= set(PIECES)


@pytest.fixture
def store_path(sample_store_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store" / "beatbook.duckdb"
    path.parent.mkdir()
    shutil.copyfile(sample_store_path, path)
    return path


def test_contacts_appear_in_no_output_log_or_file(
    store_path: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    store = ["--store", str(store_path)]

    def run(*args: str) -> str:
        result = runner.invoke(app, ["concerns", *args, *store], env={"COLUMNS": "120"})
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.output

    outputs = {"import": run("import", str(WITH_CONTACTS), "--area", "Leicester")}
    with Store(store_path, read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM concerns") == 7
        unmatched_id, matched_id = st.row(
            "SELECT min(concern_id) FILTER (place IS NULL), min(concern_id) FILTER (place IS NOT "
            "NULL) FROM concerns"
        )
    outputs["import --json"] = run("import", str(WITH_CONTACTS), "--area", "Leicester", "--json")
    for args in (
        ["list"],
        ["list", "--json"],
        ["list", "--free-text"],
        ["list", "--free-text", "--json"],
        ["list", "--area", "Westcotes", "--json"],
        ["unmatched"],
        ["unmatched", "--json"],
        ["match", str(unmatched_id), "--place", "Granby St"],
        ["match", str(matched_id), "--place", "Tudor Rd", "--json"],
        ["close", str(unmatched_id), "--on", "2021-05-01"],
        ["close", str(matched_id), "--json"],
    ):
        outputs[" ".join(args)] = run(*args)
    assert "Zqx" not in "".join(outputs.values())  # not even part of a name
    for name, text in outputs.items():
        assert_private(text, f"'concerns {name}' output")
    assert "07700" not in outputs["list --free-text"]  # where/problem text hold no numbers here

    with Store(store_path, read_only=True) as st:
        frame = concerns_in(st, resolve(st, "Leicester"), dt.date(2021, 1, 1), dt.date(2021, 12, 1))
        assert frame.height == 7
        assert_private(frame.write_csv() + str(frame.to_dicts()), "concerns_in()")
        _assert_contacts_only_in_their_table(st)

    assert_private("\n".join(r.getMessage() for r in caplog.records), "the log")
    assert any("concerns import" in r.getMessage() for r in caplog.records)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent != store_path.parent]
    for path in written:  # the store itself is where contacts are kept
        assert_private(path.read_bytes().decode("utf-8", "replace"), str(path))


def _assert_contacts_only_in_their_table(st: Store) -> None:
    pattern = "|".join(re.escape(c.lower()) for c in CONTACTS)
    tables = [t for (t,) in st.rows("SHOW TABLES")]
    holding = {
        t
        for t in tables
        if st.scalar(
            f'SELECT count(*) FROM "{t}" AS r WHERE regexp_matches(lower(r::VARCHAR), ?)', [pattern]
        )
    }
    assert holding == {"concern_contacts"}
    stored = {r[0] for r in st.rows("SELECT contact FROM concern_contacts")}
    assert stored == set(CONTACTS)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in DATA.glob("*.csv") if p.name not in ("mixed.csv", "with_contacts.csv")),
)
def test_errors_never_echo_a_contact(name: str) -> None:
    path = DATA / name
    try:
        contacts = _contacts(path)
    except UnicodeDecodeError:
        contacts = []
    with pytest.raises(InputError) as caught:
        read_concerns_csv(path, TODAY)
    message = str(caught.value)
    for contact in contacts:
        assert contact.lower() not in message.lower(), (name, message)
    if name == "contact_in_problem.csv":  # the resident typed their number into the problem
        assert "'call [contact] about it' matches no problem" in message


def test_cli_error_for_a_bad_file_names_the_row_not_the_contact(store_path: Path) -> None:
    script = Path(sys.executable).with_name("beatbook")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "beatbook.cli.main"]
    done = subprocess.run(
        [
            *command,
            "concerns",
            "import",
            str(DATA / "bad_date.csv"),
            "--area",
            "Leicester",
            "--store",
            str(store_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "", "NO_COLOR": "1"},
    )
    assert done.returncode == 2, done.stderr
    assert "bad_date.csv, line 3, column 'date': 2099-01-01 is in the future" in done.stderr
    for contact in _contacts(DATA / "bad_date.csv"):
        assert contact not in done.stderr + done.stdout
    with Store(store_path, read_only=True) as st:
        assert st.scalar("SELECT count(*) FROM concerns") == 0


def test_record_concern_errors_keep_the_contact_out(store_path: Path) -> None:
    from beatbook.concerns.csv_import import record_concern

    with Store(store_path) as st, pytest.raises(InputError) as caught:
        record_concern(
            st,
            area="Leicester",
            reported_on="2021-05-01",
            source="online",
            problem="ring Alice Zqxname back",
            contact="Alice Zqxname",
        )
    assert "Zqxname" not in str(caught.value) and "[contact]" in str(caught.value)
    with Store(store_path) as st:
        import_concerns(st, WITH_CONTACTS, "Leicester", today=TODAY)
        assert st.scalar("SELECT count(*) FROM concern_contacts") == len(CONTACTS)
