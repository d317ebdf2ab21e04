"""Build src/beatbook/reference/lad_forces.csv: local authority district -> police force.

Run from the repository root: ``.venv/bin/python scripts/build_lad_forces.py``.

The force of each district is compiled by hand below from the statutory police areas
(Police Act 1996, Schedule 1, as amended: each force area is a set of counties and
unitary areas; the London boroughs are the Metropolitan Police District, the City of
London has its own force). It is written against ONS district *codes*, and the names come
from the two ONS lookups bundled in data/sample/ons:

* ``LAD19``: LAD19CD/LAD19NM of the LSOA (2011) -> ward (2019) -> LAD (2019) lookup;
* ``LAD22``: LAD22CD/LAD22NM of the LSOA (2011) -> LSOA (2021) -> LAD (2022) lookup;
* ``LSOA11``: the district part of the 2011 LSOA names (``Aylesbury Vale 001A`` ->
  ``Aylesbury Vale``), which police.uk writes in files with 2011 LSOA codes; its code is
  the LAD (2019) that holds most of its LSOAs;
* ``LSOA21``: the district part of the 2021 LSOA names (``Bristol 001A``), which
  police.uk writes in files with 2021 LSOA codes; its code is the LAD (2022) holding most.

The script refuses to write unless every district code of both lookups has exactly one
force, every force has a district, and every name (of any vintage) leads to one force.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
ONS = ROOT / "data" / "sample" / "ons"
WARD_LOOKUP = ONS / "lsoa11-ward19-lad19-ew.csv.gz"
BRIDGE_LOOKUP = ONS / "lsoa11-lsoa21-lad22-ew.csv.gz"
OUT = ROOT / "src" / "beatbook" / "reference" / "lad_forces.csv"


def _e(prefix: str, first: int, last: int | None = None) -> list[str]:
    """ONS codes prefix + 6 digits, first..last inclusive."""
    return [f"{prefix}{n:06d}" for n in range(first, (last or first) + 1)]


# police.uk force id -> ONS LAD codes (2019 and 2022) of the districts it polices.
FORCES: dict[str, list[str]] = {
    # Avon and Somerset: Bath and NE Somerset, Bristol, North Somerset, South
    # Gloucestershire and the Somerset districts (Mendip, Sedgemoor, South Somerset,
    # Somerset West and Taunton).
    "avon-and-somerset": [*_e("E06", 22, 25), *_e("E07", 187, 189), *_e("E07", 246)],
    "bedfordshire": [*_e("E06", 32), *_e("E06", 55, 56)],  # Luton, Bedford, Central Beds
    # Peterborough; Cambridge, East Cambridgeshire, Fenland, Huntingdonshire, South Cambs.
    "cambridgeshire": [*_e("E06", 31), *_e("E07", 8, 12)],
    # Halton, Warrington, Cheshire East, Cheshire West and Chester.
    "cheshire": [*_e("E06", 6, 7), *_e("E06", 49, 50)],
    "city-of-london": _e("E09", 1),
    # Hartlepool, Middlesbrough, Redcar and Cleveland, Stockton-on-Tees.
    "cleveland": _e("E06", 1, 4),
    # Allerdale, Barrow-in-Furness, Carlisle, Copeland, Eden, South Lakeland.
    "cumbria": _e("E07", 26, 31),
    # Derby; Amber Valley, Bolsover, Chesterfield, Derbyshire Dales, Erewash, High Peak,
    # North East Derbyshire, South Derbyshire.
    "derbyshire": [*_e("E06", 15), *_e("E07", 32, 39)],
    # Plymouth, Torbay, Cornwall, Isles of Scilly; the eight Devon districts.
    "devon-and-cornwall": [*_e("E06", 26, 27), *_e("E06", 52, 53), *_e("E07", 40, 47)],
    "dorset": _e("E06", 58, 59),  # Bournemouth, Christchurch and Poole; Dorset
    "durham": [*_e("E06", 5), *_e("E06", 47)],  # Darlington, County Durham
    # Ceredigion, Pembrokeshire, Carmarthenshire, Powys.
    "dyfed-powys": [*_e("W06", 8, 10), *_e("W06", 23)],
    # Southend-on-Sea, Thurrock; the twelve Essex districts.
    "essex": [*_e("E06", 33, 34), *_e("E07", 66, 77)],
    # Cheltenham, Cotswold, Forest of Dean, Gloucester, Stroud, Tewkesbury.
    "gloucestershire": _e("E07", 78, 83),
    # Bolton, Bury, Manchester, Oldham, Rochdale, Salford, Stockport, Tameside, Trafford, Wigan.
    "greater-manchester": _e("E08", 1, 10),
    # Caerphilly, Blaenau Gwent, Torfaen, Monmouthshire, Newport.
    "gwent": _e("W06", 18, 22),
    # Portsmouth, Southampton, Isle of Wight; the eleven Hampshire districts.
    "hampshire": [*_e("E06", 44, 46), *_e("E07", 84, 94)],
    # Broxbourne, Dacorum, Hertsmere, North Hertfordshire, Three Rivers, Watford, St Albans,
    # Welwyn Hatfield, East Hertfordshire, Stevenage.
    "hertfordshire": [*_e("E07", 95, 96), *_e("E07", 98, 99), *_e("E07", 102, 103)]
    + _e("E07", 240, 243),
    # Kingston upon Hull, East Riding of Yorkshire, North East Lincolnshire, North Lincolnshire.
    "humberside": _e("E06", 10, 13),
    "kent": [*_e("E06", 35), *_e("E07", 105, 116)],  # Medway; the twelve Kent districts
    # Blackburn with Darwen, Blackpool; the twelve Lancashire districts.
    "lancashire": [*_e("E06", 8, 9), *_e("E07", 117, 128)],
    # Leicester, Rutland; Blaby, Charnwood, Harborough, Hinckley and Bosworth, Melton,
    # North West Leicestershire, Oadby and Wigston.
    "leicestershire": [*_e("E06", 16, 17), *_e("E07", 129, 135)],
    # Boston, East Lindsey, Lincoln, North Kesteven, South Holland, South Kesteven, West Lindsey.
    "lincolnshire": _e("E07", 136, 142),
    # Knowsley, Liverpool, St. Helens, Sefton, Wirral.
    "merseyside": _e("E08", 11, 15),
    "metropolitan": _e("E09", 2, 33),  # the 32 London boroughs
    # Breckland, Broadland, Great Yarmouth, King's Lynn and West Norfolk, North Norfolk,
    # Norwich, South Norfolk.
    "norfolk": _e("E07", 143, 149),
    # Isle of Anglesey, Gwynedd, Conwy, Denbighshire, Flintshire, Wrexham.
    "north-wales": _e("W06", 1, 6),
    # York; Craven, Hambleton, Harrogate, Richmondshire, Ryedale, Scarborough, Selby.
    "north-yorkshire": [*_e("E06", 14), *_e("E07", 163, 169)],
    # North and West Northamptonshire (2021); before them Corby, Daventry, East
    # Northamptonshire, Kettering, Northampton, South Northamptonshire, Wellingborough.
    "northamptonshire": [*_e("E06", 61, 62), *_e("E07", 150, 156)],
    # Northumberland; Newcastle upon Tyne, North Tyneside, South Tyneside, Sunderland,
    # Gateshead.
    "northumbria": [*_e("E06", 57), *_e("E08", 21, 24), *_e("E08", 37)],
    # Nottingham; Ashfield, Bassetlaw, Broxtowe, Gedling, Mansfield, Newark and Sherwood,
    # Rushcliffe.
    "nottinghamshire": [*_e("E06", 18), *_e("E07", 170, 176)],
    # Swansea, Neath Port Talbot, Bridgend, Vale of Glamorgan, Cardiff, Rhondda Cynon Taf,
    # Merthyr Tydfil.
    "south-wales": [*_e("W06", 11, 16), *_e("W06", 24)],
    # Barnsley, Doncaster, Rotherham, Sheffield.
    "south-yorkshire": _e("E08", 16, 19),
    # Stoke-on-Trent; the eight Staffordshire districts.
    "staffordshire": [*_e("E06", 21), *_e("E07", 192, 199)],
    # Babergh, Ipswich, Mid Suffolk, East Suffolk, West Suffolk.
    "suffolk": [*_e("E07", 200), *_e("E07", 202, 203), *_e("E07", 244, 245)],
    # The eleven Surrey districts.
    "surrey": _e("E07", 207, 217),
    # Brighton and Hove; the five East Sussex and seven West Sussex districts.
    "sussex": [*_e("E06", 43), *_e("E07", 61, 65), *_e("E07", 223, 229)],
    # Bracknell Forest, West Berkshire, Reading, Slough, Windsor and Maidenhead, Wokingham,
    # Milton Keynes, Buckinghamshire (2020; before it Aylesbury Vale, Chiltern, South Bucks,
    # Wycombe); Cherwell, Oxford, South Oxfordshire, Vale of White Horse, West Oxfordshire.
    "thames-valley": [*_e("E06", 36, 42), *_e("E06", 60), *_e("E07", 4, 7)] + _e("E07", 177, 181),
    # North Warwickshire, Nuneaton and Bedworth, Rugby, Stratford-on-Avon, Warwick.
    "warwickshire": _e("E07", 218, 222),
    # Herefordshire, Telford and Wrekin, Shropshire; Bromsgrove, Malvern Hills, Redditch,
    # Worcester, Wychavon, Wyre Forest.
    "west-mercia": [*_e("E06", 19, 20), *_e("E06", 51), *_e("E07", 234, 239)],
    # Birmingham, Coventry, Dudley, Sandwell, Solihull, Walsall, Wolverhampton.
    "west-midlands": _e("E08", 25, 31),
    # Bradford, Calderdale, Kirklees, Leeds, Wakefield.
    "west-yorkshire": _e("E08", 32, 36),
    "wiltshire": [*_e("E06", 30), *_e("E06", 54)],  # Swindon, Wiltshire
}
VINTAGES = ("LAD19", "LAD22", "LSOA11", "LSOA21")
DISTRICT_OF = "regexp_extract({col}, '^(.*) [0-9]{{3}}[A-Z]$', 1)"


def _rows() -> list[tuple[str, str, str]]:
    """(vintage, code, name) of every district name in the two lookups."""
    con = duckdb.connect()
    ward = f"read_csv('{WARD_LOOKUP}', all_varchar = true)"
    bridge = f"read_csv('{BRIDGE_LOOKUP}', all_varchar = true)"
    rows: list[tuple[str, str, str]] = []
    for vintage, source, code, name in (
        ("LAD19", ward, "LAD19CD", "LAD19NM"),
        ("LAD22", bridge, "LAD22CD", "LAD22NM"),
    ):
        rows += [
            (vintage, c, n)
            for c, n in con.execute(f"SELECT DISTINCT {code}, {name} FROM {source}").fetchall()
        ]
    for vintage, source, lsoa, lsoa_name, code in (
        ("LSOA11", ward, "LSOA11CD", "LSOA11NM", "LAD19CD"),
        ("LSOA21", bridge, "LSOA21CD", "LSOA21NM", "LAD22CD"),
    ):
        district = DISTRICT_OF.format(col=lsoa_name)
        found = con.execute(
            f"SELECT {district}, {code}, count(DISTINCT {lsoa}) FROM {source} GROUP BY 1, 2"
        ).fetchall()
        if any(not d for d, _, _ in found):
            sys.exit(f"{vintage}: an LSOA name without the '<district> 000A' form")
        held: dict[str, Counter[str]] = defaultdict(Counter)
        for d, c, n in found:
            held[d][c] += n
        for d, codes in held.items():
            rows.append((vintage, codes.most_common(1)[0][0], d))
            _check_one_force(f"{vintage} name {d!r}", codes)
    return rows


def _force_of() -> dict[str, str]:
    force_of: dict[str, str] = {}
    for force, codes in FORCES.items():
        for code in codes:
            if code in force_of:
                sys.exit(f"{code} given to both {force_of[code]} and {force}")
            force_of[code] = force
    return force_of


def _check_one_force(what: str, codes: Counter[str]) -> None:
    forces = {_force_of().get(c) for c in codes}
    if len(forces) != 1 or None in forces:
        sys.exit(f"{what}: its LSOAs lie in districts of {sorted(map(str, forces))}")


def main() -> None:
    force_of = _force_of()
    if len(FORCES) != 43:
        sys.exit(f"{len(FORCES)} forces, expected the 43 territorial forces")
    rows = sorted(set(_rows()), key=lambda r: (r[1], VINTAGES.index(r[0]), r[2]))
    codes = {c for v, c, _ in rows if v in ("LAD19", "LAD22")}
    missing = sorted(codes - force_of.keys())
    if missing:
        sys.exit(f"no force for {', '.join(missing)}")
    unused = sorted(force_of.keys() - codes)
    if unused:
        sys.exit(f"codes in no lookup: {', '.join(unused)}")
    by_name: dict[str, set[str]] = defaultdict(set)
    for _, code, name in rows:
        by_name[name].add(force_of[code])
    clashing = {n: f for n, f in by_name.items() if len(f) > 1}
    if clashing:
        sys.exit(f"names with two forces: {clashing}")
    with OUT.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["lad_code", "lad_name", "vintage", "force"])
        for vintage, code, name in rows:
            writer.writerow([code, name, vintage, force_of[code]])
    print(f"wrote {len(rows)} rows, {len(codes)} district codes, {len(by_name)} names to {OUT}")


if __name__ == "__main__":
    main()
