"""Fixtures for the police.uk CSV importer tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from beatbook.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "beatbook.duckdb"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    """A fresh, empty store in a temporary folder."""
    with Store(store_path) as st:
        yield st
