"""Category-by-category comparisons with Holm correction, and the "every category" claim."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats

from beatbook.errors import InputError
from beatbook.stats import (
    changes_by_category,
    claim_every_category,
    compare_areas_by_category,
    compare_counts,
    compare_monthly_counts,
    holm,
)
from support.fixtures_store import holm as _holm_by_hand

CITY, COUNTY = 355_000.0, 712_000.0  # residents, same population year


def test_holm_matches_hand_computation() -> None:
    p = [0.01, 0.04, 0.03, 0.5, 0.002]
    assert holm(p) == pytest.approx(_holm_by_hand(p))
    assert holm([]) == []


def test_area_comparison_values() -> None:
    frame = pl.DataFrame(
        {
            "category": ["Burglary", "Drugs", "Shoplifting"],
            "count_a": [1800, 120, 950],
            "count_b": [2100, 260, 1850],
        }
    )
    out = compare_areas_by_category(frame, CITY, COUNTY)
    assert out["category"].to_list() == ["Burglary", "Drugs", "Shoplifting"]
    burglary = out.row(0, named=True)
    assert burglary["rate_a"] == pytest.approx(1800 / CITY * 1000)
    assert burglary["rate_b"] == pytest.approx(2100 / COUNTY * 1000)
    assert burglary["rate_ratio"] == pytest.approx(burglary["rate_a"] / burglary["rate_b"])
    # City is "after" and county "before": count_a | total ~ Bin(total, CITY / (CITY + COUNTY)).
    expected_p = stats.binomtest(1800, 3900, CITY / (CITY + COUNTY)).pvalue
    assert burglary["p_value"] == pytest.approx(expected_p, rel=1e-9)
    assert burglary["verdict"] == "higher" and burglary["significant"]
    assert out["p_adjusted"].to_list() == pytest.approx(_holm_by_hand(out["p_value"].to_list()))
    same = compare_counts(2100, 1800, COUNTY, CITY)
    assert burglary["ci_low"] == pytest.approx(same.ci_low)
    assert burglary["ci_high"] == pytest.approx(same.ci_high)


def test_area_verdicts_lower_and_no_clear_difference() -> None:
    frame = pl.DataFrame(
        {"category": ["Vehicle", "Arson"], "count_a": [100, 9], "count_b": [400, 17]}
    )
    out = compare_areas_by_category(frame, 100_000, 200_000)
    assert out["verdict"].to_list() == ["lower", "no clear difference"]


def test_holm_can_overturn_a_raw_significant_result() -> None:
    # Three categories each with p ~ 0.03: each "significant" alone, none after Holm.
    frame = pl.DataFrame({"category": ["a", "b", "c"], "count_a": [134] * 3, "count_b": [100] * 3})
    out = compare_areas_by_category(frame, 50_000, 50_000)
    assert (out["p_value"] < 0.05).all()
    assert (out["p_adjusted"] > 0.05).all()
    assert not out["significant"].any()
    assert out["verdict"].to_list() == ["no clear difference"] * 3


def test_area_comparison_rejects_bad_input() -> None:
    good = pl.DataFrame({"category": ["x"], "count_a": [1], "count_b": [2]})
    with pytest.raises(InputError, match="missing column"):
        compare_areas_by_category(good.drop("count_b"), 1.0, 1.0)
    with pytest.raises(InputError, match="population_b"):
        compare_areas_by_category(good, 1000, 0)
    with pytest.raises(InputError, match="once"):
        compare_areas_by_category(pl.concat([good, good]), 1000, 1000)
    with pytest.raises(InputError, match="count_a is missing"):
        compare_areas_by_category(
            pl.DataFrame({"category": ["x"], "count_a": [None], "count_b": [2]}), 1000, 1000
        )
    with pytest.raises(InputError, match="zero or more"):
        compare_areas_by_category(
            pl.DataFrame({"category": ["x"], "count_a": [-1], "count_b": [2]}), 1000, 1000
        )


def test_area_comparison_of_no_categories_is_empty() -> None:
    empty = pl.DataFrame(
        {"category": [], "count_a": [], "count_b": []},
        schema={"category": pl.String, "count_a": pl.Int64, "count_b": pl.Int64},
    )
    out = compare_areas_by_category(empty, 1000, 1000)
    assert out.height == 0 and "verdict" in out.columns


YEAR_ON_YEAR = pl.DataFrame(
    {
        "category": ["Burglary", "Robbery", "Drugs"],
        "count_before": [1200, 300, 200],
        "count_after": [1500, 400, 215],
        "exposure_before": [12.0, 12.0, 12.0],
        "exposure_after": [12.0, 12.0, 12.0],
    }
)


def test_changes_by_category_fields_and_adjustment() -> None:
    out = changes_by_category(YEAR_ON_YEAR)
    expected = {"category", "p_adjusted", "correction"} | set(compare_counts(1, 2).to_dict())
    assert set(out.columns) == expected
    assert out["correction"].to_list() == ["Holm over 3 categories"] * 3
    assert out["dispersion"].to_list() == [1.0] * 3  # no monthly counts: the exact test
    assert out["p_adjusted"].to_list() == pytest.approx(_holm_by_hand(out["p_value"].to_list()))
    robbery = out.row(1, named=True)
    direct = compare_counts(300, 400, 12, 12)
    assert robbery["p_value"] == pytest.approx(direct.p_value)
    assert robbery["rate_ratio"] == pytest.approx(400 / 300)
    assert out["direction"].to_list() == ["rise", "rise", "no clear change"]
    assert claim_every_category(out, "rise") is False


def test_direction_follows_the_adjusted_p_value() -> None:
    frame = pl.DataFrame(
        {"category": ["a", "b", "c"], "count_before": [100] * 3, "count_after": [134] * 3}
    )
    out = changes_by_category(frame)  # exposures default to 1.0
    assert (out["p_value"] < 0.05).all() and (out["p_adjusted"] > 0.05).all()
    assert out["direction"].to_list() == ["no clear change"] * 3
    assert out["exposure_before"].to_list() == [1.0] * 3
    assert claim_every_category(out, "rise") is False


def test_missing_exposure_value_is_an_error_not_a_default() -> None:
    frame = YEAR_ON_YEAR.with_columns(pl.Series("exposure_after", [12.0, None, 12.0]))
    with pytest.raises(InputError, match="'Robbery': exposure_after is missing"):
        changes_by_category(frame)


def test_exposures_are_used_per_category() -> None:
    frame = YEAR_ON_YEAR.with_columns(pl.Series("exposure_after", [9.0, 9.0, 9.0]))
    out = changes_by_category(frame)
    assert out["rate_ratio"][0] == pytest.approx((1500 / 9) / (1200 / 12))
    assert out["p_value"][0] == pytest.approx(compare_counts(1200, 1500, 12, 9).p_value)


def test_claim_every_category() -> None:
    rising = changes_by_category(
        pl.DataFrame(
            {
                "category": ["Burglary", "Robbery", "Vehicle"],
                "count_before": [1000, 300, 500],
                "count_after": [1400, 450, 700],
            }
        )
    )
    assert rising["direction"].to_list() == ["rise"] * 3
    assert claim_every_category(rising, "rise") is True
    assert claim_every_category(rising, "fall") is False
    falling = changes_by_category(
        pl.DataFrame(
            {"category": ["x", "y"], "count_before": [900, 800], "count_after": [500, 400]}
        )
    )
    assert claim_every_category(falling, "fall") is True
    assert claim_every_category(falling.head(0), "fall") is False  # nothing to claim
    mixed = pl.concat([rising, falling])
    assert claim_every_category(mixed, "rise") is False
    with pytest.raises(InputError, match="'rise' or 'fall'"):
        claim_every_category(rising, "no clear change")
    with pytest.raises(InputError, match="changes_by_category"):
        claim_every_category(rising.drop("direction"), "rise")


# --- with monthly counts: over-dispersion allowed for ------------------------------------------

BEFORE_MONTHS = [dt.date(2020, m, 1) for m in range(1, 13)]
AFTER_MONTHS = [dt.date(2021, m, 1) for m in range(1, 13)]


def _monthly_rows(totals: dict[str, int], months: list[dt.date], spread: float, seed: int) -> list:
    """Each category's total spread over the months, unevenly (Dirichlet with ``spread``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for category, total in totals.items():
        shares = rng.dirichlet([spread] * len(months))
        counts = rng.multinomial(total, shares)
        rows += [
            {"category": category, "month": m, "count": int(n)}
            for m, n in zip(months, counts, strict=True)
            if n  # absent rows count 0
        ]
    return rows


def _year_on_year_monthly(spread: float) -> pl.DataFrame:
    before = dict(zip(YEAR_ON_YEAR["category"], YEAR_ON_YEAR["count_before"], strict=True))
    after = dict(zip(YEAR_ON_YEAR["category"], YEAR_ON_YEAR["count_after"], strict=True))
    return pl.DataFrame(
        _monthly_rows(before, BEFORE_MONTHS, spread, 1)
        + _monthly_rows(after, AFTER_MONTHS, spread, 2)
    )


def test_changes_by_category_with_monthly_counts_use_the_over_dispersed_test() -> None:
    monthly = _year_on_year_monthly(spread=8.0)  # far more uneven than Poisson
    out = changes_by_category(
        YEAR_ON_YEAR,
        monthly=monthly,
        months_before=BEFORE_MONTHS,
        months_after=AFTER_MONTHS,
        family="crime types",
    )
    for row in out.to_dicts():
        own = monthly.filter(pl.col("category") == row["category"])
        counts = dict(zip(own["month"], own["count"], strict=True))
        direct = compare_monthly_counts(
            {m: counts.get(m, 0) for m in BEFORE_MONTHS},
            {m: counts.get(m, 0) for m in AFTER_MONTHS},
            exposure_before=12.0,
            exposure_after=12.0,
        )
        assert (row["p_value"], row["dispersion"], row["test"]) == (
            direct.p_value,
            direct.dispersion,
            direct.test,
        )
        assert row["dispersion"] > 1
        assert row["p_value"] > compare_counts(row["count_before"], row["count_after"]).p_value
    assert out["p_adjusted"].to_list() == pytest.approx(_holm_by_hand(out["p_value"].to_list()))
    assert out["correction"].to_list() == ["Holm over 3 crime types"] * 3
    # Poisson would call burglary and robbery significant rises; month-to-month swings this
    # large leave the burglary rise at most.
    assert changes_by_category(YEAR_ON_YEAR)["direction"].to_list()[:2] == ["rise", "rise"]
    assert out["direction"].to_list()[1:] == ["no clear change", "no clear change"]


def test_monthly_counts_must_add_up_and_name_known_months() -> None:
    monthly = _year_on_year_monthly(spread=50.0)
    kwargs = {"months_before": BEFORE_MONTHS, "months_after": AFTER_MONTHS}
    short = monthly.filter(
        ~((pl.col("category") == "Drugs") & (pl.col("month") == AFTER_MONTHS[0]))
    )
    with pytest.raises(InputError, match="'Drugs': the monthly counts add up to"):
        changes_by_category(YEAR_ON_YEAR, monthly=short, **kwargs)
    with pytest.raises(InputError, match="not a month with data"):
        changes_by_category(
            YEAR_ON_YEAR,
            monthly=monthly,
            months_before=BEFORE_MONTHS[:6],
            months_after=AFTER_MONTHS,
        )
    with pytest.raises(InputError, match="overlap"):
        changes_by_category(
            YEAR_ON_YEAR, monthly=monthly, months_before=BEFORE_MONTHS, months_after=BEFORE_MONTHS
        )
    with pytest.raises(InputError, match="months_after"):
        changes_by_category(YEAR_ON_YEAR, monthly=monthly, months_before=BEFORE_MONTHS)


def test_area_comparison_with_monthly_counts() -> None:
    frame = pl.DataFrame(
        {"category": ["Burglary", "Drugs"], "count_a": [1800, 120], "count_b": [2100, 260]}
    )
    rng = np.random.default_rng(9)
    rows = []
    for category, count_a, count_b in frame.iter_rows():
        common = rng.dirichlet([20.0] * 12)  # both areas share the seasons...
        a = rng.multinomial(count_a, common)
        b = rng.multinomial(count_b, rng.dirichlet(200 * common))  # ...with scatter of their own
        rows += [
            {"category": category, "month": m, "count_a": int(x), "count_b": int(y)}
            for m, x, y in zip(AFTER_MONTHS, a, b, strict=True)
        ]
    monthly = pl.DataFrame(rows)
    out = compare_areas_by_category(
        frame, CITY, COUNTY, monthly=monthly, months=AFTER_MONTHS, family="crime types"
    )
    for row in out.to_dicts():
        own = monthly.filter(pl.col("category") == row["category"])
        direct = compare_monthly_counts(
            dict(zip(own["month"], own["count_b"], strict=True)),
            dict(zip(own["month"], own["count_a"], strict=True)),
            exposure_before=COUNTY,
            exposure_after=CITY,
        )
        assert (row["p_value"], row["test"], row["dispersion"]) == (
            direct.p_value,
            direct.test,
            direct.dispersion,
        )
        assert row["rate_ratio"] == pytest.approx(
            (row["count_a"] / CITY) / (row["count_b"] / COUNTY)
        )
    assert out["correction"].to_list() == ["Holm over 2 crime types"] * 2
    plain = compare_areas_by_category(frame, CITY, COUNTY)
    assert plain["test"].to_list() == [compare_counts(1, 2).test] * 2
    assert plain["dispersion"].to_list() == [1.0, 1.0]
