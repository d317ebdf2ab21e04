"""ONS postcode directory import and postcode areas (issue 19).

The extract ``data/sample/ons/nspl-nov2021-hr-ld-extract.csv.gz`` is 32 real NSPL
(November 2021) rows, verbatim (data/sample/README.md says where from). Expected figures
come from the raw file through the csv module and from the raw ONS population file
(``raw_db``), never from BeatBook. The majority rule is checked on generated directories
(hypothesis) against a plain-Python count.
"""

from __future__ import annotations

import csv
import gzip
import shutil
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beatbook import areas
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.errors import CSVFormatError, DataMissingError, InputError, UnknownAreaError
from beatbook.figures.stats import rank_area
from beatbook.ingest.postcodes import import_postcodes
from beatbook.store import Store
from support.fixtures_store import ONS, raw_scalar

EXTRACT = ONS / "nspl-nov2021-hr-ld-extract.csv.gz"


def raw_rows() -> list[dict[str, str]]:
    with gzip.open(EXTRACT, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def live_rows() -> list[dict[str, str]]:
    return [r for r in raw_rows() if not r["doterm"]]


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(raw_rows()[0])
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, header, quoting=csv.QUOTE_NONNUMERIC)
        writer.writeheader()
        writer.writerows(rows)
    return path


def majority(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """unit -> the LSOAs whose postcodes are mostly in it (ties: the first unit by name),
    from (unit, lsoa) pairs, one per live postcode: the rule written out."""
    by_lsoa: dict[str, Counter[str]] = defaultdict(Counter)
    for unit, lsoa in pairs:
        by_lsoa[lsoa][unit] += 1
    owned: dict[str, set[str]] = defaultdict(set)
    for lsoa, units in by_lsoa.items():
        best = min(units, key=lambda u: (-units[u], u))
        owned[best].add(lsoa)
    return dict(owned)


@pytest.fixture
def loaded(writable_store: Store) -> Store:
    import_postcodes(writable_store, EXTRACT)
    return writable_store


def test_live_postcodes_are_stored_and_terminated_ones_skipped(writable_store: Store) -> None:
    got = import_postcodes(writable_store, EXTRACT)
    rows = raw_rows()
    assert (
        (got["live"], got["terminated"])
        == (26, 6)
        == (
            len(live_rows()),
            sum(1 for r in rows if r["doterm"]),
        )
    )
    assert got["lsoa_column"] == "lsoa11" and (got["areas"], got["districts"]) == (2, 3)
    stored = writable_store.rows("SELECT * FROM postcodes ORDER BY postcode")
    expected = sorted(
        (r["pcds"], r["lsoa11"], float(r["long"]), float(r["lat"])) for r in live_rows()
    )
    assert stored == expected
    assert "LD1 5AA" not in {r[0] for r in stored}  # terminated 2011-05
    # The shape the public search reads (queries.py), postcode upper case with one space.
    assert q.postcodes_loaded(writable_store)
    assert q.postcode_lsoas(writable_store, "HR1 1AB") == ["E01014007"]
    assert q.postcode_lsoas(writable_store, "LD3") == ["W01000474", "W01000503"]


@pytest.mark.parametrize("form", ["csv", "zip", "zip-one-csv"])
def test_plain_and_zipped_directories_load_the_same(
    loaded: Store, tmp_path: Path, form: str
) -> None:
    text = gzip.decompress(EXTRACT.read_bytes())
    path = tmp_path / "directory.csv"
    path.write_bytes(text)
    if form.startswith("zip"):
        path = tmp_path / "NSPL_NOV_2021_UK.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            if form == "zip":  # the ONS download's layout: documents beside Data/
                zf.writestr("Documents/LSOA (2011) names and codes UK as at 12_12.csv", "x,y\n")
                zf.writestr("Data/multi_csv/NSPL_NOV_2021_UK_HR.csv", "pcds\n")
                zf.writestr("Data/NSPL_NOV_2021_UK.csv", text)
            else:
                zf.writestr("extract.csv", text)
    before = loaded.rows("SELECT * FROM postcodes ORDER BY ALL")
    assert import_postcodes(loaded, path)["live"] == 26
    assert loaded.rows("SELECT * FROM postcodes ORDER BY ALL") == before


def test_a_zip_without_one_directory_csv_is_refused(loaded: Store, tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "pcds\n")
        zf.writestr("b.csv", "pcds\n")
    with pytest.raises(InputError, match="found 2 CSV files"):
        import_postcodes(loaded, path)


def test_postcode_areas_and_districts_resolve_with_their_lsoas(loaded: Store) -> None:
    pairs_area = [(r["pcds"][:2], r["lsoa11"]) for r in live_rows()]
    pairs_district = [(r["pcds"].split()[0], r["lsoa11"]) for r in live_rows()]
    for reference, unit, rule in [
        ("postcode-area:HR", "HR", pairs_area),
        ("LD postcode area", "LD", pairs_area),
        ("postcode-district:LD3", "LD3", pairs_district),
        ("ld1 postcode district", "LD1", pairs_district),
    ]:
        area = areas.resolve(loaded, reference)
        assert area.code == unit and area.kind.startswith("postcode")
        expected = majority(rule)[unit]
        assert expected <= area.lsoa_codes  # plus the 2021 codes of the same places
        assert areas.resolve(loaded, areas.reference(area)) == area
    listed = {(a.kind, a.name) for a in areas.list_areas(loaded) if a.kind.startswith("post")}
    assert listed == {
        ("postcode area", "HR postcode area"),
        ("postcode area", "LD postcode area"),
        ("postcode district", "HR1 postcode district"),
        ("postcode district", "LD1 postcode district"),
        ("postcode district", "LD3 postcode district"),
    }
    with pytest.raises(UnknownAreaError):
        areas.resolve(loaded, "postcode-area:LE")  # not in the extract


def test_population_of_a_postcode_area_sums_its_lsoas(
    loaded: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    for unit in ("HR", "LD"):
        codes = sorted(majority([(r["pcds"][:2], r["lsoa11"]) for r in live_rows()])[unit])
        expected = raw_scalar(
            raw_db, "SELECT sum(population) FROM pop2019 WHERE code IN (SELECT unnest(?))", [codes]
        )
        got = pops.population(loaded, areas.resolve(loaded, f"postcode-area:{unit}"), 2019)
        assert (got.population, got.lsoas_found) == (expected, len(codes))


def test_a_reimport_replaces_the_directory(loaded: Store, tmp_path: Path) -> None:
    hereford = write_csv(tmp_path / "hr.csv", [r for r in raw_rows() if r["pcds"][:2] == "HR"])
    got = import_postcodes(loaded, hereford)
    assert (got["live"], got["terminated"], got["areas"]) == (12, 2, 1)
    assert loaded.scalar("SELECT count(*) FROM postcodes WHERE postcode LIKE 'LD%'") == 0
    with pytest.raises(UnknownAreaError):
        areas.resolve(loaded, "postcode-area:LD")


@pytest.mark.parametrize(
    ("field", "value", "column", "problem"),
    [
        ("pcds", "HR1-1AB", "pcds", "not a postcode"),
        ("doterm", "2011", "doterm", "not a termination month"),
        ("lsoa11", "Hereford 001A", "lsoa11", "not an LSOA code"),
        ("lat", "north", "lat", "not a latitude"),
        ("long", "-200.5", "long", "not a longitude"),
    ],
)
def test_a_bad_row_rejects_the_file_and_keeps_what_was_stored(
    loaded: Store, tmp_path: Path, field: str, value: str, column: str, problem: str
) -> None:
    rows = raw_rows()
    rows[3][field] = value  # the fourth data row: line 5 of the file
    before = loaded.rows("SELECT * FROM postcode_units ORDER BY ALL")
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CSVFormatError) as caught:
        import_postcodes(loaded, path)
    message = str(caught.value)
    assert f"{path}, line 5, column '{column}': {problem}" in message
    assert loaded.rows("SELECT * FROM postcode_units ORDER BY ALL") == before
    assert loaded.scalar("SELECT count(*) FROM postcodes") == 26


def test_a_live_postcode_twice_and_a_file_without_lsoas_are_refused(
    loaded: Store, tmp_path: Path
) -> None:
    rows = raw_rows()
    twice = write_csv(tmp_path / "twice.csv", [*rows, rows[1]])
    with pytest.raises(CSVFormatError, match=r"line 34, column 'pcds': live postcode HR1 1AB"):
        import_postcodes(loaded, twice)
    header = [c for c in rows[0] if c != "lsoa11"]
    no_lsoa = write_csv(tmp_path / "no-lsoa.csv", [{c: r[c] for c in header} for r in rows], header)
    with pytest.raises(CSVFormatError, match="no LSOA column"):
        import_postcodes(loaded, no_lsoa)
    with pytest.raises(InputError, match="no such file"):
        import_postcodes(loaded, tmp_path / "missing.csv")
    assert loaded.scalar("SELECT count(*) FROM postcodes") == 26


UNIT = st.sampled_from(["AB1", "AB2", "B1", "B23", "CD4"])
LSOA = st.sampled_from([f"E0100000{i}" for i in range(6)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(UNIT, LSOA), min_size=1, max_size=40))
def test_each_lsoa_goes_to_the_unit_holding_most_of_its_postcodes(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]]
) -> None:
    """Generated directories (made-up postcodes, not a real directory): the stored
    assignment is the rule's, at both levels."""
    rows = list(dict((f"{u} {i % 10}AA", lsoa) for i, (u, lsoa) in enumerate(pairs)).items())
    folder = tmp_path_factory.mktemp("generated")
    path = folder / "generated.csv"
    lines = ["pcds,doterm,lsoa21cd,lat,long"] + [f"{pc},,{ls},52.6,-1.1" for pc, ls in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(folder / "store.duckdb") as store:
        import_postcodes(store, path)
        got = store.rows("SELECT level, unit, lsoa_code FROM postcode_units WHERE assigned")
    for level, unit_of in (
        ("district", lambda pc: pc.split()[0]),
        ("area", lambda pc: pc.split()[0].rstrip("0123456789")),
    ):
        expected = majority([(unit_of(pc), lsoa) for pc, lsoa in rows])
        stored: dict[str, set[str]] = defaultdict(set)
        for lvl, unit, lsoa in got:
            if lvl == level:
                stored[unit].add(lsoa)
        assert dict(stored) == expected


def test_ranking_among_postcode_areas_leaves_out_areas_without_their_forces_data(
    loaded: Store,
) -> None:
    """The sample store holds Leicestershire's crimes only: Hereford (West Mercia) and
    Llandrindod Wells (Dyfed-Powys) have no stored months, so neither is ranked on zeros."""
    with pytest.raises(DataMissingError) as caught:
        rank_area(loaded, "postcode-area:HR", "2021-01", "2021-06", peers="postcode-areas")
    assert "HR postcode area: West Mercia Police published 0 of the 6 months" in str(caught.value)
    assert "LD postcode area: Dyfed Powys Police published 0 of the 6 months" in str(caught.value)
    with pytest.raises(InputError, match="ranks a postcode area"):
        rank_area(loaded, "Leicester", "2021-01", "2021-06", peers="postcode-areas")


def test_the_cli_imports_a_directory(sample_store_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from beatbook.cli.main import app

    copy = tmp_path / "s.duckdb"
    shutil.copyfile(sample_store_path, copy)
    result = CliRunner().invoke(
        app, ["areas", "import-postcodes", str(EXTRACT), "--store", str(copy), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"terminated": 6' in result.output
    listed = CliRunner().invoke(
        app, ["areas", "list", "--kind", "postcode area", "--store", str(copy)]
    )
    assert "HR postcode area" in listed.output and "LD postcode area" in listed.output
