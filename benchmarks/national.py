"""National scale: the figures' commands on stores of 10 M, 30 M and 90 M street rows.

Run from the repository root::

    .venv/bin/python benchmarks/national.py --dir /tmp/national            # build + measure
    .venv/bin/python benchmarks/national.py --dir /tmp/national --sizes 10 \\
        --baseline-src /tmp/before/src                                     # before vs after

How a store is made (see benchmarks/README.md, "National scale (issue 19)"):

1. **Ingest once.** The 44 real Leicestershire street months (``--data``,
   383,225 rows) go into a base store with ``beatbook ingest``, with the national ONS
   lookups and populations from ``data/sample/ons`` (``beatbook areas import-*``).
2. **Replicate inside DuckDB.** A copy of the base store gets its street rows replaced by
   the 44 forces' (the 43 of ``reference/lad_forces.csv`` and british-transport-police),
   each with the same run of months ending 2025-09, long enough to reach the size. Month
   ``j`` back from 2025-09 takes the rows of the ``j mod 44``-th real month (newest first,
   so 2025-01 … 2025-09 are the real months). A territorial force's rows are moved into its
   own districts: the real month's LSOAs (of its code vintage, 2011 before 2023, 2021 after)
   are numbered in code order and LSOA ``i`` of ``m`` becomes the force's
   ``floor(i * n / m)``-th of its ``n`` LSOAs of the same vintage in the ONS lookup (code
   order), with its name and district: spread over all its districts. Leicestershire keeps its own
   rows; British Transport Police (no districts) keeps the Leicestershire LSOAs.
   Coordinates, snap points, Crime IDs and outcomes are the real rows'. One ``INSERT …
   SELECT`` per month writes every force's rows of that month, as an archive import would.
3. **Counts.** ``aggregates.rebuild`` fills ``monthly_counts`` (timed).

Each command is timed as the CLI runs it (a fresh ``python -m beatbook.cli.main`` process,
best of ``--repeats``) and as a library call (one process, best of ``--repeats``). With
``--baseline-src`` the same is done with that copy of ``src/`` (the code before the
change) on the same store, interleaved, and the JSON outputs of both are compared.

Then one more national month is imported into the store by ``beatbook ingest``, as a
police.uk archive: the month after the store's last, a street file for each of the 44
forces holding that force's rows of the store's last month (the real month, as the
replication placed it) with the new month's date, in the published layout
(``archive_ingest.write_archive``). The CLI runs in a fresh process (wall s, rows/s, CPU s,
peak RSS, and the seconds in ``aggregates.refresh``, timed by wrapping the function from
outside); then the same archive again (every member ``unchanged``: what resuming costs).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from national_ingest import ingest_table, measure_ingest, report_ingest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
ONS = REPO / "data" / "sample" / "ons"
LAD_FORCES = REPO / "src" / "beatbook" / "reference" / "lad_forces.csv"
OUT = REPO / "benchmarks" / "out" / "national.json"
LAST_MONTH = dt.date(2025, 9, 1)
EXTRA_FORCES = ("british-transport-police",)  # police.uk's 44th force: no districts

# What is timed: the CLI arguments and the library call of each figure.
DISTRICT, CITY, PERIOD, YEAR, MONTH = (
    "Leicester",
    "Leicester",
    ("2024-10", "2025-09"),
    2024,
    "2025-06",
)
TARGETS = {"stats": 1.5, "areas list": 1.5, "rank": 5.0, "brief": 10.0, "hotspots": 8.0}


def _commands(scope_national: bool, out_dir: str) -> dict[str, list[str]]:
    rank = ["rank", "--area", DISTRICT, "--from", PERIOD[0], "--to", PERIOD[1], "--json"]
    return {
        "stats": ["stats", "--area", DISTRICT, "--from", PERIOD[0], "--to", PERIOD[1], "--json"],
        "areas list": ["areas", "list", "--json"],
        "rank": rank + (["--scope", "national"] if scope_national else []),
        "brief": [
            "brief",
            "--area",
            DISTRICT,
            "--year",
            str(YEAR),
            "--compare-year",
            str(YEAR - 1),
            "--out",
            out_dir,
            "--json",
        ],
        "hotspots": ["hotspots", "--area", CITY, "--month", MONTH, "--json"],
    }


# --------------------------------------------------------------------------------------
# Building the stores
# --------------------------------------------------------------------------------------


def _beatbook(store: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    cmd = [sys.executable, "-m", "beatbook.cli.main", "--store", str(store), *args]
    subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=REPO)


def build_base(data: Path, base: Path) -> float:
    """The real months and the national ONS tables, imported by BeatBook itself."""
    start = time.perf_counter()
    base.unlink(missing_ok=True)
    _beatbook(base, "ingest", *map(str, sorted(data.glob("police-uk/leicestershire/*-street*"))))
    _beatbook(base, "areas", "import-lookup", str(ONS / "lsoa11-ward19-lad19-ew.csv.gz"))
    _beatbook(base, "areas", "import-lookup", str(ONS / "lsoa11-lsoa21-lad22-ew.csv.gz"))
    for file, year in (
        ("lsoa11-population-mid2019-ew", 2019),
        ("lsoa21-population-mid2022-ew", 2022),
    ):
        _beatbook(
            base, "areas", "import-population", str(ONS / f"{file}.csv.gz"), "--year", str(year)
        )
    boundaries = ONS / "boundaries" / "lsoa11-E06000016-leicester.geojson.gz"
    _beatbook(base, "areas", "import-boundaries", str(boundaries))
    return time.perf_counter() - start


COLUMNS = (
    "force, month, crime_id, reported_by, falls_within, longitude, latitude, location, "
    "lsoa_code, lsoa_name, local_authority, crime_type, last_outcome, context, "
    "source_file, source_line"
)

PREPARE = f"""
CREATE TEMP TABLE src AS SELECT * FROM street_crimes WHERE force = 'leicestershire';
CREATE TEMP TABLE src_months AS
    SELECT month AS source_month, row_number() OVER (ORDER BY month DESC) - 1 AS idx
    FROM (SELECT DISTINCT month FROM src);
CREATE TEMP TABLE lad_force AS
    SELECT DISTINCT lad_code, force FROM read_csv('{LAD_FORCES}', all_varchar = true);
CREATE TEMP TABLE forces AS SELECT * FROM (VALUES {{forces}}) t(force, falls_within);
CREATE TEMP TABLE target AS
    SELECT f.force, l.vintage, l.lsoa_code, l.lsoa_name,
           row_number() OVER (PARTITION BY f.force, l.vintage ORDER BY l.lsoa_code) - 1 AS k,
           count(*) OVER (PARTITION BY f.force, l.vintage) AS n
    FROM lsoa_lookup l JOIN lad_force f USING (lad_code) WHERE f.force <> 'leicestershire';
CREATE TEMP TABLE lsoa_map AS
    WITH s AS (
        SELECT vintage, lsoa_code, row_number() OVER (PARTITION BY vintage ORDER BY lsoa_code) - 1 AS i,
               count(*) OVER (PARTITION BY vintage) AS m
        FROM (SELECT DISTINCT CASE WHEN month < DATE '2023-01-01' THEN 2011 ELSE 2021 END AS vintage,
                     lsoa_code FROM src WHERE lsoa_code IS NOT NULL))
    SELECT t.force, s.vintage, s.lsoa_code AS src_code, t.lsoa_code, t.lsoa_name
    FROM s JOIN target t ON t.vintage = s.vintage AND t.k = s.i * t.n // s.m;
DELETE FROM street_crimes; DELETE FROM crime_repeats; DELETE FROM monthly_counts;
DELETE FROM partitions WHERE kind = 'street';
"""

INSERT_MONTH = f"""
INSERT INTO street_crimes ({COLUMNS})
SELECT f.force, $month::DATE, s.crime_id, s.reported_by,
       CASE f.force WHEN 'leicestershire' THEN s.falls_within ELSE f.falls_within END,
       s.longitude, s.latitude, s.location,
       coalesce(m.lsoa_code, s.lsoa_code), coalesce(m.lsoa_name, s.lsoa_name),
       CASE WHEN m.lsoa_code IS NULL THEN s.local_authority
            ELSE nullif(regexp_extract(m.lsoa_name, '^(.*) [0-9]{{3}}[A-Z]$', 1), '') END,
       s.crime_type, s.last_outcome, s.context,
       strftime($month::DATE, '%Y-%m') || '-' || f.force || '-street.csv', s.source_line
FROM src s CROSS JOIN forces f
LEFT JOIN lsoa_map m
    ON m.force = f.force AND m.src_code = s.lsoa_code
   AND m.vintage = CASE WHEN s.month < DATE '2023-01-01' THEN 2011 ELSE 2021 END
WHERE s.month = $source
ORDER BY f.force, s.source_line
"""

PARTITIONS = """
INSERT INTO partitions (force, month, kind, source_file, source_sha256, rows_stored,
                        rows_quarantined, ingested_at)
SELECT force, month, 'street', any_value(source_file), 'replicated by benchmarks/national.py',
       count(*), 0, now()
FROM street_crimes GROUP BY force, month
"""


def build_national(base: Path, dest: Path, million_rows: float) -> dict[str, Any]:
    """A copy of ``base`` replicated to about ``million_rows`` street rows (module doc)."""
    import duckdb

    shutil.copyfile(base, dest)
    con = duckdb.connect(str(dest))
    with LAD_FORCES.open(encoding="utf-8") as f:
        ids = sorted({row["force"] for row in csv.DictReader(f)} | set(EXTRA_FORCES))
    named = ", ".join(f"('{i}', '{i.replace('-', ' ').title()} Police')" for i in ids)
    con.execute(PREPARE.format(forces=named))
    n_forces = con.execute("SELECT count(*) FROM forces").fetchone()[0]  # type: ignore[index]
    per_force_month = con.execute("SELECT count(*) / 44 FROM src").fetchone()[0]  # type: ignore[index]
    months = math.ceil(million_rows * 1e6 / (n_forces * per_force_month))
    sources = dict(con.execute("SELECT idx, source_month FROM src_months").fetchall())
    start = time.perf_counter()
    for j in range(months):
        year, index = divmod(LAST_MONTH.year * 12 + LAST_MONTH.month - 1 - j, 12)
        month = dt.date(year, index + 1, 1)
        con.execute(INSERT_MONTH, {"month": month, "source": sources[j % len(sources)]})
    con.execute(PARTITIONS)
    replicate_s = time.perf_counter() - start
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM street_crimes").fetchone()[0]  # type: ignore[index]
    con.close()
    sys.path.insert(0, str(REPO / "src"))
    from beatbook import aggregates
    from beatbook.store import Store

    start = time.perf_counter()
    with Store(dest) as st, st.transaction() as con2:
        aggregates.rebuild(con2)
    counts_s = time.perf_counter() - start
    con = duckdb.connect(str(dest))
    con.execute("CHECKPOINT")
    counts = con.execute("SELECT count(*) FROM monthly_counts").fetchone()[0]  # type: ignore[index]
    con.close()
    size = dest.stat().st_size
    return {
        "street_rows": rows,
        "forces": n_forces,
        "months_per_force": months,
        "first_month": f"{month:%Y-%m}",
        "replicate_s": round(replicate_s, 1),
        "monthly_counts_rows": counts,
        "monthly_counts_build_s": round(counts_s, 1),
        "store_bytes": size,
        "store_mb_per_million_rows": round(size / 2**20 / (rows / 1e6), 1),
    }


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------

LIBRARY_WORKER = r"""
import json, sys, tempfile, time
from pathlib import Path
store_path, repeats, scope_national = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
DISTRICT, CITY, FROM, TO, YEAR, MONTH = json.loads(sys.argv[4])
from beatbook import areas
from beatbook.figures import hotspots, stats
from beatbook.publish import brief
from beatbook.store import Store
out = Path(tempfile.mkdtemp())
rank_kw = {"scope": "national"} if scope_national else {}
calls = {
    "stats": lambda st: stats.area_stats(st, DISTRICT, FROM, TO),
    "areas list": lambda st: [a.to_dict() for a in areas.list_areas(st)],
    "rank": lambda st: stats.rank_area(st, DISTRICT, FROM, TO, **rank_kw),
    "brief": lambda st: brief.write_brief(st, DISTRICT, YEAR, YEAR - 1, out, seed=0).facts,
    "hotspots": lambda st: hotspots.hotspots(st, CITY, MONTH),
}
result = {}
with Store(store_path, read_only=True) as st:
    for name, call in calls.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call(st)
            times.append(time.perf_counter() - start)
        result[name] = times
print(json.dumps(result))
"""


def _env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src)}


def _scope_national(src: Path) -> bool:
    """Whether this code's ``rank`` has ``--scope national`` (issue 19, helper 'rank')."""
    help_text = subprocess.run(
        [sys.executable, "-m", "beatbook.cli.main", "rank", "--help"],
        env={**_env(src), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "--scope" in help_text


def time_cli(store: Path, src: Path, repeats: int) -> dict[str, Any]:
    """Each command in a fresh process, best of ``repeats``; and its JSON output."""
    scope = _scope_national(src)
    found: dict[str, Any] = {"rank_scope_national": scope, "cli": {}, "outputs": {}}
    with tempfile.TemporaryDirectory() as out_dir:
        for name, args in _commands(scope, out_dir).items():
            times = []
            for _ in range(repeats):
                cmd = [sys.executable, "-m", "beatbook.cli.main", "--store", str(store), *args]
                start = time.perf_counter()
                done = subprocess.run(cmd, env=_env(src), capture_output=True, text=True)
                times.append(time.perf_counter() - start)
                if done.returncode:
                    raise SystemExit(f"{name} failed ({src}): {done.stderr[-2000:]}")
            found["cli"][name] = times
            found["outputs"][name] = done.stdout
            found.setdefault("stdout_is_only_json", {})[name] = _json(done.stdout) == done.stdout
    return found


def time_library(store: Path, src: Path, repeats: int, scope: bool) -> dict[str, list[float]]:
    args = json.dumps([DISTRICT, CITY, *PERIOD, YEAR, MONTH])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LIBRARY_WORKER,
            str(store),
            str(repeats),
            "1" if scope else "0",
            args,
        ],
        env=_env(src),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"library calls failed ({src}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.splitlines()[-1]))  # DuckDB may print progress first


def _json(text: str) -> str:
    """The JSON document a command printed, from its first line that opens one (old code let
    DuckDB print its progress bar on stdout before it)."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line[:1] in "{["), 0)
    return "".join(lines[first:])


def _same(a: str, b: str) -> bool:
    """Whether two JSON outputs agree (the brief's paths to its files aside)."""

    def clean(text: str) -> Any:
        data = json.loads(_json(text))
        return (
            {k: v for k, v in data.items() if "path" not in k} if isinstance(data, dict) else data
        )

    return bool(clean(a) == clean(b))


def measure(store: Path, codes: dict[str, Path], repeats: int) -> dict[str, Any]:
    """Every command with every code, CLI rounds interleaved (before, after, before, ...)
    so the machine's load hits both alike, then the library calls; outputs compared with
    the first code's."""
    result: dict[str, Any] = {}
    for _ in range(repeats):
        for label, src in codes.items():
            cli = time_cli(store, src, 1)
            if label in result:
                for name, times in cli["cli"].items():
                    result[label]["cli"][name] += times
            else:
                result[label] = cli
    for label, src in codes.items():
        scope = result[label]["rank_scope_national"]
        result[label]["library"] = time_library(store, src, repeats, scope)
    first = next(iter(result.values()))["outputs"]
    for found in result.values():
        found["same_output_as_" + next(iter(result))] = {
            name: _same(first[name], text) for name, text in found["outputs"].items()
        }
        found.pop("outputs")
    return result


def _machine() -> dict[str, Any]:
    import duckdb

    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "load_1min": round(os.getloadavg()[0], 2),
    }


def _report(size: dict[str, Any], timings: dict[str, Any]) -> None:
    print(
        f"\n{size['street_rows'] / 1e6:.1f} M street rows, {size['forces']} forces x "
        f"{size['months_per_force']} months ({size['first_month']} .. {LAST_MONTH:%Y-%m}); "
        f"store {size['store_bytes'] / 2**30:.2f} GiB = {size['store_mb_per_million_rows']} MiB "
        f"per million rows; monthly_counts {size['monthly_counts_rows'] / 1e6:.2f} M rows "
        f"(built in {size['monthly_counts_build_s']} s)"
    )
    labels = list(timings)
    head = "command".ljust(12) + "".join(f"{lab + ' cli':>14}{lab + ' lib':>14}" for lab in labels)
    print(head + "  target")
    for name, target in TARGETS.items():
        cells = "".join(
            f"{min(timings[lab]['cli'][name]):>14.2f}{min(timings[lab]['library'][name]):>14.2f}"
            for lab in labels
        )
        met = "met" if min(timings[labels[-1]]["cli"][name]) <= target else "NOT met"
        print(f"{name:<12}{cells}  <= {target} s ({met}, {labels[-1]} cli)")
    for lab in labels:
        same = {k: v for k, v in timings[lab].items() if k.startswith(("same_output", "stdout"))}
        print(f"{lab}: rank --scope national: {timings[lab]['rank_scope_national']}; {same}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, required=True, help="scratch folder for the stores")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="10,30,90", help="millions of street rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="a copy of src/ before the change")
    parser.add_argument("--keep", action="store_true", help="keep the stores for another run")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    base = args.dir / "base.duckdb"
    report: dict[str, Any] = {"machine": _machine(), "sizes": []}
    if not base.exists():
        report["base_build_s"] = round(build_base(args.data, base), 1)
    codes = {"after": REPO / "src"}
    if args.baseline_src:
        codes = {"before": args.baseline_src.resolve(), **codes}
    for size in (float(s) for s in args.sizes.split(",")):
        store = args.dir / f"national-{size:g}M.duckdb"
        if store.exists() and (store.with_suffix(".json")).exists():
            built = json.loads(store.with_suffix(".json").read_text())
        else:
            print(f"building {store} ...", flush=True)
            built = build_national(base, store, size)
            store.with_suffix(".json").write_text(json.dumps(built))
        load = os.getloadavg()[0]
        timings = measure(store, codes, args.repeats)
        load = round(max(load, os.getloadavg()[0]), 2)
        print(f"load average (1 min) before/after the timings, the larger: {load}")
        _report(built, timings)
        ingest = measure_ingest(store)
        report_ingest(ingest)
        report["sizes"].append(
            {"store": built, "timings": timings, "load_1min": load, "ingest": ingest}
        )
        if not args.keep:
            store.unlink()
            store.with_suffix(".json").unlink()
    ingest_table(report["sizes"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
