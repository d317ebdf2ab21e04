"""Backtest of proposed priorities: precision@N against last month's count.

Usage: python benchmarks/priorities.py [STORE] [--area Leicester] [--per-ward 3] [--method sepp]

Builds the demo store first if STORE does not exist (run `make demo`). For each month
2020-06 .. 2021-11 it proposes the top N (place, problem) per ward from data up to that
month and counts how many saw the problem again the month after; the naive ranking is
each ward's top N by last month's count. Prints per-month figures and the pooled
precision with a paired bootstrap CI of the difference.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from beatbook.priorities.backtest import backtest
from beatbook.store import Store

CUTOFFS = [f"{y}-{m:02d}" for y, ms in ((2020, range(6, 13)), (2021, range(1, 12))) for m in ms]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="demo-output/beatbook.duckdb")
    parser.add_argument("--area", default="Leicester")
    parser.add_argument("--per-ward", type=int, default=3)
    parser.add_argument("--method", default="sepp")
    args = parser.parse_args()
    if not Path(args.store).exists():
        raise SystemExit(f"{args.store} not found: run `make demo` first")
    started = time.perf_counter()
    with Store(args.store, read_only=True) as store:
        result = backtest(store, args.area, CUTOFFS, per_ward=args.per_ward, method=args.method)
    print(
        f"{args.area}: top {args.per_ward} per ward, forecast {args.method}, "
        f"{len(result['months'])} months, {time.perf_counter() - started:.0f} s"
    )
    print("cutoff  target   beatbook        last-month")
    for r in result["months"]:
        print(
            f"{r['cutoff']} {r['target']}  {r['beatbook_hits']:3d}/{r['beatbook_proposed']:3d}  "
            f"{r['last_month_hits']:3d}/{r['last_month_proposed']:3d}"
        )
    low, high = result["difference_ci"]
    print(
        f"precision@{args.per_ward} per ward: BeatBook {result['precision_beatbook']:.3f}, "
        f"last month's count {result['precision_last_month']:.3f}; "
        f"difference 95% CI {low:+.3f} to {high:+.3f}"
    )


if __name__ == "__main__":
    main()
