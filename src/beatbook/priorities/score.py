"""Score candidate priorities: (ward, place, problem) with the parts of the score shown.

A candidate is a place (see :mod:`beatbook.priorities.naming`) and a problem in
one ward. Its score is the sum of five parts, each scaled so the area's largest
value of that part is 1 and then multiplied by its weight (:class:`Weights`):

``volume``
    harm-weighted crimes a month at the place in the recent months. Weights are
    the days of ``reference/crime_types.csv`` (Cambridge-style); anti-social
    behaviour, which has none, weighs :attr:`Weights.asb_harm_days`.
``change``
    crimes above the place's own baseline (the months before the recent ones),
    counted only when the exact Poisson test says the rise is significant
    (:func:`beatbook.stats.change.compare_counts`), so noise earns nothing.
``forecast``
    the expected crimes at the place next month (:mod:`beatbook.hotspots.forecast`).
``concerns``
    residents' and partners' concerns about that place and problem in the
    recent months.
``proactive``
    the same concerns again where the problem is proactive (every crime type of it is
    found by police rather than reported to them: drugs, :func:`proactive_problems`),
    scaled like the concerns part. A proactive count measures police activity as much as
    the problem, so residents' voice has more say there (:data:`beatbook.settings.WEIGHT_PROACTIVE`).

The largest-value scaling makes parts comparable without pretending they share a
unit; a part no candidate has (no concerns imported, say) is 0 everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import polars as pl

from beatbook import settings
from beatbook.errors import InputError
from beatbook.reference import crime_types, harm_table
from beatbook.stats.change import compare_counts

PARTS = ("volume", "change", "forecast", "concerns", "proactive")
KEY = ["ward", "place_key", "place", "problem"]


@dataclass(frozen=True)
class Weights:
    """Multipliers of the five parts, and the harm weight given to ASB.

    Defaults (:mod:`beatbook.settings`, with why) give each part equal say and one ASB
    incident the harm of a public order offence. ``proactive`` comes last so the order of
    the first five (as the command line passes them) is unchanged.
    """

    volume: float = settings.WEIGHT_VOLUME
    change: float = settings.WEIGHT_CHANGE
    forecast: float = settings.WEIGHT_FORECAST
    concerns: float = settings.WEIGHT_CONCERNS
    asb_harm_days: float = settings.ASB_HARM_DAYS
    proactive: float = settings.WEIGHT_PROACTIVE

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value >= 0:
                raise InputError(
                    f"--weight-{name.replace('_', '-')} {value}: expected a number >= 0"
                )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def score_candidates(
    crimes: pl.DataFrame,
    concerns: pl.DataFrame,
    forecasts: pl.DataFrame,
    recent: list[dt.date],
    baseline: list[dt.date],
    weights: Weights,
) -> pl.DataFrame:
    """Every candidate with its figures, parts and score, highest first.

    Parameters
    ----------
    crimes
        One row per crime: month, crime_type, ward, place_key, place.
    concerns
        One row per concern: ward, place_key, place, problem, problem_label, source.
    forecasts
        place_key, problem, forecast (expected crimes next month).
    recent, baseline
        The stored months that count as recent, and the earlier ones that are the
        place's baseline (missing months are left out, not zero).
    """
    if not recent:
        raise InputError("no recent months stored: nothing to propose from")
    rated = crimes.join(
        harm_table(asb_harm_days=weights.asb_harm_days), on="crime_type", how="left"
    ).with_columns(
        pl.col("problem").fill_null("other"), pl.col("harm").fill_null(weights.asb_harm_days)
    )
    now = (
        rated.filter(pl.col("month").is_in(recent))
        .group_by(KEY)
        .agg(pl.len().alias("crimes_recent"), pl.col("harm").sum().alias("harm_recent"))
    )
    before = (
        rated.filter(pl.col("month").is_in(baseline))
        .group_by(KEY)
        .agg(pl.len().alias("crimes_baseline"))
    )
    voiced = concerns.group_by(KEY).agg(
        pl.len().alias("concerns"),
        pl.col("problem_label").unique().sort().alias("concern_problems"),
        pl.col("source").unique().sort().alias("concern_sources"),
    )
    table = (
        now.join(voiced, on=KEY, how="full", coalesce=True)
        .join(before, on=KEY, how="left")
        .join(
            forecasts.select("place_key", "problem", "forecast"),
            on=["place_key", "problem"],
            how="left",
        )
        .with_columns(
            pl.col("crimes_recent", "crimes_baseline", "concerns").fill_null(0),
            pl.col("harm_recent", "forecast").fill_null(0.0),
            pl.col("concern_problems", "concern_sources").fill_null([]),
        )
    )
    table = _with_change(table, len(recent), len(baseline))
    n_recent = len(recent)
    table = table.with_columns(
        (pl.col("harm_recent") / n_recent).alias("harm_per_month"),
        (pl.col("crimes_recent") / n_recent).alias("per_month_recent"),
        (pl.col("crimes_baseline") / max(len(baseline), 1)).alias("per_month_baseline"),
    )
    raw = {
        "volume": pl.col("harm_per_month"),
        "change": pl.col("excess"),
        "forecast": pl.col("forecast"),
        "concerns": pl.col("concerns").cast(pl.Float64),
    }
    proactive = pl.col("problem").is_in(proactive_problems())
    table = table.with_columns(
        [_scaled(expr, getattr(weights, name)).alias(f"part_{name}") for name, expr in raw.items()]
        + [
            pl.when(proactive)
            .then(_scaled(raw["concerns"], weights.proactive))
            .otherwise(0.0)
            .alias("part_proactive")
        ]
    )
    table = table.with_columns(
        pl.sum_horizontal([f"part_{p}" for p in PARTS]).alias("score"),
        _origin().alias("origin"),
    )
    return table.filter(pl.col("score") > 0).sort(
        ["score", "ward", "place", "problem"], descending=[True, False, False, False]
    )


def proactive_problems() -> list[str]:
    """Problem groups whose every police.uk crime type is proactive (``crime_types.csv``):
    recorded when police find them, so the count understates the problem."""
    groups: dict[str, bool] = {}
    for t in crime_types():
        groups[t.problem_group] = groups.get(t.problem_group, True) and t.proactive
    return [g for g, all_proactive in groups.items() if all_proactive]


def _with_change(table: pl.DataFrame, n_recent: int, n_baseline: int) -> pl.DataFrame:
    """The exact test of recent vs baseline rate, and the excess crimes when it is a rise."""
    if n_baseline == 0:
        return table.with_columns(
            pl.lit(None, pl.Float64).alias("change_p"),
            pl.lit("no baseline").alias("change_direction"),
            pl.lit(0.0).alias("excess"),
        )
    tests = [
        compare_counts(b, r, n_baseline, n_recent)
        for b, r in zip(table["crimes_baseline"], table["crimes_recent"], strict=True)
    ]
    expected = table["crimes_baseline"] * (n_recent / n_baseline)
    rise = pl.Series([t.direction == "rise" for t in tests])
    return table.with_columns(
        pl.Series("change_p", [t.p_value for t in tests], pl.Float64),
        pl.Series("change_direction", [t.direction for t in tests], pl.Utf8),
        pl.Series("excess", (table["crimes_recent"] - expected).clip(0) * rise, pl.Float64),
    )


def _scaled(expr: pl.Expr, weight: float) -> pl.Expr:
    """expr / its maximum over all candidates, times weight (0 where the maximum is 0)."""
    top = expr.max()
    return pl.when(top > 0).then(expr / top * weight).otherwise(0.0)


def _origin() -> pl.Expr:
    """'data', 'residents', 'partners' or 'mix': where the evidence for a candidate came from."""
    sources = pl.concat_list(
        pl.when(pl.col("crimes_recent") > 0)
        .then(pl.lit(["data"]))
        .otherwise(pl.lit([], pl.List(pl.Utf8))),
        pl.col("concern_sources").list.eval(
            pl.when(pl.element() == "partner")
            .then(pl.lit("partners"))
            .otherwise(pl.lit("residents"))
        ),
    ).list.unique()
    return pl.when(sources.list.len() == 1).then(sources.list.first()).otherwise(pl.lit("mix"))


def top_per_ward(scored: pl.DataFrame, per_ward: int) -> pl.DataFrame:
    """The ``per_ward`` best candidates of each ward, wards ordered by their best score."""
    if per_ward < 1:
        raise InputError(f"--per-ward {per_ward}: expected 1 or more")
    best = scored.group_by("ward").agg(pl.col("score").max().alias("ward_best"))
    return (
        scored.join(best, on="ward")
        .sort(
            ["ward_best", "ward", "score", "place", "problem"],
            descending=[True, False, True, False, False],
        )
        .group_by("ward", maintain_order=True)
        .head(per_ward)
        .with_columns(pl.int_range(1, pl.len() + 1).over("ward").alias("rank"))
        .drop("ward_best")
    )
