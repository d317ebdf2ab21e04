"""Checks and reshaping of the category frames the comparisons take (private)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from beatbook.errors import InputError


def require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(frame, pl.DataFrame):
        raise InputError(f"{what} needs a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"{what}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(columns)}, got {', '.join(frame.columns) or 'none'}"
        )
    if frame["category"].n_unique() != frame.height:
        raise InputError(f"{what}: each category must appear once")


def check_present(row: dict[str, Any], columns: Sequence[str]) -> None:
    for column in columns:
        if row[column] is None:
            raise InputError(f"category {row['category']!r}: {column} is missing")


def months_with_data(months: Sequence[dt.date] | None, name: str) -> list[dt.date]:
    if months is None:
        raise InputError(f"monthly counts need {name}: the months with data")
    out = list(months)
    if not all(isinstance(m, dt.date) for m in out):
        raise InputError(f"{name} must be dates")
    if len(set(out)) != len(out):
        raise InputError(f"{name} repeats a month")
    return out


def monthly_series(
    monthly: pl.DataFrame,
    categories: Sequence[str],
    periods: dict[str, tuple[str, list[dt.date]]],
    what: str,
) -> dict[str, dict[str, dict[dt.date, int]]]:
    """category -> period -> {month: count} over every month with data (0 where absent).

    ``periods`` maps a period's name to (its count column in ``monthly``, its months).
    """
    columns = ["category", "month", *sorted({c for c, _ in periods.values()})]
    if not isinstance(monthly, pl.DataFrame):
        raise InputError(f"{what}: monthly needs a polars DataFrame")
    missing = [c for c in columns if c not in monthly.columns]
    if missing:
        raise InputError(f"{what}: monthly lacks column(s) {', '.join(missing)}")
    out = {c: {p: dict.fromkeys(ms, 0) for p, (_, ms) in periods.items()} for c in categories}
    for row in monthly.select(columns).to_dicts():
        category, month = str(row["category"]), row["month"]
        if category not in out:
            raise InputError(f"{what}: monthly has category {category!r}, not in the frame")
        placed = False
        for period, (column, _) in periods.items():
            if month in out[category][period]:
                out[category][period][month] += int(row[column] or 0)
                placed = True
        if not placed:
            raise InputError(f"{what}: monthly has {month!r}, which is not a month with data")
    return out
