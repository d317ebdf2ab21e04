"""Every default the command line, the web and the library show, with its bounds and why.

One place for each number a user meets as a default or a limit, so the CLI's ``--help``,
the web forms and the library functions cannot drift apart. They live apart from the
analysis that uses them so that ``beatbook --help`` can show them without importing scipy,
statsmodels or matplotlib (seconds at start-up): this module imports nothing from beatbook
but :mod:`beatbook.errors`.

A bounded option has a :class:`Bound`; ``BOUND.check(value, "--option")`` returns the value
or raises :class:`~beatbook.errors.InputError` naming the option and the range, so the CLI
and the web refuse the same values with the same message.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbook.errors import InputError


@dataclass(frozen=True)
class Bound:
    """The whole numbers ``low`` to ``high`` (both included) an option accepts."""

    low: int
    high: int
    unit: str = ""  # said after the range: "expected 50 to 500 metres"

    def __str__(self) -> str:
        return f"{self.low} to {self.high}"

    def check(self, value: int, option: str, note: str = "") -> int:
        """``value`` if it is in the range; else an InputError such as
        ``--per-ward 0: expected 1 to 10`` (``note`` is added in brackets)."""
        if not self.low <= value <= self.high:
            unit = f" {self.unit}" if self.unit else ""
            extra = f" ({note})" if note else ""
            raise InputError(f"{option} {value}: expected {self}{unit}{extra}")
        return value


# --- hotspots (beatbook hotspots, forecast, evaluate; the desk map) ---------------------------

# Grid cells of 150 m: about a street block. Smaller cells hold too few crimes a month for a
# test, larger ones hide which street it is (docs/statistics.md#hotspots).
CELL_SIZE = 150
CELL_SIZE_RANGE = Bound(50, 500, "metres")

# Conditional permutations behind each Gi* p-value. With N permutations no p is below
# 2/(N+1); 9,999 lets a cell survive the false-discovery-rate control across a few thousand
# cells (docs/statistics.md#hotspots). At most 99,999: a map then takes minutes.
PERMUTATIONS = 9999
PERMUTATIONS_RANGE = Bound(1, 99_999)

# The false-discovery rate (Benjamini-Hochberg) across a map's cells: the usual 5%.
FDR_ALPHA = 0.05

# Months an emerging-hotspot class may look back over (--emerging; 0 means none): fewer
# than 3 is no trend, more than 60 costs 60 maps.
EMERGING_RANGE = Bound(3, 60, "months")

# The cell forecast of `beatbook forecast`: the negative-binomial GLM, at or above the best
# baseline in the backtest and faster than sepp (benchmarks/README.md, benchmarks/forecast.py).
CELL_FORECAST_METHOD = "glm"

# --- priorities (beatbook priorities propose, jag; /desk/priorities, /desk/jag) -------------

# The forecast behind proposed priorities: it must be in expected crimes ("about N next
# month"), which the GLM's scores are not; of those, the self-exciting point process
# (benchmarks/forecast.py).
FORECAST_METHOD = "sepp"

# Candidates proposed per ward: a short list a ward's meeting can discuss; at most ten, so
# the desk page and the JAG pack (which maps every candidate) stay readable.
PER_WARD = 3
PER_WARD_RANGE = Bound(1, 10)

# The four parts of a priority's score count equally unless the team says otherwise.
WEIGHT_VOLUME = 1.0
WEIGHT_CHANGE = 1.0
WEIGHT_FORECAST = 1.0
WEIGHT_CONCERNS = 1.0

# ASB has no Cambridge Crime Harm Index weight (it is not a crime); 10 days puts one incident
# level with a public order offence, its nearest criminal counterpart (the ONS crime severity
# score weighs "public fear, alarm or distress" 7.58, the same order).
ASB_HARM_DAYS = 10.0

# Stored months a priority's assessment compares with, before the months the proposal was
# selected on (those are kept apart: regression to the mean; difference in differences,
# docs/statistics.md): half a year evens out one month's noise; up to two years.
BEFORE_MONTHS = 6
BEFORE_MONTHS_RANGE = Bound(1, 24)

# --- figures and publications ----------------------------------------------------------------

# A monthly trend is fitted only on at least this many months with data: fewer and the
# quasi-Poisson slope is mostly noise (stats/trend.py refuses fewer too).
MIN_TREND_MONTHS = 6

# A change, comparison or rank allows for over-dispersion estimated from the monthly counts
# only with at least this many residual degrees of freedom (6 months matched each side);
# fewer, and the estimate is mostly noise: the exact Poisson test is used, and says so
# (stats/overdispersed.py, docs/statistics.md).
MIN_DISPERSION_DF = 5

# Months in a trend chart (the desk dashboard, the community update): a year and the month,
# so the latest month and the same month a year before both show.
TREND_MONTHS = 13

# The public figures of an area (/stats/{area}, the dashboard's rate) cover the latest year,
# so every season counts once; up to ten years.
SUMMARY_MONTHS = 12
# What stats, compare, rank and the pages count unless told: crimes, ASB reported apart.
DEFAULT_MEASURE = "crime"
SUMMARY_MONTHS_RANGE = Bound(1, 120)

# Weeks of engagements the community update lists and the public calendar shows by
# default: the update's month and a fortnight beyond, until the next update is out.
UPCOMING_WEEKS = 6
# Any window of engagements (update, /events, /api/events): up to half a year ahead.
WEEKS_RANGE = Bound(1, 26)
