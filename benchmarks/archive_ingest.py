"""Archive ingest benchmark: police.uk's archive zip, as published, at increasing sizes.

Run from the repository root::

    .venv/bin/python benchmarks/archive_ingest.py               # 1, 4, 16 and 44 forces
    .venv/bin/python benchmarks/archive_ingest.py --forces 1 4  # a quicker look

Each archive is laid out as police.uk lays out its own: 12 month folders (the real
Leicestershire street months of 2020 from the shared data), each holding
``YYYY-MM-<force>-street.csv`` and ``-outcomes.csv`` for every force: the real street file
under each force's name, and an outcomes file made from its rows with a Crime ID and a
last outcome (police.uk's outcomes header; no real outcomes file is in the shared data).
Every archive is imported into a fresh store by ``beatbook.ingest.policeuk_csv.ingest`` in
its own process (``benchmarks/ingest.py --worker``), so its peak RSS
(``getrusage().ru_maxrss``) is that import's alone; then the largest is imported again
into its store (every member ``unchanged``: what resuming an interrupted import costs).
Figures are printed and written to ``benchmarks/out/archive_ingest.json``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

from ingest import DEFAULT_DATA, OUT_DIR, _machine, _run_worker, _table

MONTHS = [f"2020-{m:02d}" for m in range(1, 13)]
OUTCOMES_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Outcome type\n"
)


def _outcomes(street: bytes) -> bytes:
    out = io.StringIO()
    out.write(OUTCOMES_HEADER)
    writer = csv.writer(out, lineterminator="\n")
    rows = csv.reader(io.StringIO(street.decode("utf-8"), newline=""))
    next(rows)
    for values in rows:
        if values and values[0] and values[10]:
            writer.writerow([*values[:9], values[10]])
    return out.getvalue().encode("utf-8")


def member(month: str, force: str, kind: str) -> str:
    """A member's name in police.uk's layout: ``2020-01/2020-01-<force>-street.csv``."""
    return f"{month}/{month}-{force}-{kind}.csv"


def write_archive(path: Path, members: Iterable[tuple[str, bytes]]) -> dict[str, int]:
    """A zip of ``(name, text)`` members (fast deflate); its text bytes and members."""
    size = count = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, text in members:
            zf.writestr(name, text)
            size, count = size + len(text), count + 1
    return {"text_bytes": size, "members": count}


def build(data: Path, path: Path, forces: int) -> dict[str, int]:
    """An archive of the 12 months for ``forces`` forces; its text bytes and members."""
    texts = {}
    for month in MONTHS:
        street = gzip.decompress(
            (
                data / "police-uk" / "leicestershire" / f"{month}-leicestershire-street.csv.gz"
            ).read_bytes()
        )
        texts[month] = (street, _outcomes(street))
    return write_archive(
        path,
        (
            (member(month, f"force{n:02d}", kind), text)
            for month, (street, outcomes) in texts.items()
            for n in range(forces)
            for kind, text in (("street", street), ("outcomes", outcomes))
        ),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--forces", type=int, nargs="+", default=[1, 4, 16, 44])
    ap.add_argument("--tmp", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=OUT_DIR / "archive_ingest.json")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="beatbook-archive-", dir=args.tmp))
    report: dict[str, object] = {"machine": _machine(), "runs": []}
    runs: list[dict[str, object]] = []
    try:
        for forces in args.forces:
            archive = tmp / f"{forces:02d}" / "2020-12.zip"
            archive.parent.mkdir()
            t0 = time.perf_counter()
            built = build(args.data.resolve(), archive, forces)
            print(
                f"{forces} forces: archive of {built['members']} members, "
                f"{built['text_bytes'] / 2**20:,.0f} MiB of text, "
                f"{archive.stat().st_size / 2**20:,.0f} MiB zipped "
                f"({time.perf_counter() - t0:.0f} s to build)",
                flush=True,
            )
            db = tmp / f"{forces:02d}.duckdb"
            r = _run_worker("beatbook", [str(archive)], db)
            r.update(built, forces=forces, zip_bytes=archive.stat().st_size)
            runs.append(r)
            print(
                f"  {r['rows']:,} rows {r['seconds']:.1f} s "
                f"({r['rows'] / r['seconds']:,.0f} rows/s) "
                f"peak RSS {r['peak_rss_kib'] / 1024:,.0f} MiB",
                flush=True,
            )
            if forces == max(args.forces):
                again = _run_worker("beatbook_rerun", [str(archive)], db)
                again.update(forces=forces, rerun=True)
                runs.append(again)
                print(
                    f"  again: {again['seconds']:.1f} s, {again['statuses']}, peak RSS "
                    f"{again['peak_rss_kib'] / 1024:,.0f} MiB",
                    flush=True,
                )
            db.unlink(missing_ok=True)
            shutil.rmtree(archive.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["runs"] = runs
    rows = [
        [
            f"{r['forces']}" + (" (again)" if r.get("rerun") else ""),
            f"{r.get('members', '')}",
            f"{r.get('text_bytes', 0) / 2**20:,.0f}" if not r.get("rerun") else "",
            f"{r['rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows'] / r['seconds']:,.0f}" if r["rows"] else "",
            f"{r['cpu_seconds']:.1f}",
            f"{r['peak_rss_kib'] / 1024:,.0f}",
            f"{r['rss_before_kib'] / 1024:,.0f}",
        ]
        for r in runs
    ]
    print()
    print(
        _table(
            [
                "forces",
                "members",
                "text MiB",
                "rows",
                "s",
                "rows/s",
                "CPU s",
                "peak RSS MiB",
                "RSS at start MiB",
            ],
            rows,
        )
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
