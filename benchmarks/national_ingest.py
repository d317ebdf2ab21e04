"""Importing one more national month into a national store (``national.py``): the 44
forces' street files of the month after the store's last, packed as a police.uk archive,
imported by ``beatbook ingest`` in a fresh process, then again (resuming)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from archive_ingest import member, write_archive

SRC = Path(__file__).resolve().parents[1] / "src"

# --------------------------------------------------------------------------------------
# Importing one more national month
# --------------------------------------------------------------------------------------

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
STREET_ROWS = """
SELECT crime_id, reported_by, falls_within, longitude, latitude, location, lsoa_code,
       lsoa_name, crime_type, last_outcome, context
FROM street_crimes WHERE month = $month AND force = $force ORDER BY source_line
"""


def _street_csv(rows: list[tuple[Any, ...]], month: str) -> bytes:
    """police.uk's street CSV of ``rows`` (coordinates to 6 places, as police.uk prints)."""
    text = io.StringIO()
    text.write(STREET_HEADER)
    writer = csv.writer(text, lineterminator="\n")
    for crime_id, reported, falls, lon, lat, *rest in rows:
        coords = ["" if v is None else f"{v:.6f}" for v in (lon, lat)]
        writer.writerow([crime_id, month, reported, falls, *coords, *rest])
    return text.getvalue().encode("utf-8")


def build_month_archive(store: Path, folder: Path) -> dict[str, Any]:
    """police.uk's archive of the month after the store's last: each force's street file,
    its rows of the store's last month re-dated (module doc). Named as police.uk names it."""
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    last, forces = con.execute(
        "SELECT max(month), list(DISTINCT force ORDER BY force) FROM partitions "
        "WHERE kind = 'street'"
    ).fetchone()  # type: ignore[misc]
    year, index = divmod(last.year * 12 + last.month, 12)
    month = f"{dt.date(year, index + 1, 1):%Y-%m}"
    path = folder / f"{month}.zip"
    members = []
    for force in forces:
        rows = con.execute(STREET_ROWS, {"month": last, "force": force}).fetchall()
        members.append((member(month, force, "street"), _street_csv(rows, month)))
    con.close()
    built = write_archive(path, members)
    found = {"month": month, "from_month": f"{last:%Y-%m}", "path": str(path)}
    return {**found, "zip_bytes": path.stat().st_size, **built}


# ``beatbook ingest`` as the CLI runs it, in this fresh process; aggregates.refresh is wrapped
# from outside to time it, and the process's own CPU and peak RSS are written to argv[1].
INGEST_WORKER = r"""
import json, resource, sys, time
from beatbook import aggregates
refresh, spent = aggregates.refresh, []
def timed(con):
    start = time.perf_counter()
    refresh(con)
    spent.append(time.perf_counter() - start)
aggregates.refresh = timed
from beatbook.cli.main import main
report, sys.argv = sys.argv[1], ["beatbook", *sys.argv[2:]]
try:
    main()
finally:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    with open(report, "w") as f:
        json.dump({"refresh_s": sum(spent), "refresh_calls": len(spent),
                   "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss_kib": ru.ru_maxrss}, f)
"""


def ingest_archive(store: Path, archive: Path) -> dict[str, Any]:
    """``beatbook ingest ARCHIVE --json`` into ``store`` in a fresh process, measured."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rusage.json"
        cmd = [sys.executable, "-c", INGEST_WORKER, str(report), "--store", str(store)]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        done = subprocess.run(
            [*cmd, "ingest", str(archive), "--json"],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"ingest failed: {done.stderr[-2000:]}")
        usage = json.loads(report.read_text())
    results = json.loads(done.stdout)
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    rows = sum(r["rows_stored"] for r in results)
    return {
        "rows": rows,
        "statuses": statuses,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "cpu_s": round(usage["cpu_s"], 2),
        "peak_rss_mib": round(usage["peak_rss_kib"] / 1024),
        "refresh_s": round(usage["refresh_s"], 2),
        "refresh_calls": usage["refresh_calls"],
        "load_1min": round(max(load, os.getloadavg()[0]), 2),
    }


def measure_ingest(store: Path) -> dict[str, Any]:
    """One more national month into ``store``, then the same archive again (resuming)."""
    with tempfile.TemporaryDirectory(dir=store.parent) as tmp:
        archive = build_month_archive(store, Path(tmp))
        first = ingest_archive(store, Path(archive["path"]))
        again = ingest_archive(store, Path(archive["path"]))
    archive.pop("path")
    return {"archive": archive, "first": first, "again": again}


def report_ingest(ingest: dict[str, Any]) -> None:
    a, first, again = ingest["archive"], ingest["first"], ingest["again"]
    print(
        f"ingest {a['month']} (the 44 forces' {a['from_month']} rows re-dated): "
        f"{a['members']} members, {a['text_bytes'] / 2**20:.0f} MiB of text, "
        f"{a['zip_bytes'] / 2**20:.0f} MiB zipped"
    )
    for label, r in (("first", first), ("again", again)):
        print(
            f"  {label}: {r['rows']:,} rows in {r['seconds']} s ({r['rows_per_s']:,} rows/s), "
            f"CPU {r['cpu_s']} s, peak RSS {r['peak_rss_mib']:,} MiB, aggregates.refresh "
            f"{r['refresh_s']} s ({r['refresh_calls']} calls), {r['statuses']}, "
            f"load {r['load_1min']}"
        )


def ingest_table(sizes: list[dict[str, Any]]) -> None:
    print("\nstore rows   imported      s     rows/s   CPU s  peak RSS  refresh s  resume s")
    for size in sizes:
        first, again = size["ingest"]["first"], size["ingest"]["again"]
        print(
            f"{size['store']['street_rows'] / 1e6:>8.1f} M {first['rows']:>10,} "
            f"{first['seconds']:>6.1f} {first['rows_per_s']:>10,} {first['cpu_s']:>7.1f} "
            f"{first['peak_rss_mib']:>5,} MiB {first['refresh_s']:>10.2f} {again['seconds']:>9.1f}"
        )
