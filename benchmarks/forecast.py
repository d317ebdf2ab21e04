"""Forecast benchmark: every method against the baselines, on real months, for Leicester.

Run from the repository root::

    .venv/bin/python benchmarks/forecast.py          # all problem groups (~10 min on 2 cores)
    .venv/bin/python benchmarks/forecast.py --quick  # all crime and drugs only

It ingests the shared Leicestershire street files (2019-12 .. 2022-10 and 2025) and
Leicester's LSOA boundaries into a scratch store, then runs ``evaluate_forecasts`` for
the city of Leicester on 150 m cells with 12 target months, 2021-11 .. 2022-10: the
last 12 consecutive months of the shared data (the 2025 run has only 8 months with a
stored month before them). Each target is forecast from every stored month before it
(23 to 34 months of history).

For each problem group it prints PAI and hit rate at 5% coverage per method, the ceiling,
PEI, the runtime per method, and the PAI@5% ratio to the best baseline with its paired
bootstrap interval; everything is also written to ``benchmarks/out/forecast.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
BOUNDARIES = (
    REPO / "data" / "sample" / "ons" / "boundaries" / "lsoa11-E06000016-leicester.geojson.gz"
)
OUT = REPO / "benchmarks" / "out" / "forecast.json"
TARGETS = ("2021-11", "2022-10")
PROBLEMS = (
    None,
    "drugs",
    "burglary",
    "vehicle-crime",
    "asb",
    "violence-weapons",
    "acquisitive",
    "criminal-damage",
    "public-order",
)
QUICK = (None, "drugs")


def run(data: Path, problems: tuple[str | None, ...], seed: int) -> list[dict[str, Any]]:
    from beatbook.figures import hotspots as hotspot_figures
    from beatbook.hotspots.forecast import METHODS
    from beatbook.ingest.boundaries import import_boundaries
    from beatbook.ingest.policeuk_csv import ingest
    from beatbook.store import Store

    reports = []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "bench.duckdb") as store:
        ingest(store, sorted((data / "police-uk" / "leicestershire").glob("*-street.csv.gz")))
        import_boundaries(store, BOUNDARIES)
        for problem in problems:
            by_method = {}
            for method in METHODS:
                t0 = time.perf_counter()
                r = hotspot_figures.evaluate_forecasts(
                    store, "Leicester", *TARGETS, problem=problem, methods=[method], seed=seed
                )
                by_method[method] = (r, time.perf_counter() - t0)
            reports.append(_combine(problem, by_method, seed))
            _print(reports[-1])
    return reports


def _combine(problem: str | None, by_method: dict[str, Any], seed: int) -> dict[str, Any]:
    """One problem's figures; the ratio to the best baseline is recomputed across methods."""
    import numpy as np

    from beatbook.hotspots.evaluate import bootstrap_ratio
    from beatbook.hotspots.forecast import BASELINES

    def at5(r: dict[str, Any]) -> dict[str, Any]:
        return next(s for s in r["summary"] if s["coverage"] == 0.05)

    def monthly(r: dict[str, Any]) -> np.ndarray:
        return np.array([m["pai"] for m in r["months"] if m["coverage"] == 0.05])

    best = max(BASELINES, key=lambda b: at5(by_method[b][0])["pai"])
    rows = []
    for method, (r, seconds) in by_method.items():
        s = at5(r)
        ratio, low, high = bootstrap_ratio(monthly(r), monthly(by_method[best][0]), seed)
        rows.append(
            {
                "method": method,
                "pai5": s["pai"],
                "pai5_low": s["pai_low"],
                "pai5_high": s["pai_high"],
                "hit5": s["hit_rate"],
                "ceiling5": s["pai_ceiling"],
                "pei5": s["pei"],
                "ratio": ratio,
                "ratio_low": low,
                "ratio_high": high,
                "seconds": seconds,
                "pai_by_coverage": {str(x["coverage"]): x["pai"] for x in r["summary"]},
            }
        )
    first = next(iter(by_method.values()))[0]
    return {
        "problem": problem or "all",
        "best_baseline": best,
        "targets": first["targets"],
        "cells": first["grid"]["cells"],
        "rows": rows,
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"\n{report['problem']}: {len(report['targets'])} months, {report['cells']} cells, "
        f"best baseline {report['best_baseline']}"
    )
    print(
        f"{'method':12} {'PAI@5%':>7} {'95% CI':>13} {'hit@5%':>7} {'ceiling':>7} {'PEI':>5} "
        f"{'vs best':>7} {'95% CI':>13} {'s':>6}"
    )
    for r in report["rows"]:
        print(
            f"{r['method']:12} {r['pai5']:7.2f} {r['pai5_low']:6.2f}–{r['pai5_high']:<6.2f} "
            f"{r['hit5']:7.1%} {r['ceiling5']:7.2f} {r['pei5']:5.2f} {r['ratio']:7.3f} "
            f"{r['ratio_low']:6.3f}–{r['ratio_high']:<6.3f} {r['seconds']:6.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--quick", action="store_true", help="all crime and drugs only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    reports = run(args.data, QUICK if args.quick else PROBLEMS, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(reports, indent=1, default=str), encoding="utf-8")
    print(f"\nbenchmark took {(time.perf_counter() - t0) / 60:.1f} min; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
