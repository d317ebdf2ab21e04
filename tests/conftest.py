"""Project-wide pytest configuration.

* ``--update-golden`` regenerates the golden report files under ``tests/golden/``
  instead of comparing against them.
* The real-store fixtures (``sample_store``, ``sample_store_path``, ``writable_store``,
  ``raw_db``) live in ``tests/support/fixtures_store.py`` and ``tests/support/two_forces.py`` (two
  forces in one store, with months missing for one) and are re-exported here.
* ``postgres_url`` (``tests/support/postgres.py``): a throwaway PostgreSQL server for the test
  session, started as its own user, and the URL of its database ``beatbook``.
* ``team_store`` (``tests/support/fixtures_store.py``): a writable copy of the real store, once
  with its team records embedded and once with them in a fresh PostgreSQL database;
  ``team_records``: empty records at the newest revision, on each backend.
"""

from __future__ import annotations

import os

import pytest

from support.fixtures_store import (
    raw_db,
    sample_store,
    sample_store_path,
    team_records,
    team_store,
    writable_store,
)
from support.postgres import postgres_url
from support.two_forces import two_force_raw, two_force_store, two_force_store_path

__all__ = [
    "postgres_url",
    "raw_db",
    "sample_store",
    "sample_store_path",
    "team_records",
    "team_store",
    "two_force_raw",
    "two_force_store",
    "two_force_store_path",
    "writable_store",
]


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist's workers start with COLUMNS=80 and LINES=24 set: the CLI's Rich console
    would fix its width when first imported (at collection, after this), and the CLI tests
    set the width they print at themselves."""
    for size in ("COLUMNS", "LINES"):
        os.environ.pop(size, None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run regenerates golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))
