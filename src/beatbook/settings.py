"""Defaults that the library and the command line share.

They live apart from the analysis that uses them so that ``beatbook --help`` can
show them without importing scipy, statsmodels or matplotlib (seconds at start-up).
"""

FORECAST_METHOD = "sepp"  # the forecast behind proposed priorities (benchmarks/forecast.py)
BEFORE_MONTHS = 6  # months before adoption that a priority's assessment compares with
UPCOMING_WEEKS = 6  # weeks of engagements a community update lists
