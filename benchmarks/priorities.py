"""Backtest of proposed priorities: precision@N against last month's count; the mix of problems.

Usage: python benchmarks/priorities.py [STORE] [--area Leicester] [--per-ward 3] [--method sepp]
       [--mix-area "custom:West Leicester"] [--mix-only]

Builds the demo store first if STORE does not exist (run `make demo`). For each month
2020-06 .. 2021-11 it proposes the top N (place, problem) per ward from data up to that
month and counts how many saw the problem again the month after; the naive ranking is
each ward's top N by last month's count. Prints per-month figures and the pooled
precision with a paired bootstrap CI of the difference.

Then the mix: the share of proposals per problem group for the team area in the months the
sample has residents' concerns for (2021) and its latest months (2025), beside the real
inner-city team's mix (../shared/REFERENCES.md, "Priority setting": six ward priorities,
four drug dealing or drug dens with ASB, one ASB and street life, one knife and gang crime).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from beatbook.priorities.backtest import backtest
from beatbook.priorities.propose import propose
from beatbook.store import Store

# The real team's six ward priorities by police.uk problem group (drug dens with drugs, street
# life with ASB, knife and gang crime with violence and weapons: concern_problems.csv).
TEAM_MIX = {"drugs": 4, "asb": 1, "violence-weapons": 1}
MIX_MONTHS = ["2021-04", "2021-05", "2021-06", "2025-07", "2025-08", "2025-09"]
CUTOFFS = [f"{y}-{m:02d}" for y, ms in ((2020, range(6, 13)), (2021, range(1, 12))) for m in ms]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="demo-output/beatbook.duckdb")
    parser.add_argument("--area", default="Leicester")
    parser.add_argument("--per-ward", type=int, default=3)
    parser.add_argument("--method", default="sepp")
    parser.add_argument("--mix-area", default="custom:West Leicester")
    parser.add_argument("--mix-only", action="store_true", help="only the mix of problems")
    args = parser.parse_args()
    if not Path(args.store).exists():
        raise SystemExit(f"{args.store} not found: run `make demo` first")
    if not args.mix_only:
        precision(args)
    mix(args)


def mix(args: argparse.Namespace) -> None:
    """Share of the proposals (top N per ward) per problem group, beside the real team's."""
    with Store(args.store, read_only=True) as store:
        counts = {
            m: Counter(
                c["problem"]
                for w in propose(
                    store, args.mix_area, m, per_ward=args.per_ward, method=args.method
                )["wards"]
                for c in w["priorities"]
            )
            for m in MIX_MONTHS
        }
    groups = sorted({g for c in counts.values() for g in c} | set(TEAM_MIX))
    total = Counter[str]()
    for c in counts.values():
        total.update(c)
    print(f"\n{args.mix_area}: share of proposals per problem group (top {args.per_ward} a ward)")
    print("month    " + " ".join(f"{g[:16]:>16}" for g in groups))
    for m, c in counts.items():
        n = sum(c.values())
        print(f"{m}  " + " ".join(f"{c[g]:>3} ({c[g] / n:4.0%})".rjust(16) for g in groups))
    n = sum(total.values())
    print("all      " + " ".join(f"{total[g]:>3} ({total[g] / n:4.0%})".rjust(16) for g in groups))
    six = sum(TEAM_MIX.values())
    print(
        "real team"
        + " ".join(
            f"{TEAM_MIX.get(g, 0):>3} ({TEAM_MIX.get(g, 0) / six:4.0%})".rjust(16) for g in groups
        )
    )


def precision(args: argparse.Namespace) -> None:
    """Precision@N of the proposals and of last month's count, month by month."""
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
