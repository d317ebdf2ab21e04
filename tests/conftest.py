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
* ``--records-backend embedded|postgres`` (``tests/support/records_backend.py``): where the
  stores the web and priorities suites build keep their team records (default: embedded, in
  the store file; postgres: each in a fresh PostgreSQL database). ``records_backend`` is the
  name; a test that can only run on one says so with ``embedded_only``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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
from support.records_backend import BACKEND, BACKENDS, EMBEDDED_ONLY, OPTION
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
    BACKEND.name = config.getoption(OPTION)
    config.addinivalue_line(
        "markers", "embedded_only: needs the team's records in the store file (skipped on postgres)"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output instead of comparing",
    )
    parser.addoption(
        OPTION,
        choices=BACKENDS,
        default="embedded",
        help="where the stores of the web and priorities suites keep the team's records: "
        "embedded in the store file (default) or each in a fresh PostgreSQL database",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On ``--records-backend postgres``: a test marked ``embedded_only`` is skipped with its
    reason, and the embedded half of a test that runs on both backends by itself
    (``team_store``, ``team_records``) is left out: the embedded pass runs it."""
    if not BACKEND.postgres:
        return
    kept, twice = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = {params.params.get(f) for f in ("team_store", "team_records")} if params else set()
        (twice if "embedded" in chosen else kept).append(item)
        marker = item.get_closest_marker("embedded_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else EMBEDDED_ONLY
            item.add_marker(pytest.mark.skip(reason=f"embedded only: {reason}"))
    if twice:
        config.hook.pytest_deselected(items=twice)
        items[:] = kept


@pytest.fixture(scope="session")
def records_backend() -> str:
    """``embedded`` or ``postgres`` (``--records-backend``)."""
    return BACKEND.name


@pytest.fixture(scope="session", autouse=True)
def _records_server(request: pytest.FixtureRequest) -> Iterator[None]:
    """On ``--records-backend postgres``: this process's PostgreSQL server and the empty
    database at the newest revision that every store's database is cloned from."""
    if not BACKEND.postgres:
        yield
        return
    BACKEND.start(request.getfixturevalue("postgres_url"))
    try:
        yield
    finally:
        BACKEND.stop()


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether this run regenerates golden files (``pytest --update-golden``)."""
    return bool(request.config.getoption("--update-golden"))
