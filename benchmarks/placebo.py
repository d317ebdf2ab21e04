"""Placebo test of priority assessments: adopt every proposal on historical months, do nothing.

Usage: python benchmarks/placebo.py [STORE] [--area Leicester] [--per-ward 3] [--method sepp]
       [--during 3] [--before-months 6] [--alpha 0.05] [--jobs 2]

Without STORE, a store is built from the bundled sample in a temporary folder (the police.uk
months, both ONS lookups, the populations and Leicester's boundaries, as `make demo` loads;
no concerns: none are stored historically). For every stored month M with the months each
method needs stored (for Leicestershire 2020-2021: 2020-09 .. 2021-09), BeatBook proposes
the top N (place, problem) per ward from data up to M; every proposal is taken as adopted
for M+1, all of them together, with no action, and assessed after ``--during`` months
against the rest of its ward (less that month's other proposals of the same problem in the
same ward, as adopted priorities are left out of a comparison).

Nothing was done, so a "fell more" or "rose more" verdict is a false claim: a test at level
alpha (two-sided) makes each at most alpha/2 of the time. The same proposals and counts are
assessed by four methods in one run:

  old       before = the 6 stored months before adoption (they hold the 3 months the proposal
            was selected on); Poisson Wald test on the totals: the method before issue 16
  exclude   before = the 6 months before the selection months; Poisson test
  + quasi   the same with the quasi-Poisson test on the monthly counts
  new       + the selection months compared apart (a fall or rise must hold against both):
            what `beatbook priorities assess` does now

It prints each method's share of 'fell more' and 'rose more' verdicts with an exact binomial
95% interval, the share chance gives (alpha/2), and how often each method finds a real
effect: the same proposals with half the place's crimes during the priority removed at
random (seeded), so "honest" is not bought by never saying anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.months import add_months, months_back
from beatbook.priorities.propose import gather, propose
from beatbook.priorities.review import (
    Point,
    Windows,
    assess_counts,
    assessment_windows,
    monthly_counts,
)
from beatbook.settings import BEFORE_MONTHS, FORECAST_METHOD, PER_WARD
from beatbook.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
METHODS = {  # name -> (before window, selection compared apart, test)
    "old": ("old", False, "poisson"),
    "exclude": ("new", False, "poisson"),
    "+ quasi": ("new", False, "quasi-poisson"),
    "new": ("new", True, "quasi-poisson"),
}
KEEP = 0.5  # the injected effect: each crime at the place during the priority kept with this


def build_sample_store(folder: Path) -> Path:
    """What `make demo` loads before its first command that writes records (no concerns)."""
    from beatbook.ingest import ons
    from beatbook.ingest.boundaries import import_boundaries
    from beatbook.ingest.policeuk_csv import ingest

    path = folder / "beatbook.duckdb"
    ons_dir = SAMPLE / "ons"
    with Store(path) as st:
        ingest(st, sorted((SAMPLE / "police-uk").rglob("*-street.csv.gz")))
        ons.import_lookup(st, ons_dir / "lsoa11-ward19-lad19-ew.csv.gz")
        ons.import_lookup(st, ons_dir / "lsoa11-lsoa21-lad22-ew.csv.gz")
        ons.import_population(st, ons_dir / "lsoa11-population-mid2019-ew.csv.gz", 2019)
        ons.import_population(st, ons_dir / "lsoa21-population-mid2022-ew.csv.gz", 2022)
        import_boundaries(st, ons_dir / "boundaries" / "lsoa11-E06000016-leicester.geojson.gz")
    return path


def old_before(stored: list[dt.date], start: dt.date, before_months: int) -> list[dt.date]:
    """The before window of the method before issue 16: the stored months before adoption."""
    return [m for m in months_back(add_months(start, -1), before_months) if m in stored]


def cutoffs(stored: list[dt.date], during: int, before_months: int) -> list[dt.date]:
    """Months M whose proposals (for M+1) have every month of each method's windows stored."""
    out = []
    for cutoff in stored:
        start = add_months(cutoff, 1)
        until = add_months(start, during - 1)
        new = assessment_windows(stored, start, start, until, before_months)
        full = (
            len(new.before) == before_months
            and len(new.selection) == 3
            and len(new.during) == during
            and len(old_before(stored, start, before_months)) == before_months
        )
        if full:
            out.append(cutoff)
    return out


def proposals(args: tuple[str, str, str, int, str]) -> list[dict[str, Any]]:
    """One month's proposals (worker process): ward, problem and snap points of each."""
    store_path, area, month, per_ward, method = args
    with Store(store_path, read_only=True) as st:
        result = propose(st, area, month, per_ward=per_ward, method=method)
    return [
        {
            "ward": c["ward"],
            "problem": c["problem"],
            "place": c["place"],
            "points": c["snap_points"],
        }
        for w in result["wards"]
        for c in w["priorities"]
    ]


def points(c: dict[str, Any]) -> set[Point]:
    return {(s["location"], s["longitude"], s["latitude"]) for s in c["points"]}


def share_line(k: int, n: int) -> str:
    low, high = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
    return f"{k:4d} = {100 * k / n:4.1f}% ({100 * low:4.1f}-{100 * high:4.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", help="a store (default: built from data/sample)")
    parser.add_argument("--area", default="Leicester")
    parser.add_argument("--per-ward", type=int, default=PER_WARD)
    parser.add_argument("--method", default=FORECAST_METHOD, help="forecast method of proposals")
    parser.add_argument("--during", type=int, default=3, help="months each priority runs")
    parser.add_argument("--before-months", type=int, default=BEFORE_MONTHS)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=2, help="processes proposing months")
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected effect")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if args.store is None:
            store_path = build_sample_store(Path(tmp))
            source = "a store built from data/sample"
        elif Path(args.store).exists():
            store_path, source = Path(args.store), args.store
        else:
            raise SystemExit(f"{args.store} not found")
        with Store(store_path, read_only=True) as st:
            stored = q.months_with_data(st, dt.date(1900, 1, 1), dt.date(2100, 1, 1))
            months = cutoffs(stored, args.during, args.before_months)
            if not months:
                raise SystemExit("no month has enough stored months before and after it")
            last = add_months(months[-1], args.during)
            crimes = gather(st, areas_mod.resolve(st, args.area), last, with_concerns=False).crimes
        jobs = [
            (str(store_path), args.area, f"{m:%Y-%m}", args.per_ward, args.method) for m in months
        ]
        # spawn, not fork: polars and DuckDB threads in this process would deadlock a fork
        with ProcessPoolExecutor(
            args.jobs, mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            cohorts = list(pool.map(proposals, jobs))
    proposed_s = time.perf_counter() - started

    rng = np.random.default_rng(args.seed)
    verdicts: dict[tuple[str, bool], list[str]] = {}
    assessed = 0
    for cutoff, cohort in zip(months, cohorts, strict=True):
        start = add_months(cutoff, 1)
        until = add_months(start, args.during - 1)
        new = assessment_windows(stored, start, start, until, args.before_months)
        windows = {
            "old": Windows([], old_before(stored, start, args.before_months), new.during),
            "new": new,
        }
        span = sorted({*windows["old"].before, *new.before, *new.selection, *new.during})
        for c in cohort:
            cohort_points = set().union(
                *(
                    points(o)
                    for o in cohort
                    if o is not c and (o["ward"], o["problem"]) == (c["ward"], c["problem"])
                )
            )
            treated, comparison, _ = monthly_counts(
                crimes, c["ward"], c["problem"], points(c), cohort_points, span
            )
            thinned = dict(treated)
            for m in new.during:
                thinned[m] = int(rng.binomial(treated[m], KEEP))
            assessed += 1
            for name, (window, apart, test) in METHODS.items():
                w = windows[window]
                if not apart:
                    w = Windows([], w.before, w.during)
                for effect, counts in ((False, treated), (True, thinned)):
                    a = assess_counts(counts, comparison, w, args.alpha, test=test)
                    if a.verdict != "not assessable":
                        verdicts.setdefault((name, effect), []).append(a.verdict)

    chance = args.alpha / 2
    print(
        f"{args.area}: top {args.per_ward} per ward (forecast {args.method}) proposed from data up "
        f"to each month {months[0]:%Y-%m} .. {months[-1]:%Y-%m} ({len(months)} months) in {source}; "
        f"every proposal adopted for the month after, no action, assessed after {args.during} "
        f"months; {assessed} proposals; {time.perf_counter() - started:.0f} s "
        f"({proposed_s:.0f} s proposing, {args.jobs} processes)"
    )
    print(
        f"Under no effect a test at alpha = {args.alpha:g} (two-sided) says 'fell more' at most "
        f"{100 * chance:g}% of the time, and 'rose more' at most {100 * chance:g}%."
    )
    print(
        f"{'method':8} {'assessed':>8}  {'fell more: n = %, 95% CI':>27}  "
        f"{'rose more: n = %, 95% CI':>27}  within chance  "
        f"found {100 * (1 - KEEP):g}% cut (fell more)"
    )
    shares = {}
    for name in METHODS:
        v, hit = verdicts[(name, False)], verdicts[(name, True)]
        n, fell, rose = len(v), v.count("fell more"), v.count("rose more")
        ok = all(
            stats.binomtest(k, n).proportion_ci(0.95, method="exact").low <= chance
            for k in (fell, rose)
        )
        shares[name] = (fell, rose, n, ok)
        print(
            f"{name:8} {n:8d}  {share_line(fell, n):>27}  {share_line(rose, n):>27}  "
            f"{'yes' if ok else 'NO':13}  {share_line(hit.count('fell more'), len(hit))}"
        )
    (of, orr, on, _), (nf, nr, nn, new_ok) = shares["old"], shares["new"]

    def ratio(old: int, new: int) -> str:
        if new == 0:
            upper = stats.binomtest(0, nn).proportion_ci(0.95, method="exact").high
            return f"inf (new: none; old share / new's upper 95% bound = {old / on / upper:.1f})"
        return f"{(old / on) / (new / nn):.1f}"

    print(f"false 'fell more', old / new: {ratio(of, nf)}")
    print(f"false 'rose more', old / new: {ratio(orr, nr)}")
    if not new_ok:
        sys.exit("the new method's false claims are more than chance gives")


if __name__ == "__main__":
    main()
