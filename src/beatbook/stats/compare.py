"""Category-by-category comparisons: an area against its surroundings, or this year against last.

DESIGN.md asks that comparisons (city vs county, any area vs its
surroundings) be made category by category, on rates, over the same months,
and that "rising in every category" be printed only when it is true. Testing
many categories at once inflates the chance of a false alarm, so every
function here applies Holm's step-down correction across the categories and
decides significance on the adjusted p-value (:mod:`beatbook.stats.multiplicity`),
and states the policy in a ``correction`` column ("Holm over 13 crime types").

Given the monthly counts, the comparisons allow for over-dispersion
(:func:`beatbook.stats.overdispersed.compare_monthly_counts`). Share changes are in
:func:`beatbook.stats.shares.share_changes_by_category`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from beatbook.errors import InputError
from beatbook.stats._common import check_positive, check_probability, direction_of
from beatbook.stats._frames import check_present, monthly_series, months_with_data, require_columns
from beatbook.stats.change import Change, compare_counts
from beatbook.stats.multiplicity import holm, holm_correction
from beatbook.stats.overdispersed import compare_monthly_counts

__all__ = [
    "changes_by_category",
    "claim_every_category",
    "compare_areas_by_category",
    "holm",
    "holm_correction",
]

_AREA_SCHEMA: dict[str, type[pl.DataType]] = {
    "category": pl.String,
    "count_a": pl.Int64,
    "count_b": pl.Int64,
    "rate_a": pl.Float64,
    "rate_b": pl.Float64,
    "rate_ratio": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
    "significant": pl.Boolean,
    "verdict": pl.String,
    "test": pl.String,
    "dispersion": pl.Float64,
    "correction": pl.String,
}

_CHANGE_SCHEMA: dict[str, type[pl.DataType]] = {
    "category": pl.String,
    "count_before": pl.Int64,
    "count_after": pl.Int64,
    "exposure_before": pl.Float64,
    "exposure_after": pl.Float64,
    "rate_ratio": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "pct_change": pl.Float64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
    "test": pl.String,
    "alpha": pl.Float64,
    "significant": pl.Boolean,
    "direction": pl.String,
    "dispersion": pl.Float64,
    "correction": pl.String,
}


def _verdict(significant: bool, ratio: float) -> str:
    if significant and ratio > 1:
        return "higher"
    if significant and ratio < 1:
        return "lower"
    return "no clear difference"


def compare_areas_by_category(
    frame: pl.DataFrame,
    population_a: float,
    population_b: float,
    alpha: float = 0.05,
    *,
    monthly: pl.DataFrame | None = None,
    months: Sequence[dt.date] | None = None,
    family: str = "categories",
) -> pl.DataFrame:
    """Compare area A with area B (e.g. a city and the rest of its county), category by category.

    Parameters
    ----------
    frame : polars.DataFrame
        Columns ``category``, ``count_a``, ``count_b``: counts for the *same
        months* in both areas, one row per category.
    population_a, population_b : float
        Residents of each area (same population year for both).
    alpha : float, default 0.05
        Family-wise significance level across the categories.
    monthly : polars.DataFrame, optional
        Columns ``category``, ``month`` (date), ``count_a``, ``count_b``: the counts of
        each month (absent rows count 0); with ``months``, the tests allow for
        over-dispersion (:func:`~beatbook.stats.overdispersed.compare_monthly_counts`,
        the two areas paired month by month).
    months : sequence of datetime.date, optional
        The months with data (the same for both areas).
    family : str, default "categories"
        What the categories are, for the ``correction`` text ("crime types").

    Returns
    -------
    polars.DataFrame
        The input columns plus ``rate_a``, ``rate_b`` (per 1,000 residents),
        ``rate_ratio`` (``rate_a / rate_b``), its exact interval ``ci_low``,
        ``ci_high`` (not adjusted for multiplicity), ``p_value`` (exact
        conditional binomial test, see :func:`beatbook.stats.change.compare_counts`),
        ``p_adjusted`` (Holm), ``significant`` (``p_adjusted < alpha``),
        ``verdict``: ``"higher"``, ``"lower"`` or ``"no clear difference"``,
        decided on ``p_adjusted``, and ``test``, ``dispersion`` (the test used) and
        ``correction`` (the multiplicity policy). Rows keep the input order.

    Raises
    ------
    InputError
        On missing columns, repeated categories, negative or missing counts,
        non-positive populations or ``alpha`` outside (0, 1).

    Notes
    -----
    Each category is :func:`~beatbook.stats.change.compare_counts` with area B
    as "before" and area A as "after", and the populations as exposures, so
    the rate ratio is ``rate_a / rate_b``. The Holm correction (see
    :func:`holm`) keeps the chance of *any* false "higher"/"lower" across
    all categories at most ``alpha``.
    """
    require_columns(frame, ["category", "count_a", "count_b"], "compare_areas_by_category")
    pop_a = check_positive(population_a, "population_a")
    pop_b = check_positive(population_b, "population_b")
    level = check_probability(alpha, "alpha")
    rows = frame.select("category", "count_a", "count_b").to_dicts()
    series = None
    if monthly is not None:
        when = months_with_data(months, "months")
        series = monthly_series(
            monthly,
            [str(r["category"]) for r in rows],
            {"a": ("count_a", when), "b": ("count_b", when)},
            "compare_areas_by_category",
        )
    changes: list[Change] = []
    for r in rows:
        check_present(r, ("count_a", "count_b"))
        if series is None:
            changes.append(compare_counts(r["count_b"], r["count_a"], pop_b, pop_a, level))
            continue
        by_month = series[str(r["category"])]
        change = compare_monthly_counts(
            by_month["b"], by_month["a"], exposure_before=pop_b, exposure_after=pop_a, alpha=level
        )
        _check_totals(r, change, ("count_b", "count_a"))
        changes.append(change)
    adjusted = holm([c.p_value for c in changes], level)
    correction = holm_correction(len(changes), family)
    out = []
    for row, change, p_adj in zip(rows, changes, adjusted, strict=True):
        significant = p_adj < level
        out.append(
            {
                "category": str(row["category"]),
                "count_a": change.count_after,
                "count_b": change.count_before,
                "rate_a": change.count_after / pop_a * 1000.0,
                "rate_b": change.count_before / pop_b * 1000.0,
                "rate_ratio": change.rate_ratio,
                "ci_low": change.ci_low,
                "ci_high": change.ci_high,
                "p_value": change.p_value,
                "p_adjusted": p_adj,
                "significant": significant,
                "verdict": _verdict(significant, change.rate_ratio),
                "test": change.test,
                "dispersion": change.dispersion,
                "correction": correction,
            }
        )
    return pl.DataFrame(out, schema=_AREA_SCHEMA)


def _check_totals(row: dict[str, Any], change: Change, columns: tuple[str, str]) -> None:
    """The monthly counts must add up to the frame's totals."""
    got = (change.count_before, change.count_after)
    want = (int(row[columns[0]]), int(row[columns[1]]))
    if got != want:
        raise InputError(
            f"category {row['category']!r}: the monthly counts add up to {got[0]:,} and "
            f"{got[1]:,}, but {columns[0]} and {columns[1]} are {want[0]:,} and {want[1]:,}"
        )


def changes_by_category(
    frame: pl.DataFrame,
    alpha: float = 0.05,
    *,
    monthly: pl.DataFrame | None = None,
    months_before: Sequence[dt.date] | None = None,
    months_after: Sequence[dt.date] | None = None,
    family: str = "categories",
) -> pl.DataFrame:
    """Before/after change for each category, with Holm-adjusted significance.

    Parameters
    ----------
    frame : polars.DataFrame
        Columns ``category``, ``count_before``, ``count_after`` and,
        optionally, ``exposure_before``, ``exposure_after`` (default 1.0:
        periods of equal length in the same area).
    alpha : float, default 0.05
        Family-wise significance level across the categories.
    monthly : polars.DataFrame, optional
        Columns ``category``, ``month`` (date), ``count``: each category's count in each
        month (absent rows count 0). With ``months_before`` and ``months_after`` (the
        months with data of each period, disjoint), the tests allow for over-dispersion
        (:func:`~beatbook.stats.overdispersed.compare_monthly_counts`; the exposures are
        then each period's total, spread over its months).
    months_before, months_after : sequence of datetime.date, optional
        The months with data in each period.
    family : str, default "categories"
        What the categories are, for the ``correction`` text ("crime types").

    Returns
    -------
    polars.DataFrame
        One row per category (input order) with ``category``, every field of
        :class:`~beatbook.stats.change.Change` (``test`` and ``dispersion`` say which
        test was used), ``p_adjusted`` (Holm) and ``correction`` (the policy, e.g.
        "Holm over 14 categories").
        ``significant`` is ``p_adjusted < alpha`` and ``direction`` is
        ``"rise"``/``"fall"`` only when that adjusted test is significant;
        ``p_value``, ``ci_low`` and ``ci_high`` are the per-category
        (unadjusted) values.

    Raises
    ------
    InputError
        On missing columns, repeated categories, negative or missing counts,
        non-positive exposures or ``alpha`` outside (0, 1).

    Notes
    -----
    The test is :func:`~beatbook.stats.change.compare_counts`, or with monthly counts
    :func:`~beatbook.stats.overdispersed.compare_monthly_counts`; the correction is Holm
    (1979), see :func:`holm`.
    """
    require_columns(frame, ["category", "count_before", "count_after"], "changes_by_category")
    level = check_probability(alpha, "alpha")
    records = frame.to_dicts()
    series = None
    if monthly is not None:
        before, after = (
            months_with_data(months_before, "months_before"),
            months_with_data(months_after, "months_after"),
        )
        if set(before) & set(after):
            raise InputError("months_before and months_after overlap: a month is in both periods")
        series = monthly_series(
            monthly,
            [str(r["category"]) for r in records],
            {"before": ("count", before), "after": ("count", after)},
            "changes_by_category",
        )
    changes: list[tuple[str, Change]] = []
    for r in records:
        r.setdefault("exposure_before", 1.0)  # absent column: equal periods, same area
        r.setdefault("exposure_after", 1.0)
        check_present(r, ("count_before", "count_after", "exposure_before", "exposure_after"))
        if series is None:
            change = compare_counts(
                r["count_before"],
                r["count_after"],
                r["exposure_before"],
                r["exposure_after"],
                level,
            )
        else:
            by_month = series[str(r["category"])]
            change = compare_monthly_counts(
                by_month["before"],
                by_month["after"],
                exposure_before=r["exposure_before"],
                exposure_after=r["exposure_after"],
                alpha=level,
            )
            _check_totals(r, change, ("count_before", "count_after"))
        changes.append((str(r["category"]), change))
    adjusted = holm([c.p_value for _, c in changes], level)
    correction = holm_correction(len(changes), family)
    out = []
    for (category, change), p_adj in zip(changes, adjusted, strict=True):
        significant = p_adj < level
        row = {"category": category, **dataclasses.asdict(change)}
        row.update(
            p_adjusted=p_adj,
            significant=significant,
            direction=direction_of(significant, change.rate_ratio),
            correction=correction,
        )
        out.append(row)
    return pl.DataFrame(out, schema=_CHANGE_SCHEMA)


def claim_every_category(changes: pl.DataFrame, direction: str) -> bool:
    """Whether "rising (or falling) in every category" may be printed.

    Parameters
    ----------
    changes : polars.DataFrame
        Output of :func:`changes_by_category` (needs a ``direction`` column).
    direction : {"rise", "fall"}
        The claim to check.

    Returns
    -------
    bool
        ``True`` only if there is at least one category and *every*
        category's (Holm-adjusted) direction equals ``direction``.

    Raises
    ------
    InputError
        If ``direction`` is not ``"rise"`` or ``"fall"``, or the frame has no
        ``direction`` column.
    """
    if direction not in ("rise", "fall"):
        raise InputError(f"direction must be 'rise' or 'fall', got {direction!r}")
    if not isinstance(changes, pl.DataFrame) or "direction" not in changes.columns:
        raise InputError("claim_every_category needs the frame from changes_by_category")
    if changes.height == 0:
        return False
    return bool((changes["direction"] == direction).all())
