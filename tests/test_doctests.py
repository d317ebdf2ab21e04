"""The small examples in the pure modules' docstrings run and give what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import beatbook.hotspots
import beatbook.stats

PURE = sorted(
    {"beatbook.months", "beatbook.settings", "beatbook.reference.snap_points"}
    | {
        m.name
        for pkg in (beatbook.stats, beatbook.hotspots)
        for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + ".")
    }
)


@pytest.mark.parametrize("name", PURE)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
