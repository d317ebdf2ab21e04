"""Statistics that must be right: rates, shares, changes, trends, ranks and their wording.

Pure functions only (numbers and data frames in, results out; no I/O).
Results are frozen dataclasses with ``to_dict()`` or polars data frames.
See DESIGN.md, "Statistics that must be right".
"""

from beatbook.stats.change import Change, Trend, compare_counts, monthly_trend
from beatbook.stats.compare import (
    changes_by_category,
    claim_every_category,
    compare_areas_by_category,
)
from beatbook.stats.multiplicity import holm, holm_correction
from beatbook.stats.overdispersed import compare_monthly_counts
from beatbook.stats.rank import rank_rates
from beatbook.stats.rates import Rate, Share, poisson_ci, rate, share
from beatbook.stats.shares import ShareChange, compare_shares, share_changes_by_category
from beatbook.stats.wording import (
    describe_change,
    describe_rank,
    describe_rate,
    describe_share,
    describe_trend,
    format_p,
    ordinal,
)

__all__ = [
    "Change",
    "Rate",
    "Share",
    "ShareChange",
    "Trend",
    "changes_by_category",
    "claim_every_category",
    "compare_areas_by_category",
    "compare_counts",
    "compare_monthly_counts",
    "compare_shares",
    "describe_change",
    "describe_rank",
    "describe_rate",
    "describe_share",
    "describe_trend",
    "format_p",
    "holm",
    "holm_correction",
    "monthly_trend",
    "ordinal",
    "poisson_ci",
    "rank_rates",
    "rate",
    "share",
    "share_changes_by_category",
]
