"""Ingest benchmark: BeatBook's police.uk street-CSV import against a raw DuckDB load.

Run from the repository root::

    .venv/bin/python benchmarks/ingest.py            # full run (~10 min on 2 cores)
    .venv/bin/python benchmarks/ingest.py --quick    # scale run only up to ~1.1 M rows

What it measures (see benchmarks/README.md for how to read the figures):

1. Real run: the 44 shared Leicestershire street months (383,225 rows) ingested
   into a fresh store, against two baselines measured in the same run: a raw
   ``CREATE TABLE t AS SELECT * FROM read_csv([...], header=true, all_varchar=true)``
   and the same with auto-detected column types. Every variant runs in its own
   subprocess (so its peak RSS is its own), ``--repeats`` times, alternating;
   the median is reported.
2. Re-run: the same files ingested again into the same store (all 'unchanged').
3. Scale run: the real months copied under new force names (one partition per
   copy) and ingested in batches of 1, 3, 9 and 27 copies (~0.38 M .. 10.3 M rows),
   each into a fresh store in its own subprocess, plus the all-varchar baseline
   at the largest size.

Figures are printed as a table and written to ``benchmarks/out/ingest.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / ".." / "shared" / "data"
STREET_GLOB = "police-uk/leicestershire/*-street.csv.gz"
OUT_DIR = REPO / "benchmarks" / "out"
TARGET_RATIO = 1.5
SCALE_COPIES = (1, 3, 9, 27)
QUICK_MAX_COPIES = 3

BASELINES = {
    "duckdb_varchar": "header = true, all_varchar = true",
    "duckdb_auto": "header = true",
}


# --------------------------------------------------------------------------------------
# Worker side: one variant, run in a fresh interpreter, reporting one JSON line.
# --------------------------------------------------------------------------------------


def _rss_now_kib() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss // 1024)
    except ImportError:  # pragma: no cover - psutil is a dev dependency
        return 0


def _peak_rss_kib() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024 if sys.platform == "darwin" else peak)  # bytes on macOS


def _cpu_s() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measured variant in this (fresh) process."""
    variant, inputs, db = spec["variant"], spec["inputs"], Path(spec["db"])
    if variant in ("beatbook", "beatbook_rerun"):
        # What `beatbook ingest` has loaded before it starts: the CLI imports pandas (through
        # its analysis libraries), which pyarrow would otherwise import inside the timed work
        # the first time it builds an array (0.4 s).
        import beatbook.cli.main  # noqa: F401
        from beatbook.ingest.policeuk_csv import ingest
        from beatbook.store import Store

        if variant == "beatbook" and db.exists():
            db.unlink()
        rss_before, cpu0, load0 = _rss_now_kib(), _cpu_s(), os.getloadavg()[0]
        t0 = time.perf_counter()
        with Store(db) as st:
            results = ingest(st, inputs)
        seconds = time.perf_counter() - t0
        statuses: dict[str, int] = {}
        for r in results:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        out = {
            "rows": sum(r.rows_stored for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "files": len(results),
            "statuses": statuses,
        }
    elif variant in BASELINES:
        import duckdb

        if db.exists():
            db.unlink()
        rss_before, cpu0, load0 = _rss_now_kib(), _cpu_s(), os.getloadavg()[0]
        t0 = time.perf_counter()
        con = duckdb.connect(str(db))
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv(?, {BASELINES[variant]})", [inputs])
        row = con.execute("SELECT count(*) FROM t").fetchone()
        con.close()
        seconds = time.perf_counter() - t0
        out = {"rows": int(row[0]) if row else 0, "files": len(inputs)}
    else:
        raise SystemExit(f"unknown variant {variant}")
    out.update(
        variant=variant,
        seconds=seconds,
        cpu_seconds=_cpu_s() - cpu0,
        load_before=load0,
        peak_rss_kib=_peak_rss_kib(),
        rss_before_kib=rss_before,
        db_bytes=db.stat().st_size if db.exists() else 0,
    )
    return out


def _run_worker(variant: str, inputs: list[str], db: Path) -> dict[str, Any]:
    """Measure one variant in its own subprocess (its own peak RSS)."""
    spec = json.dumps({"variant": variant, "inputs": inputs, "db": str(db)})
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", spec],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{variant} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------
# Driver side
# --------------------------------------------------------------------------------------


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    secs = [r["seconds"] for r in runs]
    median = statistics.median(secs)
    rows = runs[0]["rows"]
    return {
        "variant": runs[0]["variant"],
        "rows": rows,
        "runs": len(runs),
        "seconds_median": median,
        "seconds_min": min(secs),
        "seconds_max": max(secs),
        "rows_per_s": rows / median if median else None,
        "cpu_seconds_median": statistics.median(r["cpu_seconds"] for r in runs),
        "load_before_median": statistics.median(r["load_before"] for r in runs),
        "peak_rss_mib": statistics.median(r["peak_rss_kib"] for r in runs) / 1024,
        "rss_before_mib": statistics.median(r["rss_before_kib"] for r in runs) / 1024,
        "db_mib": runs[-1]["db_bytes"] / 2**20,
        "statuses": runs[-1].get("statuses"),
        "rows_quarantined": runs[-1].get("rows_quarantined"),
        "all_runs": runs,
    }


def _machine() -> dict[str, Any]:
    import duckdb

    try:
        import psutil

        mem_gib = psutil.virtual_memory().total / 2**30
    except ImportError:  # pragma: no cover
        mem_gib = None
    try:
        import beatbook

        bb_version = getattr(beatbook, "__version__", "?")
    except ImportError:  # pragma: no cover
        bb_version = "not importable"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(mem_gib, 1) if mem_gib else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "beatbook": bb_version,
        "git_commit": commit or None,
    }


def _make_copies(files: list[Path], root: Path, copies: int) -> list[Path]:
    """Copies of the real gz files under new force names, one folder per copy.

    The importer skips a file whose bytes (sha256) it already stored, whatever its
    name says, so byte-identical copies would all be 'unchanged'. Each copy
    therefore gets a different gzip header MTIME (bytes 4-7, not covered by any
    checksum unless FHCRC is set): the compressed stream and the decompressed CSV
    are byte-for-byte the real file, only the file's sha256 differs.
    """
    dirs = []
    for n in range(1, copies + 1):
        d = root / f"copy{n:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for f in files:
            data = bytearray(f.read_bytes())
            if data[:2] != b"\x1f\x8b" or data[3] & 0x02:  # not gzip, or header CRC
                raise SystemExit(f"{f}: expected a gzip file without header CRC")
            data[4:8] = (1_000_000 + n).to_bytes(4, "little")
            month = f.name[:7]
            (d / f"{month}-leicestershire-copy{n:02d}-street.csv.gz").write_bytes(data)
        dirs.append(d)
    return dirs


def _fmt_row(cells: list[str], widths: list[int]) -> str:
    pairs = enumerate(zip(cells, widths, strict=True))
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = [_fmt_row(header, widths), _fmt_row(["-" * w for w in widths], widths)]
    lines += [_fmt_row(r, widths) for r in rows]
    return "\n".join(lines)


def _profile(files: list[Path], tmp: Path) -> dict[str, float]:
    """Where ingest time goes: wall time per step of the importer (one in-process run).

    Each step is a method of ``policeuk_csv._Import``, ``_Batch``, ``staging.Staged`` or a
    module function, timed by wrapping it. (SQL statements cannot be timed by wrapping the connection: the
    staging table is found by DuckDB's replacement scan in the caller's frame.)
    """
    from beatbook.ingest import policeuk_csv, staging
    from beatbook.store import Store

    times: dict[str, float] = {}

    def add(key: str, dt_: float) -> None:
        times[key] = times.get(key, 0.0) + dt_

    def timed(key: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                add(key, time.perf_counter() - t)

        return wrapper

    steps = {  # (owner, attribute): label
        (policeuk_csv, "read_header"): "read headers (python gzip)",
        (policeuk_csv._Import, "_stored"): "stored partitions (for unchanged files)",
        (policeuk_csv, "file_sha256"): "sha256 of file bytes",
        (policeuk_csv._Import, "_scan"): "scan: each file's text once, bounded (python zlib)",
        (staging.Staged, "_stage"): "stage: read_csv of the batch, once, to Arrow",
        (staging.Staged, "_read_rejects"): "rejected lines",
        (staging.Staged, "_tally"): "tally: rows per file and month, every line counted",
        (staging.Staged, "_force_for"): "force of each file",
        (policeuk_csv._Batch, "_replace"): "replace: delete old partitions, INSERT, bookkeeping",
        (
            policeuk_csv._Batch,
            "_add_row_columns",
        ): "  of which: force, file and line columns (numpy)",
    }
    originals = {key: getattr(*key) for key in steps}
    for (owner, name), label in steps.items():
        setattr(owner, name, timed(label, originals[(owner, name)]))
    db = tmp / "profile.duckdb"
    try:
        t0 = time.perf_counter()
        st = Store(db)
        t1 = time.perf_counter()
        policeuk_csv.ingest(st, files)
        t2 = time.perf_counter()
        st.close()
        t3 = time.perf_counter()
    finally:
        for (owner, name), fn in originals.items():
            setattr(owner, name, fn)
    add("open store + schema", t1 - t0)
    add("close (checkpoint)", t3 - t2)
    nested = {
        "sha256 of file bytes",
        "search for empty lines (only if bytes do not add up)",
        "  of which: force, file and line columns (numpy)",
    }
    outside = {"open store + schema", "close (checkpoint)"} | nested
    accounted = sum(v for k, v in times.items() if k not in outside)
    add("other (BEGIN/COMMIT, finding files, python)", (t2 - t1) - accounted)
    times["TOTAL"] = t3 - t0
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="shared data folder (default: ../shared/data from the repo root)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help=f"scale run only up to {QUICK_MAX_COPIES} copies (~1.1 M rows)",
    )
    ap.add_argument("--repeats", type=int, default=5, help="runs per variant in the real run")
    ap.add_argument(
        "--no-profile",
        action="store_true",
        help="skip the per-statement time breakdown of one real ingest",
    )
    ap.add_argument("--tmp", type=Path, default=None, help="scratch folder (default: system tmp)")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "ingest.json")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    files = sorted((args.data.resolve()).glob(STREET_GLOB))
    if not files:
        raise SystemExit(f"no street CSVs matching {STREET_GLOB} under {args.data.resolve()}")
    inputs = [str(f) for f in files]
    machine = _machine()
    started = time.perf_counter()
    _say(f"{len(files)} street files under {args.data.resolve()}")
    _say("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()))

    tmp = Path(tempfile.mkdtemp(prefix="beatbook-bench-", dir=args.tmp))
    report: dict[str, Any] = {
        "machine": machine,
        "target_ratio": TARGET_RATIO,
        "data": str(args.data.resolve()),
        "files": len(files),
    }
    try:
        # 1. Real run ------------------------------------------------------------------
        variants = ["beatbook", *BASELINES]
        runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
        store = tmp / "real.duckdb"
        for i in range(1, args.repeats + 1):
            for v in variants:
                db = store if v == "beatbook" else tmp / f"{v}.duckdb"
                r = _run_worker(v, inputs, db)
                runs[v].append(r)
                _say(
                    f"real run {i}/{args.repeats} {v:15s} {r['rows']:>10,} rows "
                    f"{r['seconds']:7.2f} s  peak RSS {r['peak_rss_kib'] / 1024:7.0f} MiB"
                )
        real = {v: _summary(rs) for v, rs in runs.items()}
        ours = real["beatbook"]["seconds_median"]
        for v in BASELINES:
            real[v]["ratio_ours_over_this"] = ours / real[v]["seconds_median"]
            real[v]["cpu_ratio_ours_over_this"] = (
                real["beatbook"]["cpu_seconds_median"] / real[v]["cpu_seconds_median"]
            )
        report["real"] = real

        # 2. Re-run (idempotence): same files into the same store ----------------------
        rerun = []
        for i in range(1, args.repeats + 1):
            r = _run_worker("beatbook_rerun", inputs, store)
            rerun.append(r)
            _say(f"re-run {i}/{args.repeats} {r['seconds']:.2f} s statuses {r['statuses']}")
        report["rerun"] = _summary(rerun)

        # 3. Scale run ----------------------------------------------------------------
        copies = [c for c in SCALE_COPIES if not args.quick or c <= QUICK_MAX_COPIES]
        _say(f"writing {max(copies)} copies of the {len(files)} real files ...")
        copy_dirs = _make_copies(files, tmp / "copies", max(copies))
        scale = []
        for c in copies:
            _say(
                f"scale: ingesting {c} cop{'y' if c == 1 else 'ies'} "
                f"({c * len(files)} files) into a fresh store ..."
            )
            r = _run_worker("beatbook", [str(d) for d in copy_dirs[:c]], tmp / f"scale{c}.duckdb")
            r["copies"] = c
            scale.append(r)
            (tmp / f"scale{c}.duckdb").unlink(missing_ok=True)
            _say(
                f"  {r['rows']:,} rows {r['seconds']:.1f} s "
                f"({r['rows'] / r['seconds']:,.0f} rows/s) peak RSS "
                f"{r['peak_rss_kib'] / 1024:.0f} MiB statuses {r['statuses']}"
            )
        biggest = max(copies)
        big_files = sorted(str(p) for d in copy_dirs[:biggest] for p in d.glob("*.csv.gz"))
        _say(f"scale: duckdb_varchar baseline on {biggest} copies ...")
        base = _run_worker("duckdb_varchar", big_files, tmp / "scale_baseline.duckdb")
        base["copies"] = biggest
        _say(
            f"  {base['rows']:,} rows {base['seconds']:.1f} s "
            f"peak RSS {base['peak_rss_kib'] / 1024:.0f} MiB"
        )
        report["scale"] = {
            "beatbook": scale,
            "duckdb_varchar": base,
            "ratio_at_largest": scale[-1]["seconds"] / base["seconds"],
        }

        # Profile -----------------------------------------------------------------------
        if not args.no_profile:
            _say("profile: one in-process ingest of the real files, timed per statement ...")
            report["profile_seconds"] = _profile(files, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["benchmark_seconds"] = time.perf_counter() - started

    # Report ------------------------------------------------------------------------------
    print()
    print("Machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()))
    print()
    n = args.repeats
    print(
        f"1. Real run: {len(files)} street months, median of {n} runs each (own subprocess per run)"
    )
    rows = []
    for v, s in real.items():
        ratio = "" if v == "beatbook" else f"{s['ratio_ours_over_this']:.2f}"
        rows.append(
            [
                v,
                f"{s['rows']:,}",
                f"{s['seconds_median']:.2f}",
                f"{s['seconds_min']:.2f}-{s['seconds_max']:.2f}",
                f"{s['rows_per_s']:,.0f}",
                f"{s['cpu_seconds_median']:.2f}",
                f"{s['load_before_median']:.1f}",
                f"{s['peak_rss_mib']:.0f}",
                f"{s['rss_before_mib']:.0f}",
                f"{s['db_mib']:.1f}",
                ratio,
            ]
        )
    print(
        _table(
            [
                "variant",
                "rows",
                "s (median)",
                "s (min-max)",
                "rows/s",
                "CPU s",
                "load",
                "peak RSS MiB",
                "RSS at start MiB",
                "db MiB",
                "ours/this",
            ],
            rows,
        )
    )
    r_var = real["duckdb_varchar"]["ratio_ours_over_this"]
    r_auto = real["duckdb_auto"]["ratio_ours_over_this"]
    print(
        f"ratio ours/duckdb_varchar = {r_var:.2f} (target <= {TARGET_RATIO}: "
        f"{'MET' if r_var <= TARGET_RATIO else 'NOT MET'}); "
        f"ours/duckdb_auto = {r_auto:.2f} "
        f"({'MET' if r_auto <= TARGET_RATIO else 'NOT MET'})"
    )
    cpu_ratio = real["duckdb_varchar"]["cpu_ratio_ours_over_this"]
    print(f"CPU-time ratio ours/duckdb_varchar = {cpu_ratio:.2f} (less sensitive to other load)")
    q = real["beatbook"]["rows_quarantined"]
    print(f"beatbook stored {real['beatbook']['rows']:,} rows, quarantined {q:,}")
    print()
    rr = report["rerun"]
    print(
        f"2. Re-run of the same {len(files)} files into the same store: median "
        f"{rr['seconds_median']:.2f} s (min-max {rr['seconds_min']:.2f}-{rr['seconds_max']:.2f}),"
        f" {rr['seconds_median'] / ours:.0%} of a first ingest; statuses {rr['statuses']}; "
        f"peak RSS {rr['peak_rss_mib']:.0f} MiB"
    )
    print()
    print(
        "3. Scale run: real months copied under new force names, one fresh store per batch,"
        " one run each"
    )
    rows = []
    for r in scale:
        rows.append(
            [
                f"beatbook x{r['copies']}",
                f"{r['files']:,}",
                f"{r['rows']:,}",
                f"{r['seconds']:.1f}",
                f"{r['rows'] / r['seconds']:,.0f}",
                f"{r['cpu_seconds']:.1f}",
                f"{r['load_before']:.1f}",
                f"{r['peak_rss_kib'] / 1024:.0f}",
                f"{r['db_bytes'] / 2**20:.0f}",
            ]
        )
    rows.append(
        [
            f"duckdb_varchar x{biggest}",
            f"{base['files']:,}",
            f"{base['rows']:,}",
            f"{base['seconds']:.1f}",
            f"{base['rows'] / base['seconds']:,.0f}",
            f"{base['cpu_seconds']:.1f}",
            f"{base['load_before']:.1f}",
            f"{base['peak_rss_kib'] / 1024:.0f}",
            f"{base['db_bytes'] / 2**20:.0f}",
        ]
    )
    print(
        _table(
            ["variant", "files", "rows", "s", "rows/s", "CPU s", "load", "peak RSS MiB", "db MiB"],
            rows,
        )
    )
    ratio_big = report["scale"]["ratio_at_largest"]
    print(
        f"ratio ours/duckdb_varchar at {scale[-1]['rows']:,} rows = {ratio_big:.2f} "
        f"(target <= {TARGET_RATIO}: {'MET' if ratio_big <= TARGET_RATIO else 'NOT MET'})"
    )
    if "profile_seconds" in report:
        print()
        print("Profile: one in-process ingest of the real files (wall seconds per step)")
        prof = report["profile_seconds"]
        total = prof["TOTAL"]
        print(
            _table(
                ["step", "s", "share"],
                [
                    [k, f"{v:.2f}", f"{v / total:.0%}"]
                    for k, v in sorted(prof.items(), key=lambda kv: -kv[1])
                ],
            )
        )
    print()
    print(f"benchmark took {report['benchmark_seconds'] / 60:.1f} min")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
