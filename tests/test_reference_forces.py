"""The shipped district -> police force table (``reference/lad_forces.csv``), checked against
the raw ONS lookups (read with the csv module) and against force areas known independently:
the statutory police areas of England and Wales (Police Act 1996, Schedule 1)."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter, defaultdict
from importlib import resources
from pathlib import Path

import pytest

from beatbook.reference import (
    district_forces,
    districts_of_force,
    force_of_district,
    territorial_forces,
)
from support.fixtures_store import BRIDGE_LOOKUP, FORCE_AREA, WARD_LOOKUP
from support.two_forces import NOTTS_DISTRICTS

README = Path(__file__).resolve().parents[1] / "src" / "beatbook" / "reference" / "README.md"

FORCES_43 = [
    "avon-and-somerset",
    "bedfordshire",
    "cambridgeshire",
    "cheshire",
    "city-of-london",
    "cleveland",
    "cumbria",
    "derbyshire",
    "devon-and-cornwall",
    "dorset",
    "durham",
    "dyfed-powys",
    "essex",
    "gloucestershire",
    "greater-manchester",
    "gwent",
    "hampshire",
    "hertfordshire",
    "humberside",
    "kent",
    "lancashire",
    "leicestershire",
    "lincolnshire",
    "merseyside",
    "metropolitan",
    "norfolk",
    "north-wales",
    "north-yorkshire",
    "northamptonshire",
    "northumbria",
    "nottinghamshire",
    "south-wales",
    "south-yorkshire",
    "staffordshire",
    "suffolk",
    "surrey",
    "sussex",
    "thames-valley",
    "warwickshire",
    "west-mercia",
    "west-midlands",
    "west-yorkshire",
    "wiltshire",
]

# Districts of the 2022 ONS list per force, from the statutory police areas.
LEICESTERSHIRE = set(FORCE_AREA)
NOTTINGHAMSHIRE = set(NOTTS_DISTRICTS)
WALES = {
    "north-wales": {
        "Isle of Anglesey",
        "Conwy",
        "Denbighshire",
        "Flintshire",
        "Gwynedd",
        "Wrexham",
    },
    "dyfed-powys": {"Carmarthenshire", "Ceredigion", "Pembrokeshire", "Powys"},
    "gwent": {"Blaenau Gwent", "Caerphilly", "Monmouthshire", "Newport", "Torfaen"},
    "south-wales": {
        "Bridgend",
        "Cardiff",
        "Merthyr Tydfil",
        "Neath Port Talbot",
        "Rhondda Cynon Taf",
        "Swansea",
        "Vale of Glamorgan",
    },
}
# How many districts (ONS 2022 list) each metropolitan force polices.
METROPOLITAN_COUNTS = {
    "metropolitan": 32,  # the London boroughs
    "city-of-london": 1,
    "greater-manchester": 10,
    "west-midlands": 7,
    "west-yorkshire": 5,
    "south-yorkshire": 4,
    "merseyside": 5,
    "northumbria": 6,  # the five Tyne and Wear boroughs and Northumberland
}
# A few districts per force whose force is beyond doubt, old names (2011 LSOA names,
# 2019 districts) among them.
SURE = {
    "avon-and-somerset": ["Bristol", "Bristol, City of", "Taunton Deane", "South Gloucestershire"],
    "bedfordshire": ["Luton", "Bedford", "Central Bedfordshire"],
    "cambridgeshire": ["Peterborough", "Cambridge", "Fenland"],
    "cheshire": ["Halton", "Warrington", "Cheshire East"],
    "city-of-london": ["City of London"],
    "cleveland": ["Hartlepool", "Middlesbrough", "Stockton-on-Tees"],
    "cumbria": ["Allerdale", "Carlisle", "Barrow-in-Furness"],
    "derbyshire": ["Derby", "Erewash", "Bolsover", "High Peak"],
    "devon-and-cornwall": ["Plymouth", "Cornwall", "Isles of Scilly", "Exeter"],
    "dorset": ["Dorset", "Bournemouth, Christchurch and Poole", "Christchurch", "Poole"],
    "durham": ["County Durham", "Darlington"],
    "dyfed-powys": ["Powys", "Ceredigion"],
    "essex": ["Southend-on-Sea", "Thurrock", "Colchester"],
    "gloucestershire": ["Gloucester", "Cheltenham", "Stroud"],
    "greater-manchester": ["Manchester", "Wigan", "Stockport"],
    "gwent": ["Newport", "Caerphilly"],
    "hampshire": ["Southampton", "Portsmouth", "Isle of Wight", "Winchester"],
    "hertfordshire": ["Watford", "St Albans", "Stevenage"],
    "humberside": ["Kingston upon Hull, City of", "Kingston upon Hull", "North Lincolnshire"],
    "kent": ["Medway", "Canterbury", "Shepway", "Folkestone and Hythe"],
    "lancashire": ["Blackpool", "Blackburn with Darwen", "Preston", "Lancaster"],
    "leicestershire": ["Leicester", "Rutland", "Melton"],
    "lincolnshire": ["Lincoln", "Boston", "South Kesteven"],
    "merseyside": ["Liverpool", "Wirral", "St. Helens"],
    "metropolitan": ["Westminster", "Croydon", "Barnet", "Havering"],
    "norfolk": ["Norwich", "Great Yarmouth", "King's Lynn and West Norfolk"],
    "north-wales": ["Wrexham", "Isle of Anglesey"],
    "north-yorkshire": ["York", "Harrogate", "Scarborough"],
    "northamptonshire": ["Northampton", "Corby", "North Northamptonshire", "West Northamptonshire"],
    "northumbria": ["Newcastle upon Tyne", "Gateshead", "Northumberland", "Sunderland"],
    "nottinghamshire": ["Nottingham", "Mansfield", "Bassetlaw"],
    "south-wales": ["Cardiff", "Swansea", "The Vale of Glamorgan", "Merthyr Tydfil"],
    "south-yorkshire": ["Sheffield", "Doncaster", "Barnsley"],
    "staffordshire": ["Stoke-on-Trent", "Stafford", "Tamworth"],
    "suffolk": ["Ipswich", "West Suffolk", "Forest Heath", "Waveney"],
    "surrey": ["Guildford", "Woking", "Elmbridge"],
    "sussex": ["Brighton and Hove", "Crawley", "Eastbourne"],
    "thames-valley": ["Milton Keynes", "Oxford", "Reading", "Buckinghamshire", "Aylesbury Vale"],
    "warwickshire": ["Warwick", "Rugby", "Nuneaton and Bedworth"],
    "west-mercia": ["Herefordshire, County of", "Herefordshire", "Shropshire", "Worcester"],
    "west-midlands": ["Birmingham", "Coventry", "Solihull", "Wolverhampton"],
    "west-yorkshire": ["Leeds", "Bradford", "Wakefield"],
    "wiltshire": ["Swindon", "Wiltshire"],
}
DISTRICT = re.compile(r"^(.*) [0-9]{3}[A-Z]$")


def _lookup(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def lookups() -> dict[str, list[dict[str, str]]]:
    return {"ward": _lookup(WARD_LOOKUP), "bridge": _lookup(BRIDGE_LOOKUP)}


def _ons_districts(lookups: dict[str, list[dict[str, str]]]) -> dict[str, set[tuple[str, str]]]:
    """(code, name) of every district of both ONS lookups, by vintage."""
    return {
        "LAD19": {(r["LAD19CD"], r["LAD19NM"]) for r in lookups["ward"]},
        "LAD22": {(r["LAD22CD"], r["LAD22NM"]) for r in lookups["bridge"]},
    }


def test_every_district_of_both_lookups_has_exactly_one_force(
    lookups: dict[str, list[dict[str, str]]],
) -> None:
    table = district_forces()
    by_code: dict[str, set[str]] = defaultdict(set)
    for row in table:
        by_code[row.lad_code].add(row.force)
    assert all(len(forces) == 1 for forces in by_code.values())
    for vintage, districts in _ons_districts(lookups).items():
        listed = {(d.lad_code, d.lad_name) for d in table if d.vintage == vintage}
        assert listed == districts, vintage
        for code, name in districts:
            assert force_of_district(name) == next(iter(by_code[code])), name
    assert len(_ons_districts(lookups)["LAD22"]) == 331
    assert len(_ons_districts(lookups)["LAD19"]) == 339


def test_every_district_name_police_uk_writes_has_a_force(
    lookups: dict[str, list[dict[str, str]]],
) -> None:
    """police.uk LSOA names carry the district name of their code vintage: 'Aylesbury Vale
    001A' in 2011-code files, 'Buckinghamshire 001A' and 'Bristol 001A' in 2021-code files."""
    for source, column, code in (
        ("ward", "LSOA11NM", "LAD19CD"),
        ("bridge", "LSOA11NM", "LAD22CD"),
        ("bridge", "LSOA21NM", "LAD22CD"),
    ):
        forces_of_code = {d.lad_code: d.force for d in district_forces()}
        for row in lookups[source]:
            match = DISTRICT.match(row[column])
            assert match, row[column]
            # An LSOA's district name leads to the force of the district the LSOA lies in.
            assert force_of_district(match[1]) == forces_of_code[row[code]], row[column]
    old = {"Aylesbury Vale", "Corby", "Kettering", "Allerdale", "Taunton Deane", "Christchurch"}
    assert old | {"Forest Heath", "Shepway", "The Vale of Glamorgan"} <= {
        d.lad_name for d in district_forces() if d.vintage == "LSOA11"
    }
    assert {"Bristol", "Herefordshire", "Kingston upon Hull"} <= {
        d.lad_name for d in district_forces() if d.vintage == "LSOA21"
    }


def test_the_43_territorial_forces_each_police_a_district(
    lookups: dict[str, list[dict[str, str]]],
) -> None:
    assert territorial_forces() == tuple(sorted(FORCES_43))
    current = Counter(force_of_district(name) for _, name in _ons_districts(lookups)["LAD22"])
    assert set(current) == set(FORCES_43)
    assert sum(current.values()) == 331
    for force, n in METROPOLITAN_COUNTS.items():
        assert current[force] == n, force


def test_leicestershire_and_nottinghamshire_are_their_statutory_areas(
    lookups: dict[str, list[dict[str, str]]],
) -> None:
    assert set(districts_of_force("leicestershire")) == LEICESTERSHIRE
    assert set(districts_of_force("nottinghamshire")) == NOTTINGHAMSHIRE
    # Nottinghamshire Police records crimes in these Derbyshire districts (MANIFEST 1b).
    assert force_of_district("Erewash") == force_of_district("Bolsover") == "derbyshire"
    for name in ("Rugby", "Birmingham", "South Kesteven"):  # where Leicestershire's strays fall
        assert force_of_district(name) not in (None, "leicestershire")


@pytest.mark.parametrize("force", sorted(SURE))
def test_districts_whose_force_is_beyond_doubt(force: str) -> None:
    for name in SURE[force]:
        assert force_of_district(name) == force, name
        assert name in districts_of_force(force)


def test_wales_by_force() -> None:
    for force, names in WALES.items():
        current = {n for n in districts_of_force(force) if n != "The Vale of Glamorgan"}
        assert current == names, force


def test_lookups_are_forgiving_of_case_and_spacing_but_not_of_unknown_names() -> None:
    assert force_of_district("  north west   LEICESTERSHIRE ") == "leicestershire"
    assert force_of_district("Nowhereshire") is None
    assert districts_of_force("btp") == ()


def test_the_file_is_documented_with_its_source() -> None:
    text = resources.files("beatbook.reference").joinpath("lad_forces.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert list(rows[0]) == ["lad_code", "lad_name", "vintage", "force"]
    assert len({tuple(r.values()) for r in rows}) == len(rows) == len(district_forces())
    assert {r["vintage"] for r in rows} == {"LAD19", "LAD22", "LSOA11", "LSOA21"}
    readme = README.read_text(encoding="utf-8")
    assert "lad_forces.csv" in readme
    assert "LAD22_CSP22_PFA22_EW_LU" in readme and "Police Act 1996" in readme
