"""Ingest fuzz run: mutated real police.uk files, and for each variant, nothing lost.

Run from the repository root::

    .venv/bin/python benchmarks/ingest_fuzz.py                 # 400 variants + the bombs
    .venv/bin/python benchmarks/ingest_fuzz.py --variants 60   # quicker

Each variant starts from a store already holding real months (the heads of the bundled
2020-01, 2020-02 and 2025-01 street files, and the 2023-06 stop-and-search file) and
imports files made from real ones with mutations: truncations (plain, gzip, zip), stray
rows of other months, duplicate months (identical or not, in one import), blank-line
floods, nested zips, shrunk re-publications (with and without ``replace``), misnamed
months, damaged rows, packed as plain CSVs, ``.csv.gz``, police.uk archive zips or
folders. For every variant it asserts:

* every row is stored, quarantined or counted in an error: an import that succeeds stores
  or quarantines exactly the records Python's ``csv`` module finds in each file (a file
  reported ``duplicate`` or ``unchanged`` has the text of one that is stored), and the
  store's rows and quarantine per file are what the import reports; an import that fails
  leaves every table exactly as it was;
* no stored month shrinks by more than ``SHRINK_TOLERANCE`` unless ``replace`` was given,
  and months no file is the publication of are untouched;
* memory is bounded: the peak traced by ``tracemalloc`` (Python and numpy) per variant.

Then the issue's own inputs (a 31 KB gzip of ~32 million blank lines; a zip member of
2 GiB; a gzip of ~600 MB from 600 KB; 12 million blank lines with the limit raised) are
each imported in a fresh process, whose peak RSS (``getrusage``) is reported.

It prints the number of variants, files and rows checked, rows lost (must be 0), the
outcomes by kind and the memory peaks; exit status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "police-uk" / "leicestershire"
FORCE = "leicestershire"
HEAD = 1500  # rows of each real file used (the whole stop-and-search file: 456)
TRACED_LIMIT_MIB = 256
RSS_LIMIT_MIB = 1024


# --- real inputs ---------------------------------------------------------------------------


def _real(name: str, rows: int | None = HEAD) -> tuple[list[bytes], bytes]:
    data = gzip.decompress((SAMPLE / name).read_bytes())
    eol = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    lines = data.split(eol)[:-1]
    return (lines if rows is None else lines[: rows + 1]), eol


def _join(lines: list[bytes], eol: bytes) -> bytes:
    return eol.join(lines) + eol if lines else b""


def street(month: str) -> tuple[list[bytes], bytes]:
    return _real(f"{month}-{FORCE}-street.csv.gz")


def with_month(lines: list[bytes], month: str, rows: list[int] | None = None) -> list[bytes]:
    """``lines`` with the Month column set to ``month`` (on ``rows``, else on every row)."""
    out = list(lines)
    for i in rows if rows is not None else range(1, len(out)):
        out[i] = _set(out[i], 1, month)
    return out


def _set(line: bytes, column: int, value: str) -> bytes:
    row = next(csv.reader([line.decode("utf-8")]), [])
    if len(row) <= column:  # an empty or damaged line: left as it is
        return line
    row[column] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue().encode("utf-8")


def records(data: bytes) -> int:
    """Records Python's csv module finds after the header (empty lines are none)."""
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    return sum(1 for row in reader if row)


# --- mutations ------------------------------------------------------------------------------

BASES = ("2020-01", "2020-02", "2020-03", "2025-01", "2025-02")
STORED = ("2020-01", "2020-02", "2025-01")


OPS = {  # mutation: weight
    "stray": 6,
    "blank": 4,
    "flood": 2,
    "drop": 4,
    "truncate": 2,
    "damage": 4,
    "rename": 1,
    "half": 1,
}
STYLES = {"plain": 4, "gzip": 6, "zip": 6, "folder": 4, "nested": 1, "cut-zip": 1}


def mutate(rng: random.Random, lines: list[bytes], eol: bytes, month: str) -> tuple[bytes, str]:
    """One file's text after 0-3 random mutations; the month its name gives."""
    lines = list(lines)
    name_month = month
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        op = rng.choices(list(OPS), weights=list(OPS.values()))[0]
        n = len(lines)
        if op == "stray" and n > 2:
            other = rng.choice([m for m in (*BASES, "2021-07", "2019-12") if m != month])
            rows = rng.sample(range(1, n), min(n - 1, rng.choice((1, 5, 20))))
            lines = with_month(lines, other, rows)
        elif op == "blank":
            for _ in range(rng.randint(1, 30)):
                lines.insert(rng.randint(1, n), b"")
        elif op == "flood":
            at = rng.randint(1, n)
            lines[at:at] = [b""] * rng.choice((2_000, 9_000, 12_000, 200_000))
        elif op == "drop" and n > 2:
            share = rng.choice((0.005, 0.015, 0.03, 0.2))
            for i in sorted(rng.sample(range(1, n), int((n - 1) * share)), reverse=True):
                del lines[i]
        elif op == "truncate":
            data = _join(lines, eol)
            return data[: rng.randint(0, len(data))], name_month
        elif op == "damage" and n > 2:
            i = rng.randint(1, n - 1)
            lines[i] = rng.choice(
                (
                    b",".join(lines[i].split(b",")[:5]),  # too few fields
                    lines[i] + b",extra",  # too many
                    _set(lines[i], 5, "99.5"),  # latitude off the UK
                    lines[i].replace(b",", b',"', 1) + b'"',  # needless quotes
                )
            )
        elif op == "rename":
            name_month = rng.choice([m for m in BASES if m != month])
        elif op == "half" and n > 2:  # half the rows of another month: no month holds most
            lines = with_month(lines, "2021-07", list(range(1, n, 2)))
    return _join(lines, eol), name_month


# --- packing --------------------------------------------------------------------------------


def pack(
    rng: random.Random, folder: Path, files: list[tuple[str, bytes]]
) -> tuple[list[Path], dict[str, bytes]]:
    """Write ``files`` (name, text) as plain, gzip, a zip or a nested zip; return the paths to
    import and {name BeatBook reports: text} for every CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    texts: dict[str, bytes] = {}
    paths: list[Path] = []
    style = rng.choices(list(STYLES), weights=list(STYLES.values()))[0]
    if style in ("zip", "nested", "cut-zip"):
        archive = folder / "archive.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for i, (name, data) in enumerate(files):
                member = f"{name[:7]}/{name}"
                if any(f"!{member}" in seen for seen in texts) and rng.random() < 0.8:
                    member = f"copy{i}/{member}"  # else the archive holds two of one name
                zf.writestr(member, data)
                texts[f"{archive}!{member}"] = data
            if style == "nested":
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w") as z2:
                    z2.writestr("x/" + files[0][0], files[0][1])
                zf.writestr("more/inner.zip", inner.getvalue())
        if style == "cut-zip":
            blob = archive.read_bytes()
            archive.write_bytes(blob[: rng.randint(0, len(blob) - 1)])
        return [archive], texts
    for i, (name, data) in enumerate(files):
        sub = folder / f"f{i}"
        sub.mkdir()
        gz = style == "gzip" or (style == "folder" and rng.random() < 0.5)
        path = sub / (name + (".gz" if gz else ""))
        if gz:
            blob = gzip.compress(data, compresslevel=1, mtime=0)
            if rng.random() < 0.1:  # a cut gzip
                blob = blob[: rng.randint(0, len(blob) - 1)]
            path.write_bytes(blob)
        else:
            path.write_bytes(data)
        texts[str(path)] = data
        paths.append(path)
    return ([folder] if style == "folder" else paths), texts


# --- one variant ----------------------------------------------------------------------------


def variant(rng: random.Random, folder: Path) -> tuple[list[Path], dict[str, bytes], bool]:
    """The inputs of one variant, their texts, and whether it imports with replace."""
    files: list[tuple[str, bytes]] = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        month = rng.choice(BASES)
        lines, eol = street(month)
        data, name_month = mutate(rng, lines, eol, month)
        files.append((f"{name_month}-{FORCE}-street.csv", data))
    if rng.random() < 0.25:  # a second file for a month of the import
        name, data = rng.choice(files)
        if rng.random() < 0.5:
            lines, eol = street(name[:7])
            data = _join(with_month(lines, name[:7])[:-3], eol)  # a different publication
        files.append((name, data))
    if rng.random() < 0.15:
        files.append((f"2023-06-{FORCE}-stop-and-search.csv", _join(*_stop_and_search())))
    return *pack(rng, folder, files), rng.random() < 0.2


def _stop_and_search() -> tuple[list[bytes], bytes]:
    return _real(f"2023-06-{FORCE}-stop-and-search.csv.gz", None)


def partitions(store: Any) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(force, month, kind) -> (rows, hash of the rows) of every stored partition."""
    out = {}
    for table, kind in (("street_crimes", "street"), ("stop_searches", "stop-and-search")):
        for force, month, n, h in store.rows(
            f"SELECT force, strftime(month, '%Y-%m'), count(*), sum(hash(t)) FROM {table} t "
            "GROUP BY ALL"
        ):
            out[(force, month, kind)] = (int(n), int(h))
    return out


def fingerprint(store: Any) -> dict[str, tuple[int, int]]:
    tables = [r[0] for r in store.rows("SHOW TABLES")]
    return {
        t: store.first(f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{t}" t') for t in tables
    }


def check(
    store: Any, paths: list[Path], texts: dict[str, bytes], replace: bool, tolerance: float
) -> tuple[str, int, int, list[str]]:
    """Import one variant and check it: (outcome, rows checked, rows lost, problems)."""
    from beatbook.errors import BeatBookError
    from beatbook.ingest.policeuk_csv import ingest

    before, parts = fingerprint(store), partitions(store)
    try:
        results = ingest(store, paths, replace=replace)
    except BeatBookError as exc:
        problems = (
            [] if fingerprint(store) == before else [f"store changed by a refused import: {exc}"]
        )
        EXAMPLES.setdefault(_why(str(exc)), str(exc))
        return f"refused: {type(exc).__name__}: {_why(str(exc))}", 0, 0, problems
    problems: list[str] = []
    checked = lost = 0
    shas: dict[str, bytes] = {}
    for r in results:
        text = texts.get(r.file)
        if text is None:
            problems.append(f"{r.file}: reported but not an input")
            continue
        expected = records(text)
        checked += expected
        if r.status == "stored":
            missing = expected - r.rows_stored - r.rows_quarantined
            lost += max(missing, 0)
            if missing:
                problems.append(
                    f"{r.file}: {expected} records, {r.rows_stored} stored + "
                    f"{r.rows_quarantined} quarantined"
                )
            table = "street_crimes" if r.kind == "street" else "stop_searches"
            got = store.first(f"SELECT count(*) FROM {table} WHERE source_file = ?", [r.file])[0]
            quarantined = store.first(
                "SELECT count(*) FROM quarantine WHERE source_file = ?", [r.file]
            )[0]
            if (got, quarantined) != (r.rows_stored, r.rows_quarantined):
                problems.append(
                    f"{r.file}: store holds {got} + {quarantined}, reported "
                    f"{r.rows_stored} + {r.rows_quarantined}"
                )
            shas[r.file] = text
        elif r.status == "duplicate":
            first = texts.get(r.duplicate_of or "")
            if first is not None and first != text:
                problems.append(f"{r.file}: called a duplicate of a file with other text")
    after = partitions(store)
    published = {(r.force, m, r.kind) for r in results if r.status == "stored" for m in r.months}
    for key, (rows, digest) in parts.items():
        now = after.get(key)
        if key not in published and now != (rows, digest):
            problems.append(f"{key}: changed, yet no file of the import is its publication")
        if now is not None and not replace and now[0] < rows * (1 - tolerance):
            problems.append(f"{key}: shrank from {rows} to {now[0]} rows without replace")
        if now is None:
            problems.append(f"{key}: stored before, gone after")
    return "stored", checked, lost, problems


EXAMPLES: dict[str, str] = {}  # one refusal message per kind (--examples)


def _why(message: str) -> str:
    for key in (
        "were not read",
        "empty lines",
        "zip inside a zip",
        "two different files",
        "would lose more than",
        "name says",
        "no month holds most",
        "truncated or corrupt",
        "not a readable zip",
        "not a valid month",
        "decompresses to",
        "header",
        "empty:",
        "cannot tell which force",
        "UTF-8",
        "quoted value",
        "too long",
    ):
        if key in message:
            return key
    return message.split(": ", 1)[-1][:60]


# --- the inputs, each in a fresh process -----------------------------------------


def bombs(folder: Path) -> dict[str, tuple[list[str], dict[str, int]]]:
    """name -> (paths, limits) of the issue's pathological inputs, built in ``folder``."""
    header, eol = street("2025-01")  # LF line endings, as the blank lines
    head, row = header[0] + eol, header[1] + eol
    made: dict[str, tuple[list[str], dict[str, int]]] = {}
    folder.mkdir(parents=True)
    made["for comparison: one real month (2025-01, 8,448 rows)"] = (
        [str(SAMPLE / f"2025-01-{FORCE}-street.csv.gz")],
        {},
    )
    blank = folder / f"2020-03-{FORCE}-street.csv.gz"
    blank.write_bytes(gzip.compress(head + row + b"\n" * 32_000_000 + row, 9, mtime=0))
    made[f"gzip of 32 million blank lines ({blank.stat().st_size:,} bytes)"] = ([str(blank)], {})
    archive = folder / "bomb.zip"
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(f"2020-03/2020-03-{FORCE}-street.csv", "w", force_zip64=True) as member,
    ):
        member.write(head)
        block = row * ((1 << 20) // len(row))
        for _ in range(2048):
            member.write(block)
    made[f"zip of one 2 GiB member ({archive.stat().st_size:,} bytes)"] = ([str(archive)], {})
    gz = folder / "gz" / f"2020-03-{FORCE}-street.csv.gz"
    gz.parent.mkdir()
    with gzip.open(gz, "wb", compresslevel=9) as fh:
        fh.write(head)
        for _ in range(600):
            fh.write(block)
    made[f"gzip of 600 MiB ({gz.stat().st_size:,} bytes)"] = ([str(gz)], {})
    plain = folder / "plain" / f"2020-03-{FORCE}-street.csv"
    plain.parent.mkdir()
    plain.write_bytes(head + row + b"\n" * 12_000_000 + row)
    made["12 million blank lines, limit raised"] = ([str(plain)], {"max_empty_lines": 20_000_000})
    return made


def _bomb_worker(spec: dict[str, Any]) -> None:
    from beatbook.errors import BeatBookError
    from beatbook.ingest.policeuk_csv import ingest
    from beatbook.ingest.sources import Limits
    from beatbook.store import Store

    t0 = time.perf_counter()
    with Store(spec["db"]) as st:
        try:
            results = ingest(st, spec["paths"], limits=Limits(**spec["limits"]))
            outcome = f"stored {sum(r.rows_stored for r in results)} rows"
        except BeatBookError as exc:
            outcome = f"refused: {_why(str(exc))}"
    print(
        json.dumps(
            {
                "outcome": outcome,
                "seconds": time.perf_counter() - t0,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


# --- main -----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=400)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--no-bombs", action="store_true")
    parser.add_argument("--examples", action="store_true", help="print one message per refusal")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _bomb_worker(json.loads(args.worker))
        return 0

    from beatbook import settings
    from beatbook.ingest.policeuk_csv import ingest
    from beatbook.store import Store

    rng = random.Random(args.seed)
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    files = checked = lost = 0
    traced_peak = 0.0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="beatbook-fuzz-") as tmp:
        root = Path(tmp)
        template = root / "template.duckdb"
        seed_files = []
        for month in STORED:
            lines, eol = street(month)
            path = root / "seed" / f"{month}-{FORCE}-street.csv"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(_join(lines, eol))
            seed_files.append(path)
        seed_files.append(SAMPLE / f"2023-06-{FORCE}-stop-and-search.csv.gz")
        with Store(template) as st:
            ingest(st, seed_files)
        for n in range(args.variants):
            folder = root / f"v{n}"
            paths, texts, replace = variant(rng, folder)
            db = root / "v.duckdb"
            shutil.copyfile(template, db)
            tracemalloc.start()
            with Store(db) as st:
                outcome, rows, missing, found = check(
                    st, paths, texts, replace, settings.SHRINK_TOLERANCE
                )
            traced_peak = max(traced_peak, tracemalloc.get_traced_memory()[1] / (1 << 20))
            tracemalloc.stop()
            outcomes[outcome] += 1
            files += len(texts)
            checked += rows
            lost += missing
            problems += [f"variant {n}: {p}" for p in found]
            shutil.rmtree(folder)
            db.unlink()
        fuzz_seconds = time.perf_counter() - t0
        bomb_runs: dict[str, dict[str, Any]] = {}
        if not args.no_bombs:
            made = bombs(root / "bombs")
            for name, (paths_, limits) in made.items():
                spec = {
                    "db": str(root / f"bomb-{len(bomb_runs)}.duckdb"),
                    "paths": paths_,
                    "limits": limits,
                }
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)],
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                if done.returncode:
                    problems.append(f"{name}: worker failed: {done.stderr[-300:]}")
                    continue
                bomb_runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
                if bomb_runs[name]["peak_rss_mib"] > RSS_LIMIT_MIB:
                    problems.append(f"{name}: peak RSS {bomb_runs[name]['peak_rss_mib']:.0f} MiB")
    if traced_peak > TRACED_LIMIT_MIB:
        problems.append(f"traced memory peaked at {traced_peak:.0f} MiB")

    print(
        f"variants tried: {args.variants} (seed {args.seed}), {files} files, "
        f"{checked:,} rows checked, in {fuzz_seconds:.0f} s"
    )
    print(f"rows lost: {lost}")
    print(f"peak traced memory of a variant: {traced_peak:.1f} MiB (limit {TRACED_LIMIT_MIB})")
    print("outcomes:")
    for outcome, count in outcomes.most_common():
        print(f"  {count:5d}  {outcome}")
    if bomb_runs:
        print("the issue's inputs, each in a fresh process:")
        for name, run in bomb_runs.items():
            print(
                f"  {name}: {run['outcome']}, {run['seconds']:.1f} s, "
                f"peak RSS {run['peak_rss_mib']:.0f} MiB"
            )
    if args.examples:
        for why, message in EXAMPLES.items():
            print(f"example ({why}): {message}")
    for problem in problems[:40]:
        print("PROBLEM", problem)
    print(f"problems: {len(problems)}")
    return 1 if problems or lost else 0


if __name__ == "__main__":
    sys.exit(main())
