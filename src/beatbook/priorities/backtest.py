"""Backtest of proposed priorities: did the problem continue at the proposed places?

For each past month M with M+1 stored: propose the top N (place, problem) per ward
from data up to M (no concerns: they are not stored historically), and count a hit
when the place had at least one crime of that problem in M+1. The same is done for
the naive ranking a spreadsheet would give: last month's count at the place. Places
are matched across months by their key (``ward|street``); a generic place whose
cluster of snap points changes between months can miss, for both rankings alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.months import add_months, parse_month
from beatbook.priorities.propose import gather, place_forecasts
from beatbook.priorities.score import Weights, score_candidates, top_per_ward
from beatbook.settings import FORECAST_METHOD, PER_WARD
from beatbook.store import Store

KEY = ["place_key", "problem"]


def _last_month_ranking(crimes: pl.DataFrame, cutoff: dt.date, per_ward: int) -> pl.DataFrame:
    """Top ``per_ward`` (place, problem) per ward by crimes in the cutoff month; ties by name."""
    return (
        crimes.filter(pl.col("month") == cutoff)
        .group_by(["ward", *KEY, "place"])
        .agg(pl.len().alias("n"))
        .sort(["ward", "n", "place", "problem"], descending=[False, True, False, False])
        .group_by("ward", maintain_order=True)
        .head(per_ward)
    )


def _hits(top: pl.DataFrame, following: pl.DataFrame) -> tuple[int, int]:
    """(proposals with at least one crime of their problem next month, proposals)."""
    seen = following.group_by(KEY).agg(pl.len().alias("next"))
    joined = (
        top.select(KEY).join(seen, on=KEY, how="left").with_columns(pl.col("next").fill_null(0))
    )
    return int((joined["next"] > 0).sum()), joined.height


def backtest(
    store: Store,
    area_name: str,
    cutoffs: list[str],
    *,
    per_ward: int = PER_WARD,
    method: str = FORECAST_METHOD,
    weights: Weights | None = None,
) -> dict[str, Any]:
    """Precision@N of BeatBook's proposals and of last month's count, month by month.

    Every month's forecast uses one grid, laid from what was known at the first cutoff."""
    weights = weights or Weights()
    area = areas_mod.resolve(store, area_name)
    folds = []
    for text in cutoffs:
        cutoff = parse_month(text, "--month")
        target = add_months(cutoff, 1)
        if q.months_with_data(store, target, target):
            folds.append((cutoff, target))
    first = min((cutoff for cutoff, _ in folds), default=None)
    rows = []
    for cutoff, target in folds:
        ev = gather(store, area, cutoff, with_concerns=False)
        nxt = gather(store, area, target, with_concerns=False).crimes.filter(
            pl.col("month") == target
        )
        problems = sorted(set(ev.crimes["problem"].unique().to_list()))
        forecasts = place_forecasts(store, ev, problems, method, 150, grid_up_to=first)
        scored = score_candidates(
            ev.crimes, ev.concerns, forecasts, ev.recent, ev.baseline, weights
        )
        ours = _hits(top_per_ward(scored, per_ward), nxt)
        naive = _hits(_last_month_ranking(ev.crimes, cutoff, per_ward), nxt)
        rows.append(
            {
                "cutoff": f"{cutoff:%Y-%m}",
                "target": f"{target:%Y-%m}",
                "beatbook_hits": ours[0],
                "beatbook_proposed": ours[1],
                "last_month_hits": naive[0],
                "last_month_proposed": naive[1],
            }
        )
    return {
        "area": area.to_dict(),
        "per_ward": per_ward,
        "method": method,
        "months": rows,
        **summarise(rows),
    }


def summarise(rows: list[dict[str, Any]], draws: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """Pooled precision of both rankings and a paired bootstrap CI over months of the difference."""
    if not rows:
        return {"precision_beatbook": None, "precision_last_month": None}
    ours = np.array([[r["beatbook_hits"], r["beatbook_proposed"]] for r in rows], dtype=float)
    naive = np.array([[r["last_month_hits"], r["last_month_proposed"]] for r in rows], dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(rows), size=(draws, len(rows)))
    diff = (ours[picks, 0].sum(1) / ours[picks, 1].sum(1)) - (
        naive[picks, 0].sum(1) / naive[picks, 1].sum(1)
    )
    return {
        "precision_beatbook": ours[:, 0].sum() / ours[:, 1].sum(),
        "precision_last_month": naive[:, 0].sum() / naive[:, 1].sum(),
        "difference_ci": [float(np.quantile(diff, 0.025)), float(np.quantile(diff, 0.975))],
    }
