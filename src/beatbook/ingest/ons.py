"""Import ONS reference data: LSOA lookups and LSOA population estimates.

ONS lookup files name their columns after the geography and its year
(``LSOA11CD``, ``WD19NM``, ``LAD22CD``), so the importer recognises a file
by those names rather than by position. A lookup with two LSOA vintages
(2011 and 2021) is the exact-fit bridge between them.

Reference files are all-or-nothing: one bad row rejects the file with its
line number, and the store keeps what it had.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from beatbook.errors import CSVFormatError, InputError
from beatbook.store import Store

LSOA_CODE = "[EWN]0[0-9]{7}"
_GEO_COLUMN = re.compile(r"^(LSOA|WD|LAD)(\d\d)(CD|NM)$", re.I)


def _read_columns(store: Store, path: Path, header: bool) -> list[str]:
    try:
        rel = store.rows(
            "DESCRIBE SELECT * FROM read_csv(?, header = ?, all_varchar = true, delim = ',')",
            [str(path), header],
        )
    except duckdb.Error as exc:
        raise CSVFormatError(
            str(path), f"cannot be read as CSV: {str(exc).splitlines()[0]}"
        ) from exc
    return [r[0] for r in rel]


def _load(con: duckdb.DuckDBPyConnection, path: Path, header: bool) -> None:
    """Stage the file as text in temp table ``ref`` with its file line numbers."""
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE ref AS SELECT row_number() OVER () + ? AS _line, * "
            "FROM read_csv(?, header = ?, all_varchar = true, delim = ',')",
            [1 if header else 0, str(path), header],
        )
    except duckdb.Error as exc:
        raise CSVFormatError(
            str(path), f"cannot be read as CSV: {str(exc).splitlines()[0]}"
        ) from exc


def _first_bad(con: duckdb.DuckDBPyConnection, condition: str) -> tuple[int, str] | None:
    row = con.execute(
        f"SELECT _line, * FROM ref WHERE {condition} ORDER BY _line LIMIT 1"
    ).fetchone()
    return (int(row[0]), str(row[2:])) if row else None


def import_lookup(store: Store, path: str | Path) -> str:
    """Load an ONS LSOA → ward → local authority lookup, or the LSOA 2011 → 2021 bridge.

    Returns a one-line summary. Rows for the same (vintage, LSOA) replace what
    was stored; ward columns already known are kept when the new file has none.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    columns = _read_columns(store, path, header=True)
    geo: dict[tuple[str, str], dict[str, str]] = {}
    for name in columns:
        m = _GEO_COLUMN.match(name.strip().lstrip("\ufeff"))
        if m:
            geo.setdefault((m[1].upper(), m[2]), {})[m[3].upper()] = name
    lsoa_years = sorted(y for (g, y) in geo if g == "LSOA")
    if not lsoa_years or not any(g == "LAD" for g, _ in geo):
        raise CSVFormatError(
            str(path),
            "is not an ONS LSOA lookup: expected columns like LSOA11CD, LSOA11NM, WD19CD, "
            f"WD19NM, LAD19CD, LAD19NM (found {', '.join(columns[:8])})",
            line=1,
        )
    lad_year = max(y for g, y in geo if g == "LAD")
    ward_years = [y for g, y in geo if g == "WD"]
    lsoa_year = lsoa_years[-1]  # with two vintages, the lookup describes the newer one

    def column(g: str, y: str, part: str) -> str:
        name = geo.get((g, y), {}).get(part)
        return f'"{name}"' if name else "NULL"

    code = column("LSOA", lsoa_year, "CD")
    with store.transaction() as con:
        _load(con, path, header=True)
        bad = _first_bad(con, f"NOT regexp_full_match(coalesce({code}, ''), '{LSOA_CODE}')")
        if bad:
            raise CSVFormatError(
                str(path),
                f"not an LSOA code (expected e.g. E01012345): {bad[1][:80]}",
                line=bad[0],
                column=code.strip('"'),
            )
        ward_cd = column("WD", ward_years[0], "CD") if ward_years else "NULL"
        ward_nm = column("WD", ward_years[0], "NM") if ward_years else "NULL"
        ward_year = f"{2000 + int(ward_years[0])}" if ward_years else "NULL"
        con.execute(
            f"""
            INSERT INTO lsoa_lookup
            SELECT DISTINCT ON ({code}) {code}, {column("LSOA", lsoa_year, "NM")},
                   {2000 + int(lsoa_year)}, {ward_cd}, {ward_nm}, {ward_year}::INTEGER,
                   {column("LAD", lad_year, "CD")}, {column("LAD", lad_year, "NM")},
                   {2000 + int(lad_year)}, ?
            FROM ref ORDER BY {code}
            ON CONFLICT (vintage, lsoa_code) DO UPDATE SET
                lsoa_name = excluded.lsoa_name,
                ward_code = coalesce(excluded.ward_code, lsoa_lookup.ward_code),
                ward_name = coalesce(excluded.ward_name, lsoa_lookup.ward_name),
                ward_year = coalesce(excluded.ward_year, lsoa_lookup.ward_year),
                lad_code = excluded.lad_code, lad_name = excluded.lad_name,
                lad_year = excluded.lad_year, source_file = excluded.source_file
            """,
            [str(path)],
        )
        n_lsoa = store.scalar(f"SELECT count(DISTINCT {code}) FROM ref")
        summary = f"{n_lsoa:,} LSOAs ({2000 + int(lsoa_year)} codes)"
        if len(lsoa_years) >= 2:
            old = column("LSOA", lsoa_years[0], "CD")
            change = next((f'"{c}"' for c in columns if c.upper() == "CHGIND"), "NULL")
            con.execute(
                f"INSERT OR REPLACE INTO lsoa_bridge SELECT DISTINCT {old}, {code}, {change} "
                f"FROM ref WHERE {old} IS NOT NULL"
            )
            summary += f", bridged to {2000 + int(lsoa_years[0])} codes"
        if ward_years:
            n_wards = store.scalar(f"SELECT count(DISTINCT {ward_cd}) FROM ref")
            summary += f", {n_wards:,} wards ({2000 + int(ward_years[0])})"
        n_lads = store.scalar(f"SELECT count(DISTINCT {column('LAD', lad_year, 'CD')}) FROM ref")
        con.execute("DROP TABLE ref")
    return f"loaded {summary}, {n_lads:,} local authorities ({2000 + int(lad_year)}) from {path}"


def import_population(store: Store, path: str | Path, year: int) -> str:
    """Load ONS mid-year population estimates by LSOA for ``year`` (replacing that year).

    Accepts ``code,population`` with or without a header row (ONS files
    carried by others often have a UTF-8 BOM and no header).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not 1900 <= year <= 2100:
        raise InputError(f"--year {year}: expected the year of the mid-year estimate, e.g. 2019")
    first = _read_columns(store, path, header=True)
    has_header = not re.fullmatch(LSOA_CODE, first[0].strip().lstrip("\ufeff"))
    columns = _read_columns(store, path, header=has_header)
    if has_header:
        lowered = [c.lower().lstrip("\ufeff") for c in columns]
        code_i = next(
            (i for i, c in enumerate(lowered) if "lsoa" in c and ("cd" in c or "code" in c)), None
        )
        pop_i = next(
            (i for i, c in enumerate(lowered) if "population" in c or c == "all ages"), None
        )
        if code_i is None or pop_i is None:
            raise CSVFormatError(
                str(path),
                "expected an LSOA code column (e.g. 'lsoacd') and a 'population' column, "
                f"found {', '.join(columns[:6])}",
                line=1,
            )
    else:
        if len(columns) < 2:
            raise CSVFormatError(str(path), "expected two columns: LSOA code, population", line=1)
        code_i, pop_i = 0, 1
    code, pop = f'"{columns[code_i]}"', f'"{columns[pop_i]}"'
    with store.transaction() as con:
        _load(con, path, header=has_header)
        checks = [
            (
                f"NOT regexp_full_match(coalesce(trim({code}), ''), '{LSOA_CODE}')",
                code,
                "not an LSOA code (expected e.g. E01012345)",
            ),
            (
                f"TRY_CAST(replace({pop}, ',', '') AS DOUBLE) IS NULL "
                f"OR TRY_CAST(replace({pop}, ',', '') AS DOUBLE) < 0",
                pop,
                "population is not a non-negative number",
            ),
        ]
        for condition, column, problem in checks:
            bad = _first_bad(con, condition)
            if bad:
                raise CSVFormatError(
                    str(path), f"{problem}: {bad[1][:80]}", line=bad[0], column=column.strip('"')
                )
        dup = con.execute(
            f"SELECT trim({code}), count(*) FROM ref GROUP BY 1 HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        if dup:
            raise CSVFormatError(str(path), f"LSOA {dup[0]} appears {dup[1]} times")
        con.execute("DELETE FROM population WHERE year = ?", [year])
        con.execute(
            f"INSERT INTO population SELECT trim({code}), ?, "
            f"CAST(replace({pop}, ',', '') AS DOUBLE), ? FROM ref",
            [year, str(path)],
        )
        n, total = store.row(
            "SELECT count(*), sum(population) FROM population WHERE year = ?", [year]
        )
        con.execute("DROP TABLE ref")
    return f"loaded mid-{year} population for {n:,} LSOAs (total {total:,.0f}) from {path}"
