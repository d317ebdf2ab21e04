"""Independent reference for BeatBook's over-dispersed change test (statsmodels and scipy only).

docs/statistics.md: a change is tested on the monthly counts with a quasi-Poisson GLM
(month-of-year effects when both periods hold the same calendar months, a period effect,
offset log exposure per month; dispersion Pearson chi2/df), its p-value never below the exact
conditional binomial test's; the exact test alone when the GLM has fewer than 5 residual
degrees of freedom, its X2/df is at most 1, or a period has no crimes. Written here from that
description with ``statsmodels.GLM(..., scale="X2", use_t=True)``, not BeatBook's code.
"""

from __future__ import annotations

from collections import Counter

import duckdb
import numpy as np
import statsmodels.api as sm
from scipy import stats

MIN_DF = 5


def change_p(
    before: dict[str, int],
    after: dict[str, int],
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
) -> float:
    """p-value for a change between the monthly counts ``before`` and ``after`` ('YYYY-MM' ->
    count, every month with data); the exposures are each period's total."""
    y0, y1 = sum(before.values()), sum(after.values())
    exact = float(
        stats.binomtest(y1, y0 + y1, exposure_after / (exposure_before + exposure_after)).pvalue
        if y0 + y1
        else 1.0
    )
    months = [*before, *after]
    calendar0 = Counter(m[5:] for m in before)
    calendar1 = Counter(m[5:] for m in after)
    if calendar0 == calendar1:
        names = sorted(calendar0)
        columns = [np.array([m[5:] == c for m in months], dtype=float) for c in names]
    else:
        columns = [np.ones(len(months))]
    period = np.array([0.0] * len(before) + [1.0] * len(after))
    exog = np.column_stack([*columns, period])
    df = len(months) - exog.shape[1]
    if df < MIN_DF or y0 == 0 or y1 == 0:
        return exact
    offset = np.log(
        [exposure_before / len(before)] * len(before) + [exposure_after / len(after)] * len(after)
    )
    y = np.array([*before.values(), *after.values()], dtype=float)
    fit = sm.GLM(y, exog, family=sm.families.Poisson(), offset=offset).fit(scale="X2", use_t=True)
    assert fit.df_resid == df
    if fit.scale <= 1:
        return exact
    return max(float(fit.pvalues[-1]), exact)


def monthly_by_type(
    con: duckdb.DuckDBPyConnection, districts: tuple[str, ...], months: list[str]
) -> dict[str, dict[str, int]]:
    """crime type -> {'YYYY-MM': count} over these months (0 where none), from the raw rows."""
    rows = con.execute(
        'SELECT "Crime type", month, count(*) FROM street WHERE district IN '
        "(SELECT unnest(?::VARCHAR[])) AND month IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1, 2",
        [list(districts), months],
    ).fetchall()
    out: dict[str, dict[str, int]] = {}
    for crime_type, month, n in rows:
        out.setdefault(crime_type, dict.fromkeys(months, 0))[month] = int(n)
    return out
