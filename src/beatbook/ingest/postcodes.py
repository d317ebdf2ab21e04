"""Import an ONS postcode directory (NSPL or ONSPD): postcode -> LSOA, and postcode areas.

ONS publishes every UK postcode with the LSOA it falls in. The file is read as ONS ships
it (a CSV, gzipped, or the download's zip), columns found by their ONS names: the
postcode (``pcds`` 'LE3 0AA', else ``pcd``/``pcd7``/``pcd2``/``pcd8``), the LSOA (the
newest of ``lsoa21``/``lsoa21cd``/``lsoa11``/``lsoa11cd``), ``lat``/``long`` and ``doterm``
(the month a terminated postcode stopped). Terminated postcodes are skipped and counted.
Like every reference file it is all-or-nothing: the first bad row rejects the file with
its line and column, and a re-import replaces both tables in one transaction.

Two tables come of it: ``postcodes`` (postcode, lsoa_code, longitude, latitude), which
the public search reads, and ``postcode_units``: for each postcode area ('LE') and
district ('LE3') the LSOAs its live postcodes fall in, with how many, and whether the
LSOA is *assigned* to it. An LSOA is assigned to the unit holding most of its postcodes
(ties: the first in alphabetical order), so each LSOA lies in exactly one postcode area
and one district (docs/statistics.md, postcode areas).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from beatbook.errors import CSVFormatError, InputError
from beatbook.store import Store

POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd2", "pcd8")  # first found is used
LSOA_COLUMNS = ("lsoa21", "lsoa21cd", "lsoa11", "lsoa11cd")  # newest vintage first
POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}"
NO_LSOA = r"[A-Z]?99999999"  # ONS pseudo code: a postcode outside any LSOA
NO_PLACE = 99.999999  # ONS latitude of a postcode without a grid reference
LEVELS = {"area": "^[A-Z]{1,2}", "district": "^[^ ]+"}  # unit of a postcode, by level
TABLES_EXIST = (
    "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('postcodes', 'postcode_units')"
)


def _header(store: Store, path: Path, csv: Path) -> dict[str, str]:
    """Lower-case ONS column name -> the column as written."""
    try:
        names = store.rows(
            "DESCRIBE SELECT * FROM read_csv(?, header = true, all_varchar = true, delim = ',')",
            [str(csv)],
        )
    except duckdb.Error as exc:
        raise CSVFormatError(
            str(path), f"cannot be read as CSV: {str(exc).splitlines()[0]}"
        ) from exc
    return {str(n[0]).strip().lstrip("\ufeff").lower(): str(n[0]) for n in names}


def _pick(path: Path, columns: dict[str, str], wanted: tuple[str, ...], what: str) -> str:
    found = next((columns[w] for w in wanted if w in columns), None)
    if found is None:
        raise CSVFormatError(
            str(path),
            f"is not an ONS postcode directory (NSPL or ONSPD): no {what} column "
            f"(expected one of {', '.join(wanted)}; found {', '.join(list(columns)[:8])})",
            line=1,
        )
    return found


@contextmanager
def _csv_of(path: Path) -> Iterator[Path]:
    """The CSV to read: the file itself (plain or .gz), or the directory's CSV from the
    ONS zip (``Data/NSPL_..._UK.csv``; the only CSV when there is one), unpacked to a
    temporary folder removed afterwards."""
    if not zipfile.is_zipfile(path):
        yield path
        return
    with zipfile.ZipFile(path) as zf:
        csvs = [n for n in zf.namelist() if n.lower().endswith(".csv")]
        whole = [n for n in csvs if re.search(r"(^|/)[^/]*_UK\.csv$", n, re.I)]
        chosen = whole if len(whole) == 1 else csvs if len(csvs) == 1 else []
        if not chosen:
            raise InputError(
                f"{path}: expected the ONS download (one Data/*_UK.csv) or a zip of one CSV; "
                f"found {len(csvs)} CSV files ({', '.join(csvs[:4])})"
            )
        with tempfile.TemporaryDirectory(prefix="beatbook-postcodes-") as tmp:
            target = Path(tmp) / "directory.csv"
            with zf.open(chosen[0]) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, length=1 << 20)
            yield target


_NUMBER = "{c} <> '' AND (TRY_CAST({c} AS DOUBLE) IS NULL OR abs(TRY_CAST({c} AS DOUBLE)) > {m})"
_CHECKS = (  # (field, condition over pc_stage that makes a row bad, what was expected)
    (
        "postcode",
        f"pc IS NULL OR NOT regexp_full_match(pc, '{POSTCODE}')",
        "not a postcode (expected e.g. LE3 0AA)",
    ),
    (
        "doterm",
        "term <> '' AND NOT regexp_full_match(term, '(19|20)[0-9]{2}(0[1-9]|1[0-2])')",
        "not a termination month (expected YYYYMM, or empty for a live postcode)",
    ),
    (
        "lsoa",
        "lsoa <> '' AND NOT regexp_full_match(lsoa, '[A-Z][0-9]{8}')",
        "not an LSOA code (expected e.g. E01012345, or empty)",
    ),
    ("lat", _NUMBER.format(c="lat", m=100), "not a latitude"),
    ("long", _NUMBER.format(c="lon", m=180), "not a longitude"),
)


def import_postcodes(store: Store, path: str | Path) -> dict[str, Any]:
    """Load an ONS postcode directory, replacing any stored one; return what was loaded:
    file, lsoa_column, live, terminated, without_lsoa, areas, districts, summary."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with _csv_of(path) as csv:
        columns = _header(store, path, csv)
        pc = _pick(path, columns, POSTCODE_COLUMNS, "postcode")
        lsoa = _pick(path, columns, LSOA_COLUMNS, "LSOA")
        term = columns.get("doterm")
        lat, lon = (_pick(path, columns, (c,), c) for c in ("lat", "long"))
        with store.transaction() as con:
            _stage(con, path, csv, pc, lsoa, term, lat, lon)
            names = {"postcode": pc, "doterm": term or "doterm", "lsoa": lsoa}
            for field, condition, problem in _CHECKS:
                bad = con.execute(
                    f"SELECT _line, raw FROM pc_stage WHERE {condition} ORDER BY _line LIMIT 1"
                ).fetchone()
                if bad:
                    raise CSVFormatError(
                        str(path),
                        f"{problem}: {bad[1]!r}",
                        line=int(bad[0]),
                        column=names.get(field, lat if field == "lat" else lon),
                    )
            dup = con.execute(
                "SELECT pc, min(_line), max(_line) FROM pc_stage WHERE term = '' "
                "GROUP BY pc HAVING count(*) > 1 ORDER BY 2 LIMIT 1"
            ).fetchone()
            if dup:
                raise CSVFormatError(
                    str(path),
                    f"live postcode {dup[0]} appears twice (also on line {dup[1]})",
                    line=int(dup[2]),
                    column=pc,
                )
            counts = _write(con)
    vintage = "2021" if "21" in lsoa else "2011"
    counts.update(file=str(path), lsoa_column=lsoa)
    counts["summary"] = (
        f"loaded {counts['live']:,} live postcodes ({counts['without_lsoa']:,} without an "
        f"LSOA; LSOA {vintage} codes from column {lsoa}) in {counts['areas']:,} postcode areas "
        f"and {counts['districts']:,} districts; skipped {counts['terminated']:,} terminated "
        f"postcodes, from {path}"
    )
    return counts


def _stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    csv: Path,
    pc: str,
    lsoa: str,
    term: str | None,
    lat: str,
    lon: str,
) -> None:
    """The directory's columns as text in temp table ``pc_stage``, with file line numbers
    and the postcode normalised: upper case, one space before the last three characters."""
    squeezed = f"upper(replace(trim(\"{pc}\"), ' ', ''))"
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE pc_stage AS
            SELECT row_number() OVER () + 1 AS _line,
                   CASE WHEN length({squeezed}) BETWEEN 5 AND 7
                        THEN left({squeezed}, -3) || ' ' || right({squeezed}, 3) END AS pc,
                   coalesce(trim({f'"{term}"' if term else "''"}), '') AS term,
                   coalesce(trim("{lsoa}"), '') AS lsoa,
                   coalesce(trim("{lat}"), '') AS lat, coalesce(trim("{lon}"), '') AS lon,
                   concat_ws(',', "{pc}", "{lsoa}", "{lat}", "{lon}") AS raw
            FROM read_csv(?, header = true, all_varchar = true, delim = ',', quote = '"')
            """,
            [str(csv)],
        )
    except duckdb.Error as exc:
        raise CSVFormatError(
            str(path), f"cannot be read as CSV: {str(exc).splitlines()[0]}"
        ) from exc


def _write(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Replace ``postcodes`` and ``postcode_units`` from the checked stage (the caller's
    transaction); the counts of what was written."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE postcodes AS
        SELECT pc AS postcode,
               CASE WHEN lsoa = '' OR regexp_full_match(lsoa, '{NO_LSOA}') THEN NULL
                    ELSE lsoa END AS lsoa_code,
               CASE WHEN lat = '' OR CAST(lat AS DOUBLE) = {NO_PLACE} THEN NULL
                    ELSE CAST(lon AS DOUBLE) END AS longitude,
               CASE WHEN lat = '' OR CAST(lat AS DOUBLE) = {NO_PLACE} THEN NULL
                    ELSE CAST(lat AS DOUBLE) END AS latitude
        FROM pc_stage WHERE term = '' ORDER BY pc
        """
    )
    units = " UNION ALL ".join(
        f"SELECT '{level}' AS level, regexp_extract(postcode, '{rx}') AS unit, lsoa_code "
        "FROM postcodes WHERE lsoa_code IS NOT NULL"
        for level, rx in LEVELS.items()
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE postcode_units AS
        WITH n AS (SELECT level, unit, lsoa_code, count(*)::INTEGER AS postcodes
                   FROM ({units}) GROUP BY ALL)
        SELECT *, row_number() OVER (PARTITION BY level, lsoa_code
                                     ORDER BY postcodes DESC, unit) = 1 AS assigned
        FROM n ORDER BY level, unit, lsoa_code
        """
    )
    live, no_lsoa = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE lsoa_code IS NULL) FROM postcodes"
    ).fetchone() or (0, 0)
    terminated = con.execute("SELECT count(*) FROM pc_stage WHERE term <> ''").fetchone()
    areas, districts = con.execute(
        "SELECT count(DISTINCT unit) FILTER (WHERE level = 'area' AND assigned), "
        "count(DISTINCT unit) FILTER (WHERE level = 'district' AND assigned) FROM postcode_units"
    ).fetchone() or (0, 0)
    con.execute("DROP TABLE pc_stage")
    return {
        "live": int(live),
        "terminated": int(terminated[0]) if terminated else 0,
        "without_lsoa": int(no_lsoa),
        "areas": int(areas),
        "districts": int(districts),
    }


def postcode_units(
    store: Store, named: str | None = None, level: str | None = None
) -> list[dict[str, Any]]:
    """Each postcode area and district that is assigned LSOAs, as the fields of an
    ``areas.Area`` (name 'LE postcode area', kind 'postcode area', code 'LE',
    description, lsoa_codes); ``named`` (lower case) keeps the one with that name or code.
    [] before a directory is imported."""
    if store.scalar(TABLES_EXIST) < 2:
        return []
    rows = store.rows(
        """
        SELECT level, unit, list(lsoa_code ORDER BY lsoa_code) FILTER (WHERE assigned),
               sum(postcodes) FILTER (WHERE assigned), sum(postcodes)
        FROM postcode_units
        WHERE ($level IS NULL OR level = $level)
          AND ($named IS NULL OR lower(unit) = $named
               OR lower(unit) || ' postcode ' || level = $named)
        GROUP BY level, unit HAVING bool_or(assigned) ORDER BY level, unit
        """,
        {"named": named, "level": level},
    )
    return [
        {
            "name": f"{unit} postcode {lvl}",
            "kind": f"postcode {lvl}",
            "code": unit,
            "description": (
                f"postcode {lvl} {unit}: the {len(codes)} LSOAs most of whose postcodes are in "
                f"it ({inside:,} of its {total:,} postcodes lie in them; ONS postcode directory)"
            ),
            "lsoa_codes": frozenset(codes),
        }
        for lvl, unit, codes, inside, total in rows
    ]
