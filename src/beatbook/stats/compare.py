"""Category-by-category comparisons: an area against its surroundings, or this year against last.

DESIGN.md asks that comparisons (city vs county, any area vs its
surroundings) be made category by category, on rates, over the same months,
and that "rising in every category" be printed only when it is true. Testing
many categories at once inflates the chance of a false alarm, so every
function here applies Holm's step-down correction across the categories and
decides significance on the adjusted p-value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import polars as pl
from statsmodels.stats.multitest import multipletests

from beatbook.errors import InputError
from beatbook.stats._common import check_positive, check_probability, direction_of
from beatbook.stats.change import Change, compare_counts

__all__ = ["changes_by_category", "claim_every_category", "compare_areas_by_category"]

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
}


def _require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
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


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error rate control).

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p-values, one per category.
    alpha : float, default 0.05
        Family-wise significance level (the adjustment does not depend on it).

    Returns
    -------
    list of float
        Adjusted p-values, in the input order, from
        ``statsmodels.stats.multitest.multipletests(method="holm")``.

    Notes
    -----
    Holm, S. (1979). "A simple sequentially rejective multiple test
    procedure". *Scandinavian Journal of Statistics* 6(2), 65-70. Holm is
    valid under any dependence between the tests and is uniformly more
    powerful than Bonferroni.
    """
    if len(p_values) == 0:
        return []
    adjusted = multipletests(list(p_values), alpha=alpha, method="holm")[1]
    return [float(p) for p in adjusted]


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

    Returns
    -------
    polars.DataFrame
        The input columns plus ``rate_a``, ``rate_b`` (per 1,000 residents),
        ``rate_ratio`` (``rate_a / rate_b``), its exact interval ``ci_low``,
        ``ci_high`` (not adjusted for multiplicity), ``p_value`` (exact
        conditional binomial test, see :func:`beatbook.stats.change.compare_counts`),
        ``p_adjusted`` (Holm), ``significant`` (``p_adjusted < alpha``) and
        ``verdict``: ``"higher"``, ``"lower"`` or ``"no clear difference"``,
        decided on ``p_adjusted``. Rows keep the input order.

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
    _require_columns(frame, ["category", "count_a", "count_b"], "compare_areas_by_category")
    pop_a = check_positive(population_a, "population_a")
    pop_b = check_positive(population_b, "population_b")
    level = check_probability(alpha, "alpha")
    rows = frame.select("category", "count_a", "count_b").to_dicts()
    changes: list[Change] = []
    for r in rows:
        _check_present(r, ("count_a", "count_b"))
        changes.append(compare_counts(r["count_b"], r["count_a"], pop_b, pop_a, level))
    adjusted = holm([c.p_value for c in changes], level)
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
            }
        )
    return pl.DataFrame(out, schema=_AREA_SCHEMA)


def _check_present(row: dict[str, Any], columns: Sequence[str]) -> None:
    for column in columns:
        if row[column] is None:
            raise InputError(f"category {row['category']!r}: {column} is missing")


def changes_by_category(frame: pl.DataFrame, alpha: float = 0.05) -> pl.DataFrame:
    """Before/after change for each category, with Holm-adjusted significance.

    Parameters
    ----------
    frame : polars.DataFrame
        Columns ``category``, ``count_before``, ``count_after`` and,
        optionally, ``exposure_before``, ``exposure_after`` (default 1.0:
        periods of equal length in the same area).
    alpha : float, default 0.05
        Family-wise significance level across the categories.

    Returns
    -------
    polars.DataFrame
        One row per category (input order) with ``category``, every field of
        :class:`~beatbook.stats.change.Change` and ``p_adjusted`` (Holm).
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
    The test is :func:`~beatbook.stats.change.compare_counts`; the
    correction is Holm (1979), see :func:`holm`.
    """
    _require_columns(frame, ["category", "count_before", "count_after"], "changes_by_category")
    level = check_probability(alpha, "alpha")
    changes: list[tuple[str, Change]] = []
    for r in frame.to_dicts():
        r.setdefault("exposure_before", 1.0)  # absent column: equal periods, same area
        r.setdefault("exposure_after", 1.0)
        _check_present(r, ("count_before", "count_after", "exposure_before", "exposure_after"))
        change = compare_counts(
            r["count_before"], r["count_after"], r["exposure_before"], r["exposure_after"], level
        )
        changes.append((str(r["category"]), change))
    adjusted = holm([c.p_value for _, c in changes], level)
    out = []
    for (category, change), p_adj in zip(changes, adjusted, strict=True):
        significant = p_adj < level
        row = {"category": category, **dataclasses.asdict(change)}
        row.update(
            p_adjusted=p_adj,
            significant=significant,
            direction=direction_of(significant, change.rate_ratio),
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
