"""Helpers shared by the priorities tests: the three-ward test area and expected values
read straight from the raw files (the ONS lookup, the reference CSV), never from BeatBook."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import statsmodels.api as sm

from support.fixtures_store import ROOT, WARD_LOOKUP

AREA = "Three wards"
# Westcotes, Fosse and Saffron (Leicester), by their ONS codes (ward names repeat across England).
WARD_CODES = ("E05010476", "E05010466", "E05010471")
CONCERNS_CSV = ROOT / "data" / "sample" / "concerns" / "leicester-concerns.csv"
# The demo's area (Makefile, target demo): Westcotes, Fosse and Western (Leicester), and
# the crime months it stores (2020-01 .. 2021-12 and 2025-01 .. 2025-09).
DEMO_AREA = "West Leicester"
DEMO_WARD_CODES = ("E05010476", "E05010466", "E05010477")
DEMO_MONTHS = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)] + [
    f"2025-{m:02d}" for m in range(1, 10)
]
CRIME_TYPES_CSV = ROOT / "src" / "beatbook" / "reference" / "crime_types.csv"


def ward_lsoas() -> dict[str, set[str]]:
    """Ward name -> its 2011 LSOA codes, for the three wards, read from the raw ONS lookup."""
    out: dict[str, set[str]] = {}
    with gzip.open(WARD_LOOKUP, "rt", encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["WD19CD"] in WARD_CODES:
                out.setdefault(row["WD19NM"], set()).add(row["LSOA11CD"])
    return out


def problem_crime_types() -> dict[str, list[str]]:
    """Problem group -> its police.uk crime types, read from the reference CSV."""
    out: dict[str, list[str]] = {}
    with CRIME_TYPES_CSV.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["problem_group"], []).append(row["crime_type"])
    return out


def raw_counts_at(
    raw_db, points: list[dict], lsoas: set[str], crime_types: list[str], months: list[str]
) -> dict[str, int]:
    """Crimes per month ('YYYY-MM') in the raw street files at exactly these snap points
    (name and coordinates), in these LSOAs, of these crime types."""
    rows = raw_db.execute(
        """
        WITH pts AS (SELECT unnest(?::VARCHAR[]) AS loc, unnest(?::DOUBLE[]) AS lon,
                            unnest(?::DOUBLE[]) AS lat)
        SELECT s.month, count(*) FROM street s JOIN pts
          ON s."Location" = pts.loc AND CAST(s."Longitude" AS DOUBLE) = pts.lon
         AND CAST(s."Latitude" AS DOUBLE) = pts.lat
        WHERE s."LSOA code" IN (SELECT unnest(?::VARCHAR[]))
          AND s."Crime type" IN (SELECT unnest(?::VARCHAR[]))
          AND s.month IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY 1
        """,
        [
            [p["location"] for p in points],
            [p["longitude"] for p in points],
            [p["latitude"] for p in points],
            sorted(lsoas),
            crime_types,
            months,
        ],
    ).fetchall()
    return {m: 0 for m in months} | dict(rows)


def glm(
    tb: Sequence[float],
    td: Sequence[float],
    cb: Sequence[float],
    cd: Sequence[float],
    ts: Sequence[float] = (),
    cs: Sequence[float] = (),
    *,
    quasi: bool = True,
) -> dict[str, Any]:
    """statsmodels' fit of ``count ~ group * period`` on the monthly counts: the dispersion
    used, the residual df, and (ratio, low, high, p) of during vs before and vs selection."""
    periods = [("b", tb, cb), ("d", td, cd)] + ([("s", ts, cs)] if len(ts) else [])
    y, rows = [], []
    for period, place, comparison in periods:
        for group, counts in ((1, place), (0, comparison)):
            for c in counts:
                y.append(c)
                s, d = float(period == "s"), float(period == "d")
                rows.append([1.0, group, s, d, group * s, group * d])
    exog = np.array(rows)
    if not len(ts):
        exog = exog[:, [0, 1, 3, 5]]
    model = sm.GLM(np.array(y, dtype=float), exog, family=sm.families.Poisson())
    with warnings.catch_warnings():  # zero cells: statsmodels warns about perfect fits
        warnings.simplefilter("ignore")
        pearson = model.fit(scale="X2", tol=1e-14, maxiter=500)
        phi = max(1.0, pearson.scale) if quasi else 1.0
        fit = model.fit(scale=phi, use_t=quasi, tol=1e-14, maxiter=500)
    k = exog.shape[1]
    out: dict[str, Any] = {"dispersion": phi, "df": int(fit.df_resid)}
    contrasts = {"before": np.eye(k)[k - 1]}
    if len(ts):
        contrasts["selection"] = np.eye(k)[5] - np.eye(k)[4]  # (g x d) - (g x s)
    for name, c in contrasts.items():
        t = fit.t_test(c)
        low, high = np.asarray(t.conf_int(alpha=0.05)).ravel()
        est = float(np.asarray(t.effect).ravel()[0])
        out[name] = (math.exp(est), math.exp(low), math.exp(high), float(np.asarray(t.pvalue)))
    return out


MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)


def named_months(text: str) -> list[str]:
    """'YYYY-MM' of every month a sentence names: 'March 2025'; each month of a range,
    'January to June 2025', 'November 2024 to February 2025'. A month name without a year
    fails the test (a reader could not tell which)."""
    out = []
    pattern = rf"({MONTH_NAMES})(?: (\d{{4}}))?(?: to ({MONTH_NAMES}) (\d{{4}}))?"
    names = MONTH_NAMES.split("|")
    for m in re.finditer(pattern, text):
        first, first_year, last, last_year = m.groups()
        if last is None:
            assert first_year, f"{first} without a year: {text}"
            out.append(f"{first_year}-{names.index(first) + 1:02d}")
            continue
        start = dt.date(int(first_year or last_year), names.index(first) + 1, 1)
        end = dt.date(int(last_year), names.index(last) + 1, 1)
        assert start < end, text
        while start <= end:
            out.append(f"{start:%Y-%m}")
            start = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return out
