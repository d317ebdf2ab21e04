"""A small real area for the priorities tests: three Leicester wards, with the demo concerns.

Proposing for all of Leicester with the default forecast takes ~40 s; three wards with
``mean-3`` take a few seconds, so every test that proposes uses :func:`wards_store_path`.

The stores are built with their team records embedded; ``wards_store`` and
``wards_store_copy`` then have them where ``--records-backend`` keeps them
(``support.records_backend``: open a copy with ``open_store``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from priorities_support import (
    AREA,
    CONCERNS_CSV,
    DEMO_AREA,
    DEMO_MONTHS,
    DEMO_WARD_CODES,
    WARD_CODES,
)

from beatbook.areas import add_area
from beatbook.concerns.csv_import import import_concerns
from beatbook.ingest.policeuk_csv import ingest
from beatbook.store import Store
from support.fixtures_store import POLICE, STORE_MONTHS
from support.records_backend import attached, open_store


@pytest.fixture(scope="session")
def wards_store_path(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed copy of the session store with the area ``Three wards`` and the demo concerns."""
    path = tmp_path_factory.mktemp("priorities") / "wards.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st:
        add_area(st, AREA, lsoas=[], wards=list(WARD_CODES), geojson=None)
        import_concerns(st, CONCERNS_CSV, f"custom:{AREA}")
    return path


@pytest.fixture(scope="session")
def wards_store(wards_store_path: Path) -> Iterator[Store]:
    """The three-wards store, open read-only."""
    with attached(wards_store_path), open_store(wards_store_path, read_only=True) as st:
        yield st


@pytest.fixture
def wards_store_copy(wards_store_path: Path, tmp_path: Path) -> Iterator[Path]:
    """A private, writable copy of the three-wards store (closed: open it with ``open_store``
    or pass --store and ``cli_env``)."""
    copy = tmp_path / "wards.duckdb"
    shutil.copyfile(wards_store_path, copy)
    with attached(copy):
        yield copy


@pytest.fixture(scope="session")
def demo_like_store_path(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store built like ``make demo``'s (its crime months, the area ``West
    Leicester`` of three wards, the demo concerns), with no priorities yet."""
    path = tmp_path_factory.mktemp("demo-like") / "demo.duckdb"
    shutil.copyfile(sample_store_path, path)
    extra = [m for m in DEMO_MONTHS if m not in STORE_MONTHS]
    with Store(path) as st:
        ingest(st, [POLICE / f"{m}-leicestershire-street.csv.gz" for m in extra])
        add_area(st, DEMO_AREA, lsoas=[], wards=list(DEMO_WARD_CODES), geojson=None)
        import_concerns(st, CONCERNS_CSV, f"custom:{DEMO_AREA}")
    return path
