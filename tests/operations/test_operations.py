"""Operations: results by area, the hierarchy rules, imports, the audit and the roll-ups.

The rules are property-tested on random hierarchies (plain sets, not BeatBook's areas) and
against a brute-force reading of them. Store tests use the real sample store with real
Leicester wards; expected figures come from the fixture CSVs read with the csv module and
from area memberships read from the raw ONS lookup by a separate DuckDB connection.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from ops_support import DATA, OPERATIONS_CSV, RESULTS_CSV, WEST_WARDS, define_west

from beatbook import areas
from beatbook.errors import InputError
from beatbook.operations import csv_import as operations_csv
from beatbook.operations import records as operations
from beatbook.operations.records import WHOLE, Relations, check_hierarchy
from beatbook.store import Store
from support.fixtures_store import LEICESTER_BOUNDARIES

TABLES = ("operations", "operation_results", "operation_results_audit", "custom_areas")


def snapshot(store: Store) -> dict[str, tuple]:
    """Row count and a digest of every row of the tables an import may write."""
    return {
        t: store.first(
            f"SELECT count(*), coalesce(md5(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR)), '') "
            f'FROM "{t}" AS r'
        )
        for t in TABLES
    }


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def ops_store(writable_store: Store) -> Store:
    define_west(writable_store)
    return writable_store


@pytest.fixture(scope="module")
def imported(sample_store_path: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One store holding the fixture import, for the tests that read it or are refused
    (each refusal checks that nothing was written)."""
    path = tmp_path_factory.mktemp("imported") / "ops.duckdb"
    shutil.copyfile(sample_store_path, path)
    with Store(path) as st:
        define_west(st)
        summary = operations_csv.import_files(st, [OPERATIONS_CSV, RESULTS_CSV], by="PC 2741")
        st.summary = summary  # type: ignore[attr-defined]
        yield st


# --- parsers ----------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10**12 - 1), st.sampled_from(["", " ", "\t"]))
def test_count_accepts_every_whole_number(n: int, pad: str) -> None:
    assert operations.parse_count(f"{pad}{n}{pad}") == n


@given(st.text(max_size=14))
def test_count_accepts_only_plain_digits(text: str) -> None:
    try:
        value = operations.parse_count(text)
    except InputError as exc:
        assert repr(text) in str(exc) and "\n" not in str(exc)
        return
    assert text.strip().isascii() and text.strip().isdigit() and value == int(text)


@given(
    st.one_of(
        st.integers(max_value=-1),
        st.floats(allow_nan=False).filter(
            lambda x: x != int(x) if x == x and abs(x) != float("inf") else True
        ),
    )
)
def test_negative_and_fractional_counts_are_refused(value: float) -> None:
    with pytest.raises(InputError, match="whole number of 0 or more"):
        operations.parse_count(str(value))


@given(st.sampled_from(sorted(operations.MEASURES)), st.sampled_from([str.upper, str.title, str]))
def test_measure_names_ignore_case(measure: str, case) -> None:  # type: ignore[no-untyped-def]
    assert operations.parse_measure(f" {case(measure)} ") == measure


@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}( [a-z0-9_-]{1,8}){0,2}", fullmatch=True))
def test_other_measures_keep_their_label(label: str) -> None:
    assert operations.parse_measure(f"Other:{label.upper()}") == f"other:{label}"


@pytest.mark.parametrize("text", ["warrant", "other:", "other: ", "other:£ seized", "arrests2", ""])
def test_unknown_measures_are_refused(text: str) -> None:
    with pytest.raises(InputError, match="expected one of warrants, arrests, charged"):
        operations.parse_measure(text)


# --- the hierarchy rules, on random hierarchies -------------------------------------------------

SETS = st.lists(st.frozensets(st.integers(0, 5), min_size=1), min_size=1, max_size=6)


def relations_of(sets: dict[str, frozenset[int]]) -> Relations:
    """Containment and disjointness of plain sets, as the rules read them."""
    return Relations(
        frozenset((w, p) for w in sets for p in sets if w != p and sets[p] <= sets[w]),
        frozenset(
            frozenset((a, b)) for a in sets for b in sets if a != b and not sets[a] & sets[b]
        ),
    )


def brute_force_valid(counts: dict[str, int], sets: dict[str, frozenset[int]]) -> bool:
    """Every family of pairwise disjoint parts of every whole adds up to at most the whole."""
    for whole, whole_count in counts.items():
        parts = [
            p
            for p in counts
            if p != whole and p != WHOLE and (whole == WHOLE or sets[p] <= sets[whole])
        ]
        for size in range(1, len(parts) + 1):
            for family in itertools.combinations(parts, size):
                if (
                    all(not sets[a] & sets[b] for a, b in itertools.combinations(family, 2))
                    and sum(counts[p] for p in family) > whole_count
                ):
                    return False
    return True


@given(SETS, st.lists(st.integers(0, 50), min_size=6, max_size=6), st.integers(0, 20))
def test_counts_that_add_up_by_lsoa_always_pass(sets_list, weights, extra) -> None:  # type: ignore[no-untyped-def]
    sets = {f"a{i}": s for i, s in enumerate(sets_list)}
    counts = {(a, "arrests"): sum(weights[i] for i in s) for a, s in sets.items()}
    counts[(WHOLE, "arrests")] = sum(weights) + extra
    assert check_hierarchy(counts, relations_of(sets)) == []


@given(SETS, st.lists(st.integers(0, 50), min_size=6, max_size=6), st.integers(1, 30), st.data())
def test_raising_any_part_above_a_whole_containing_it_fails(sets_list, weights, bump, data) -> None:  # type: ignore[no-untyped-def]
    sets = {f"a{i}": s for i, s in enumerate(sets_list)}
    counts = {(a, "warrants"): sum(weights[i] for i in s) for a, s in sets.items()}
    counts[(WHOLE, "warrants")] = sum(weights)
    pairs = [(WHOLE, p) for p in sets] + [
        (w, p) for w in sets for p in sets if w != p and sets[p] < sets[w]
    ]
    whole, part = data.draw(st.sampled_from(pairs))
    counts[(part, "warrants")] = counts[(whole, "warrants")] + bump
    found = check_hierarchy(counts, relations_of(sets))
    assert any(v.whole == whole and part in dict(v.parts) for v in found), found


@given(SETS, st.lists(st.integers(0, 20), min_size=7, max_size=7), st.booleans())
def test_rules_agree_with_brute_force(sets_list, values, with_total) -> None:  # type: ignore[no-untyped-def]
    sets = {f"a{i}": s for i, s in enumerate(sets_list)}
    counts = {a: values[i] for i, a in enumerate(sets)}
    if with_total:
        counts[WHOLE] = values[-1]
    keyed = {(a, "charged"): n for a, n in counts.items()}
    assert (check_hierarchy(keyed, relations_of(sets)) == []) == brute_force_valid(counts, sets)


def test_overlapping_parts_are_never_added_up() -> None:
    sets = {"north": frozenset({1, 2}), "centre": frozenset({2, 3})}  # overlap, no containment
    counts = {(WHOLE, "arrests"): 10, ("north", "arrests"): 8, ("centre", "arrests"): 8}
    assert check_hierarchy(counts, relations_of(sets)) == []
    summary = operations.summarise_measure(
        "arrests",
        {a: n for (a, _), n in counts.items()},
        relations_of(sets),
        {"north": "North", "centre": "Centre"},
    )
    # What the two account for is between 8 (one of them) and 10 (at most the total).
    assert (summary["unattributed_at_least"], summary["unattributed_at_most"]) == (0, 2)
    assert summary["unattributed"] is None
    assert summary["text"][-1].startswith("not attributed to an area: between 0 and 2")


@pytest.mark.parametrize(
    ("part", "total", "text"),
    [
        (46, 141, "46 of 141 warrants were in the West area (33%)"),
        (1, 141, "1 of 141 warrants was in the West area (1%)"),
        (1, 400, "1 of 400 warrants was in the West area (<1%)"),
        (0, 141, "0 of 141 warrants were in the West area (0%)"),
        (399, 400, "399 of 400 warrants were in the West area (>99%)"),
        (1201, 1000 + 201, "1,201 of 1,201 warrants were in the West area (100%)"),
        (3, None, "3 warrants were in the West area"),
    ],
)
def test_share_wording(part: int, total: int | None, text: str) -> None:
    assert operations.share_sentence(part, total, "warrants", "West") == text


# --- import and roll-up on the real store ---------------------------------------------------------


def raw_ward_lsoas(raw_db: duckdb.DuckDBPyConnection, ward: str) -> frozenset[str]:
    """2011 LSOAs of a Leicester ward (by name or code) from the raw ONS lookup file."""
    rows = raw_db.execute(
        "SELECT LSOA11CD FROM ward_lookup WHERE LAD19NM = 'Leicester' AND (WD19NM = ? OR WD19CD = ?)",
        [ward.removesuffix(" (Leicester)"), ward],
    ).fetchall()
    assert rows, ward
    return frozenset(r[0] for r in rows)


def test_import_rolls_up_as_the_csv_and_the_lookup_say(
    imported: Store, raw_db: duckdb.DuckDBPyConnection
) -> None:
    rows = csv_rows(RESULTS_CSV)
    summary = imported.summary  # type: ignore[attr-defined]
    assert (summary.operations_added, summary.results_changed) == (2, len(rows))

    result = operations.rollup(imported, "operation nightjar")
    assert (result["operation"], result["from"], result["to"]) == (
        "Operation Nightjar",
        "2025-01-06",
        "2025-03-31",
    )
    assert result["areas"] == ["Leicester"] and result["violations"] == []
    warrants = next(m for m in result["measures"] if m["measure"] == "warrants")
    given_ = {
        r["area"]: int(r["count"])
        for r in rows
        if r["operation"] == "Operation Nightjar" and r["measure"] == "warrants"
    }
    total = given_.pop("all")
    assert warrants["total"] == total == 141
    assert "46 of 141 warrants were in the West Leicester area (33%)" in warrants["text"]
    by_area = {a["area"]: a["count"] for a in warrants["areas"]}
    assert sorted(by_area.values()) == sorted(given_.values())

    # Independently: which areas are outermost, from the raw lookup, and what they leave over.
    lsoas = {a: raw_ward_lsoas(raw_db, a) for a in given_ if a != "West Leicester"}
    lsoas["West Leicester"] = frozenset().union(*(raw_ward_lsoas(raw_db, w) for w in WEST_WARDS))
    outer = [a for a in lsoas if not any(b != a and lsoas[a] < lsoas[b] for b in lsoas)]
    assert all(not lsoas[a] & lsoas[b] for a, b in itertools.combinations(outer, 2))
    assert warrants["unattributed"] == total - sum(given_[a] for a in outer) == 32
    assert warrants["text"][-1] == "not attributed to an area: 32"
    west = next(a for a in warrants["areas"] if a["area"] == "Westcotes")
    assert west["inside"] == ["West Leicester"] and west["share"] == pytest.approx(20 / 141)

    plants = next(m for m in result["measures"] if m["measure"] == "other:cannabis plants")
    assert plants["total"] is None and plants["text"][0] == "operation total not recorded"
    assert plants["text"][1] == "420 cannabis plants were in the Castle area"


def test_reimport_changes_nothing(imported: Store) -> None:
    before = snapshot(imported)
    again = operations_csv.import_files(imported, [OPERATIONS_CSV, RESULTS_CSV], by="PC 9999")
    assert (again.operations_added, again.operations_updated, again.results_changed) == (0, 0, 0)
    assert again.results_unchanged == len(csv_rows(RESULTS_CSV))
    assert snapshot(imported) == before


BAD = [
    (
        "bad-part-over-total.csv",
        7,
        None,
        "West Leicester warrants 146 > operation total 141 in Operation Nightjar",
    ),
    (
        "bad-parts-over-whole.csv",
        6,
        None,
        "warrants in areas that share no ground add up to "
        "more than West Leicester 46: Fosse 14 + Westcotes 20 + Western 15 = 49",
    ),
    (
        "bad-disjoint-over-total.csv",
        5,
        None,
        "more than operation total 64: Castle 15 + Spinney Hills 30 + West Leicester 21 = 66",
    ),
    ("bad-count.csv", 3, "count", "count '12.5': expected a whole number of 0 or more"),
    ("bad-negative-count.csv", 2, "count", "count '-3': expected a whole number"),
    ("bad-measure.csv", 4, "measure", "measure 'warrant': expected one of warrants"),
    ("bad-area.csv", 2, "area", "'Westcotess': no such area; did you mean 'Westcotes'"),
    ("bad-operation.csv", 3, "operation", "operation 'Operation Nightjr': no such operation"),
    ("bad-duplicate.csv", 4, None, "E05010463 warrants is given twice"),
    ("bad-header.csv", 1, None, "expected the columns operation, from, to, areas"),
    ("bad-extra-field.csv", 2, None, "expected 4 fields"),
    ("bad-operation-dates.csv", 3, "to", "it ends (2025-05-01) before it starts (2025-05-31)"),
    ("bad-operation-date.csv", 2, "from", "date '2025-02-30': expected a date as YYYY-MM-DD"),
    ("bad-operation-area.csv", 2, "areas", "'Nowhereshire': no such area"),
]


@pytest.mark.parametrize(("name", "line", "column", "problem"), BAD)
def test_a_bad_row_refuses_every_file_with_file_line_and_column(
    imported: Store, name: str, line: int, column: str | None, problem: str
) -> None:
    before = snapshot(imported)
    with pytest.raises(InputError) as info:
        operations_csv.import_files(imported, [OPERATIONS_CSV, DATA / name], by="PC 2741")
    message = str(info.value)
    where = f"{DATA / name}, line {line}" + (f", column '{column}'" if column else "")
    assert message.startswith(where + ":"), message
    assert problem in message and "\n" not in message
    assert snapshot(imported) == before  # not even the operations file's rows


def test_a_file_that_is_not_utf8_or_missing_is_refused(imported: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("operation,area,measure,count\nOp Café,all,arrests,1\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1.csv: cannot be read as a UTF-8 CSV file"):
        operations_csv.import_files(imported, [path], by="PC 2741")
    with pytest.raises(
        InputError, match=r"absent.csv: cannot be read \(No such file or directory\)"
    ):
        operations_csv.import_files(imported, [tmp_path / "absent.csv"], by="PC 2741")


# --- record, replace, audit ------------------------------------------------------------------------


def test_record_replaces_and_the_audit_keeps_every_change(ops_store: Store) -> None:
    operations.add_operation(
        ops_store, "Operation Kestrel", dt.date(2025, 4, 1), dt.date(2025, 4, 30), ["Leicester"]
    )
    record = operations.record_result
    assert record(ops_store, "Operation Kestrel", None, "arrests", 30, "PC 1")
    assert record(ops_store, "operation kestrel", "West Leicester", "arrests", 9, "PC 1")
    assert record(ops_store, "Operation Kestrel", "custom:West Leicester", "arrests", 11, "Sgt 2")
    assert not record(ops_store, "Operation Kestrel", "West Leicester", "arrests", 11, "Sgt 3")
    # A whole may equal the sum of its disjoint parts: Westcotes 5 + Fosse 6 = West 11.
    assert record(ops_store, "Operation Kestrel", "Westcotes (Leicester)", "arrests", 5, "PC 1")
    assert record(ops_store, "Operation Kestrel", "Fosse (Leicester)", "arrests", 6, "PC 1")
    history = operations.audit(ops_store, "Operation Kestrel")
    assert [(h["area"], h["old_count"], h["new_count"], h["changed_by"]) for h in history] == [
        (WHOLE, None, 30, "PC 1"),
        ("custom:West Leicester", None, 9, "PC 1"),
        ("custom:West Leicester", 9, 11, "Sgt 2"),
        ("E05010476", None, 5, "PC 1"),
        ("E05010466", None, 6, "PC 1"),
    ]
    stored = ops_store.rows(
        "SELECT area, count, recorded_by FROM operation_results WHERE operation = 'Operation Kestrel' "
        "ORDER BY area"
    )
    assert stored == [
        (WHOLE, 30, "PC 1"),
        ("E05010466", 6, "PC 1"),
        ("E05010476", 5, "PC 1"),
        ("custom:West Leicester", 11, "Sgt 2"),
    ]


def test_a_record_that_breaks_a_rule_writes_nothing(imported: Store) -> None:
    # Stored warrants: total 141; West Leicester 46 = Westcotes 20 + Fosse 14 + Western 12;
    # Castle 38 and Spinney Hills 25 (these three share no ground: 109).
    refused = [
        (
            None,
            100,
            "more than operation total 100: Castle 38 + Spinney Hills 25 + West Leicester 46 = 109",
        ),
        (
            "Fosse (Leicester)",
            15,
            "more than West Leicester 46: Fosse 15 + Westcotes 20 + Western 12 = 47",
        ),
        (
            "Leicester",
            100,
            "more than Leicester 100: Castle 38 + Spinney Hills 25 + West Leicester 46 = 109",
        ),
        ("Leicester", 142, "Leicester warrants 142 > operation total 141"),
    ]
    before = snapshot(imported)
    for area, count, problem in refused:
        with pytest.raises(InputError) as info:
            operations.record_result(
                imported, "Operation Nightjar", area, "warrants", count, "PC 1"
            )
        message = str(info.value)
        assert message.startswith(f"--count {count}: ") and problem in message, message
        assert message.endswith("nothing was recorded")
    assert snapshot(imported) == before


def test_record_needs_a_known_operation_and_a_recorder(ops_store: Store) -> None:
    with pytest.raises(InputError, match="'Operation Nowhere': no such operation"):
        operations.record_result(ops_store, "Operation Nowhere", None, "arrests", 1, "PC 1")
    with pytest.raises(InputError, match="--by: say who records"):
        operations.record_result(ops_store, "Operation Nowhere", None, "arrests", 1, "  ")


# --- polygon areas ----------------------------------------------------------------------------------


def _geojson(path: Path, geometry: shapely.Geometry) -> Path:
    path.write_text(
        json.dumps(
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(geometry)}
        )
    )
    return path


def raw_lsoa_polygons(codes: frozenset[str]) -> shapely.Geometry:
    """Union of LSOA polygons read straight from the bundled GeoJSON (not the store)."""
    import gzip

    data = json.loads(gzip.decompress(LEICESTER_BOUNDARIES.read_bytes()))
    shapes = [
        shapely.geometry.shape(f["geometry"])
        for f in data["features"]
        if f["properties"].get("LSOA11CD") in codes
    ]
    assert len(shapes) == len(codes)
    return shapely.union_all(shapes)


def test_polygon_areas_use_containment_of_surfaces(
    ops_store: Store, raw_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    castle = raw_ward_lsoas(raw_db, "Castle (Leicester)")
    around = raw_lsoa_polygons(castle).buffer(0.002)  # Castle and a margin of about 150 m
    areas.add_area(
        ops_store,
        "Castle beat",
        lsoas=[],
        wards=[],
        geojson=_geojson(tmp_path / "beat.geojson", around),
    )
    inner = raw_lsoa_polygons(frozenset(sorted(castle)[:3])).buffer(-0.0005)
    areas.add_area(
        ops_store,
        "Castle core",
        lsoas=[],
        wards=[],
        geojson=_geojson(tmp_path / "core.geojson", inner),
    )
    operations.add_operation(
        ops_store, "Operation Owl", dt.date(2025, 1, 1), dt.date(2025, 1, 31), ["Castle beat"]
    )
    operations.record_result(ops_store, "Operation Owl", "Castle beat", "arrests", 8, "PC 1")
    with pytest.raises(InputError, match="Castle arrests 9 > Castle beat 8"):
        operations.record_result(
            ops_store, "Operation Owl", "Castle (Leicester)", "arrests", 9, "PC 1"
        )
    operations.record_result(ops_store, "Operation Owl", "Castle (Leicester)", "arrests", 6, "PC 1")
    with pytest.raises(InputError, match="Castle core arrests 7 > Castle 6"):
        operations.record_result(ops_store, "Operation Owl", "Castle core", "arrests", 7, "PC 1")
    # Eyres Monsell (south of the city) shares no ground with the beat: both are in Leicester.
    operations.record_result(ops_store, "Operation Owl", "Castle core", "arrests", 2, "PC 1")
    operations.record_result(
        ops_store, "Operation Owl", "Eyres Monsell (Leicester)", "arrests", 5, "PC 1"
    )
    with pytest.raises(InputError, match="more than Leicester 12: .*Castle beat 8.* = 13"):
        operations.record_result(ops_store, "Operation Owl", "Leicester", "arrests", 12, "PC 1")
    assert operations.record_result(ops_store, "Operation Owl", "Leicester", "arrests", 13, "PC 1")


def test_a_polygon_against_lsoas_without_boundaries_is_refused_clearly(
    ops_store: Store, tmp_path: Path
) -> None:
    # Only Leicester's LSOA boundaries are stored: Charnwood's cannot be drawn.
    areas.add_area(
        ops_store,
        "Box",
        lsoas=[],
        wards=[],
        geojson=_geojson(tmp_path / "box.geojson", shapely.box(-1.2, 52.6, -1.1, 52.7)),
    )
    operations.add_operation(
        ops_store, "Operation Owl", dt.date(2025, 1, 1), dt.date(2025, 1, 31), ["Box"]
    )
    operations.record_result(ops_store, "Operation Owl", "Box", "arrests", 3, "PC 1")
    before = snapshot(ops_store)
    with pytest.raises(
        InputError,
        match=r"cannot tell how area 'Charnwood' lies against a polygon "
        r"area: no stored boundary for \d+ of its LSOAs",
    ):
        operations.record_result(
            ops_store, "Operation Owl", "local authority:Charnwood", "arrests", 1, "PC 1"
        )
    assert snapshot(ops_store) == before


def test_operations_report_finds_operations_by_period_and_area(imported: Store) -> None:
    west = areas.resolve(imported, "Westcotes (Leicester)")
    found = operations.operations_report(imported, west, dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert [r["operation"] for r in found] == ["Operation Nightjar", "Operation Lantern"]
    later = operations.operations_report(imported, west, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert [r["operation"] for r in later] == ["Operation Nightjar"]  # Lantern ended in February
    elsewhere = operations.operations_report(
        imported, "local authority:Charnwood", dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    )
    assert elsewhere == []
