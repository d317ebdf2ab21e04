"""False alarms of the year-on-year change test when monthly counts are over-dispersed.

Simulates pairs of years with NO change: each month's count is gamma-Poisson (negative
binomial) around a seasonal mean, with variance `--dispersion` times the Poisson variance.
Prints how often the exact Poisson test on the two totals (the old test) and the
quasi-Poisson test on the monthly series (stats.compare_monthly_counts) call a
"significant" change at alpha 0.05, with binomial 95% intervals. Both should be near 5%.
"""

from __future__ import annotations

import argparse
import datetime as dt

import numpy as np
from scipy import stats as st

from beatbook.stats import compare_counts
from beatbook.stats.overdispersed import compare_monthly_counts


def _interval(hits: int, n: int) -> str:
    low, high = st.binomtest(hits, n).proportion_ci(0.95)
    return f"{hits / n:6.1%} (95% CI {low:.1%}–{high:.1%})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--dispersion", type=float, default=11.0)
    parser.add_argument("--level", type=float, default=300.0, help="mean crimes a month")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    season = 1 + 0.15 * np.sin(np.arange(12) / 12 * 2 * np.pi)
    means = args.level * season
    shape = means / (args.dispersion - 1)  # gamma-Poisson: var = mean * dispersion
    months = (
        [dt.date(2020, m, 1) for m in range(1, 13)],
        [dt.date(2021, m, 1) for m in range(1, 13)],
    )
    old = new = 0
    for _ in range(args.pairs):
        years = [rng.poisson(rng.gamma(shape, means / shape)) for _ in range(2)]
        old += compare_counts(int(years[0].sum()), int(years[1].sum())).significant
        series = [
            dict(zip(m, map(int, y), strict=True)) for m, y in zip(months, years, strict=True)
        ]
        new += compare_monthly_counts(*series).significant
    print(
        f"{args.pairs} pairs of years, no change, dispersion {args.dispersion:g}, "
        f"about {args.level:g} crimes a month, seed {args.seed}"
    )
    print(f"  exact Poisson test on the totals: {_interval(old, args.pairs)} called significant")
    print(f"  quasi-Poisson on the months:      {_interval(new, args.pairs)} called significant")


if __name__ == "__main__":
    main()
