"""The page cache (``web/cache.py``): a value is kept for its time and key only, the least
recently used goes first past the limit, and a build that fails is not kept."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from beatbook.web.cache import PageCache


def counting() -> tuple[list[str], Callable[[str], Callable[[], str]]]:
    built: list[str] = []

    def build(key: str) -> Callable[[], str]:
        def make() -> str:
            built.append(key)
            return f"figures of {key}"

        return make

    return built, build


def test_a_value_is_built_once_per_key_while_it_is_fresh() -> None:
    cache = PageCache(seconds=60, entries=8)
    built, build = counting()
    assert cache.get(("stats", 0, "A"), build("A")) == "figures of A"
    assert cache.get(("stats", 0, "A"), build("A")) == "figures of A"
    assert cache.get(("stats", 1, "A"), build("A")) == "figures of A"  # a new store version
    assert cache.get(("stats", 0, "B"), build("B")) == "figures of B"
    assert built == ["A", "A", "B"]


def test_a_value_older_than_its_time_is_built_again() -> None:
    cache = PageCache(seconds=0.05, entries=8)
    built, build = counting()
    cache.get("A", build("A"))
    time.sleep(0.1)
    cache.get("A", build("A"))
    assert built == ["A", "A"]


def test_past_the_limit_the_least_recently_used_goes_first() -> None:
    cache = PageCache(seconds=60, entries=2)
    built, build = counting()
    cache.get("A", build("A"))
    cache.get("B", build("B"))
    cache.get("A", build("A"))  # A used last: B is the oldest now
    cache.get("C", build("C"))
    cache.get("A", build("A"))
    cache.get("B", build("B"))
    assert built == ["A", "B", "C", "B"]


def test_a_build_that_fails_is_not_kept() -> None:
    cache = PageCache(seconds=60, entries=2)

    def fails() -> str:
        raise ValueError("no such area")

    with pytest.raises(ValueError):
        cache.get("A", fails)
    assert cache.get("A", lambda: "built") == "built"
