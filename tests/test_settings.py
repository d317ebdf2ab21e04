"""settings.py: the one home of the defaults and bounds, importable before anything else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from beatbook import settings
from beatbook.errors import InputError
from beatbook.settings import Bound

SETTINGS = Path(settings.__file__)


def test_settings_imports_nothing_from_beatbook_but_the_errors() -> None:
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in imported if m and m.startswith("beatbook")} == {"beatbook.errors"}


def test_a_bound_passes_its_ends_and_names_the_option_and_range_outside() -> None:
    weeks = Bound(1, 26)
    assert weeks.check(1, "--weeks") == 1 and weeks.check(26, "--weeks") == 26
    with pytest.raises(InputError, match=r"^--weeks 27: expected 1 to 26$"):
        weeks.check(27, "--weeks")
    with pytest.raises(
        InputError, match=r"^--cell-size 40: expected 50 to 500 metres \(default 150\)$"
    ):
        settings.CELL_SIZE_RANGE.check(40, "--cell-size", f"default {settings.CELL_SIZE}")


@pytest.mark.parametrize(
    ("default", "bound"),
    [
        ("CELL_SIZE", "CELL_SIZE_RANGE"),
        ("PERMUTATIONS", "PERMUTATIONS_RANGE"),
        ("PER_WARD", "PER_WARD_RANGE"),
        ("BEFORE_MONTHS", "BEFORE_MONTHS_RANGE"),
        ("SUMMARY_MONTHS", "SUMMARY_MONTHS_RANGE"),
        ("UPCOMING_WEEKS", "WEEKS_RANGE"),
    ],
)
def test_every_default_is_inside_its_bound(default: str, bound: str) -> None:
    value = getattr(settings, default)
    assert getattr(settings, bound).check(value, default) == value
