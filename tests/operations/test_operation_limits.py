"""Issue 17: an operation's name, description and measure labels fit the print (settings:
80, 500 and 40 characters) and its days lie from 2000 to a few years ahead, for the CLI, the
desk and CSV files alike; a refusal writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from ops_support import define_west

from beatbook.errors import CSVFormatError, InputError
from beatbook.operations import csv_import
from beatbook.operations import records as operations
from beatbook.store import Store

JULY = (dt.date(2021, 7, 1), dt.date(2021, 7, 31))


@pytest.fixture
def store(writable_store: Store) -> Store:
    define_west(writable_store)
    return writable_store


def stored(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM operations"))


@pytest.mark.parametrize(
    ("name", "description", "message"),
    [
        ("N" * 81, None, "operation name: 81 characters; at most 80"),
        ("N" * 100_000, None, "operation name: 100,000 characters; at most 80"),
        ("Operation Wren", "d" * 501, "description: 501 characters; at most 500"),
    ],
)
def test_a_name_or_description_over_the_limit_is_refused(
    store: Store, name: str, description: str | None, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        operations.add_operation(store, name, *JULY, ["West Leicester"], description)
    assert stored(store) == 0
    operations.add_operation(store, "N" * 80, *JULY, ["West Leicester"], "d" * 500)
    assert stored(store) == 1


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_day_off_the_calendar_is_refused(text: str) -> None:
    with pytest.raises(InputError, match=f"--to {text}: expected a day from 2000-01-01 to"):
        operations.parse_date(text, "--to")


def test_a_measure_label_over_the_limit_is_refused() -> None:
    assert operations.parse_measure("other:" + "m" * 40) == "other:" + "m" * 40
    with pytest.raises(InputError, match="measure: 41 characters; at most 40"):
        operations.parse_measure("other:" + "m" * 41)


def test_a_csv_row_over_a_limit_is_refused_with_its_line_and_column(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "operations.csv"
    path.write_text(
        "operation,from,to,areas,description\n"
        "Operation Wren,2021-07-01,2021-07-31,West Leicester,fine\n"
        f"Operation Kite,2021-07-01,2021-07-31,West Leicester,{'x' * 600}\n"
        "Operation Far,2021-07-01,9999-12-31,West Leicester,\n",
        encoding="utf-8",
    )
    with pytest.raises(CSVFormatError) as refused:
        csv_import.import_files(store, [path], by="PC 1")
    assert str(refused.value).startswith(
        f"{path}, line 3, column 'description': description: 600 characters; at most 500"
    )
    assert stored(store) == 0
    path.write_text(
        "operation,from,to,areas\nOperation Far,2021-07-01,9999-12-31,West Leicester\n",
        encoding="utf-8",
    )
    with pytest.raises(
        CSVFormatError, match="line 2, column 'to': date 9999-12-31: expected a day"
    ):
        csv_import.import_files(store, [path], by="PC 1")
    assert stored(store) == 0
