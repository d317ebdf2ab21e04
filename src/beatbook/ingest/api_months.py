"""A team area's month of street crimes from the police.uk API, stored like a file import.

police.uk's monthly files come out weeks after its API has the month; ``beatbook fetch``
pulls one area's crimes for that month through :class:`~beatbook.ingest.policeuk_api.PoliceUkApi`
(polygon POST, the 10,000-crime split, the 15 requests a second) and stores them as the
force's ``street`` partition of the month, under the counting rules of a file import:

* a crime's ``persistent_id`` is the file's Crime ID; anti-social behaviour has none (the
  API writes ``""``), and a Crime ID repeated in the month counts once (``crime_repeats``);
* the category slug becomes the file's crime type through ``reference/crime_types.csv``;
* ``location.street.name`` is the file's Location ('On or near ...'); ``outcome_status``
  its Last outcome category (null for ASB, as in the files);
* the API gives no LSOA: each crime gets the stored LSOA boundary (``beatbook areas
  import-boundaries``) its point lies in, so its codes are of those boundaries' vintage;
* British Transport Police crimes (``location_type`` 'BTP') are in BTP's files, not the
  force's, so they are left out and counted; rows that are individually wrong (a month
  other than the one asked for, an unknown category, coordinates outside the UK) are
  quarantined with their position in the answer and the reason.

``partitions`` records the month as ``origin`` 'api', ``publication`` the day it was fetched
and ``coverage`` the area (``custom:West Leicester``): the partition holds that area's
crimes only, so queries.py counts the month for areas inside it and as missing for every
other (the force, its districts). Re-fetching replaces the API partition. A fetch never
replaces a month imported from a file or archive; a later file import replaces the fetch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa
import shapely
from shapely import wkt as shapely_wkt
from shapely.geometry.base import BaseGeometry

from beatbook import aggregates
from beatbook.errors import InputError
from beatbook.ingest.kinds import UK_LAT, UK_LON
from beatbook.ingest.policeuk_api import PoliceUkApi
from beatbook.reference import crime_types, force_of_district
from beatbook.store import REPEATS_SQL, Store

ORIGIN = "api"
KIND = "street"
# A team area straddling forces would be filed under one force: refuse it unless at least
# this share of its surface lies in the districts of one force.
MIN_FORCE_SHARE = 0.95
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_DISTRICT = re.compile(r"^(.*) [0-9]{3}[A-Z]$")


@dataclass
class FetchResult:
    """What one fetch stored, and what it left out."""

    force: str
    month: str
    coverage: str  # the area the partition holds: areas.reference() of it
    fetched_on: str  # 'YYYY-MM-DD', recorded as the partition's publication
    rows_stored: int  # street rows, ASB included, repeated Crime IDs included
    asb_rows: int
    repeated_rows: int  # rows repeating a Crime ID already counted in the month
    no_lsoa: int  # located in no stored LSOA boundary: in the area, in no district
    quarantined: int
    btp_left_out: int  # British Transport Police crimes: in BTP's files, not the force's
    replaced_rows: int | None  # rows of the earlier fetch of this month it replaced

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_month(api: PoliceUkApi, month: str) -> str:
    """``month`` ('YYYY-MM' or 'latest') as a month police.uk's API has street crimes for
    (``crimes-street-dates``); any other month is refused, naming the latest."""
    wanted = month.strip().lower()
    if wanted != "latest" and not _MONTH.fullmatch(wanted):
        raise InputError(f"--month {month!r}: expected YYYY-MM (e.g. 2025-06) or 'latest'")
    dates = api.crimes_street_dates()
    if not dates:
        raise InputError("police.uk's crimes-street-dates lists no month: nothing to fetch")
    if wanted == "latest":
        return dates[0]
    if wanted not in dates:
        raise InputError(
            f"--month {wanted}: police.uk's API has no street crimes for it; "
            f"crimes-street-dates lists {len(dates)} months, {dates[-1]} to {dates[0]} "
            f"(latest {dates[0]}): fetch one of those, or import the month's file"
        )
    return wanted


def fetch_month(
    store: Store,
    api: PoliceUkApi,
    shape: BaseGeometry,
    coverage: str,
    month: str,
    *,
    force: str | None = None,
    today: dt.date | None = None,
) -> FetchResult:
    """Fetch the crimes inside ``shape`` (WGS84 lon/lat) for ``month`` ('YYYY-MM' or
    'latest') and store them as ``force``'s API partition of the month covering
    ``coverage`` (an area reference). ``force``: the police.uk force id, else the force
    policing the districts under the shape. Nothing is stored if any step fails."""
    lsoas = _LsoaIndex(store, shape)
    force = force or lsoas.force()
    month = resolve_month(api, month)
    _refuse_other_origin(store, force, month, coverage)  # before asking the API for crimes
    crimes = sorted(api.crimes_street(shape, month), key=_api_order)
    rows = _Rows(force, month, coverage, _force_name(store, force), lsoas)
    for position, crime in enumerate(crimes, start=1):
        rows.add(position, crime)
    fetched_on = f"{today or dt.date.today():%Y-%m-%d}"
    replaced = _store(store, rows, fetched_on, _sha256(crimes))
    repeated = store.scalar(
        "SELECT count(*) FROM crime_repeats WHERE force = ? AND month = ?",
        [force, f"{month}-01"],
    )
    return FetchResult(
        force=force,
        month=month,
        coverage=coverage,
        fetched_on=fetched_on,
        rows_stored=len(rows.columns["crime_type"]),
        asb_rows=sum(c is None for c in rows.columns["crime_id"]),
        repeated_rows=int(repeated),
        no_lsoa=sum(c is None for c in rows.columns["lsoa_code"]),
        quarantined=len(rows.quarantined),
        btp_left_out=rows.btp,
        replaced_rows=replaced,
    )


def _api_order(crime: dict[str, Any]) -> tuple[str, str]:
    """A fixed order for the answer's crimes (the API's order is not stable)."""
    return (str(crime.get("id", "")).zfill(20), str(crime.get("persistent_id", "")))


def _sha256(crimes: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(crimes, sort_keys=True).encode()).hexdigest()


class _LsoaIndex:
    """The stored LSOA boundaries under a shape: which LSOA a point lies in, and which force
    polices the districts under the shape."""

    def __init__(self, store: Store, shape: BaseGeometry) -> None:
        self.shape = shape
        found = [
            (code, name, geom)
            for code, name, wkt in store.rows(
                "SELECT lsoa_code, lsoa_name, geometry_wkt FROM lsoa_boundaries ORDER BY lsoa_code"
            )
            if (geom := shapely_wkt.loads(wkt)).intersects(shape)
        ]
        if not found:
            raise InputError(
                "no stored LSOA boundary lies under the area: the police.uk API gives no LSOA, "
                "so BeatBook places each crime in a stored boundary; import the area's "
                "boundaries first ('beatbook areas import-boundaries')"
            )
        self.codes = [c for c, _, _ in found]
        self.names = [n for _, n, _ in found]
        self.geoms = [g for _, _, g in found]
        self.tree = shapely.STRtree(self.geoms)

    def force(self) -> str:
        """The force policing the districts under most of the shape (reference/lad_forces)."""
        by_force: dict[str | None, float] = {}
        for name, geom in zip(self.names, self.geoms, strict=True):
            district = _district(name)
            owner = force_of_district(district) if district else None
            by_force[owner] = by_force.get(owner, 0.0) + geom.intersection(self.shape).area
        total = sum(by_force.values())
        owner, share = max(by_force.items(), key=lambda kv: kv[1])
        if owner is None or share < MIN_FORCE_SHARE * total:
            shares = ", ".join(f"{f or 'unknown'} {a / total:.0%}" for f, a in by_force.items())
            raise InputError(
                f"cannot tell which force polices the area ({shares} of its surface by the "
                "districts under it): pass --force, or fetch one force's part at a time"
            )
        return owner

    def locate(self, lon: float, lat: float) -> tuple[str, str] | None:
        """(code, name) of the stored LSOA holding the point, the lowest code on an edge."""
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        first = min(int(i) for i in hits)
        return self.codes[first], self.names[first]


def _district(lsoa_name: str | None) -> str | None:
    """'North West Leicestershire 011F' -> 'North West Leicestershire' (as the files do)."""
    m = _DISTRICT.match(lsoa_name or "")
    return m[1] if m else None


def _force_name(store: Store, force: str) -> str | None:
    """The force's name as its files write it ('Leicestershire Police'), if any are stored."""
    return store.scalar(
        "SELECT any_value(falls_within) FROM street_crimes WHERE force = ?", [force]
    )


class _Rows:
    """The answer's crimes as street_crimes rows (column lists), the quarantined ones apart."""

    def __init__(
        self, force: str, month: str, coverage: str, force_name: str | None, lsoas: _LsoaIndex
    ) -> None:
        self.force, self.month, self.coverage, self.lsoas = force, month, coverage, lsoas
        self.force_name = force_name
        self.source = f"police.uk API crimes-street {month} ({coverage})"
        self.slugs = {t.slug: t.name for t in crime_types()}  # API category -> file's type
        self.columns: dict[str, list[Any]] = {
            name: []
            for name in (
                "crime_id",
                "longitude",
                "latitude",
                "location",
                "lsoa_code",
                "lsoa_name",
                "crime_type",
                "last_outcome",
                "context",
                "source_line",
            )
        }
        self.quarantined: list[tuple[int, str, str]] = []  # (position, reason, raw JSON)
        self.btp = 0

    def add(self, position: int, crime: dict[str, Any]) -> None:
        if crime.get("location_type") == "BTP":
            self.btp += 1
            return
        reason, row = self._parse(crime)
        if reason is not None:
            self.quarantined.append((position, reason, json.dumps(crime, sort_keys=True)))
            return
        row["source_line"] = position
        for name, value in row.items():
            self.columns[name].append(value)

    def _parse(self, crime: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """(why the crime is quarantined or None, its row)."""
        if crime.get("month") != self.month:
            return f"month {crime.get('month')!r} is not the month fetched ({self.month})", {}
        slug = crime.get("category")
        if slug not in self.slugs:
            return (
                f"category {slug!r} is not a police.uk crime type in reference/crime_types.csv",
                {},
            )
        location = crime.get("location") or {}
        try:
            lon, lat = float(location["longitude"]), float(location["latitude"])
        except (KeyError, TypeError, ValueError):
            return "location has no longitude and latitude as numbers", {}
        if not (UK_LON[0] <= lon <= UK_LON[1] and UK_LAT[0] <= lat <= UK_LAT[1]):
            return f"location {lat},{lon} is outside the UK", {}
        street = (location.get("street") or {}).get("name")
        outcome = crime.get("outcome_status") or {}
        placed = self.lsoas.locate(lon, lat)
        return None, {
            "crime_id": crime.get("persistent_id") or None,
            "longitude": lon,
            "latitude": lat,
            "location": (street or "").strip() or None,
            "lsoa_code": placed[0] if placed else None,
            "lsoa_name": placed[1] if placed else None,
            "crime_type": self.slugs[slug],
            "last_outcome": outcome.get("category") or None,
            "context": crime.get("context") or None,
        }


def _refuse_other_origin(store: Store, force: str, month: str, coverage: str) -> int | None:
    """Rows of this month's API partition of the same area (None when there is none); refuse
    when the month came from a file or archive, or from another area's fetch."""
    found = store.first(
        "SELECT origin, coverage, source_file, rows_stored FROM partitions "
        "WHERE force = ? AND month = ? AND kind = ?",
        [force, f"{month}-01", KIND],
    )
    if found is None:
        return None
    origin, covered, source, rows = found
    if origin != ORIGIN:
        raise InputError(
            f"{force} {month} is already stored from {origin} import {source} ({rows:,} rows, "
            "the whole force): a fetch never replaces a file or archive import"
        )
    if covered != coverage:
        raise InputError(
            f"{force} {month} is already stored from the police.uk API for {covered}: one "
            f"month of a force holds one area's fetch; import the month's file to have both"
        )
    return int(rows)


def _store(store: Store, rows: _Rows, fetched_on: str, sha: str) -> int | None:
    """Replace the month's API partition with the rows, in one transaction."""
    force, day = rows.force, f"{rows.month}-01"
    n = len(rows.columns["crime_type"])
    types = {"longitude": pa.float64(), "latitude": pa.float64(), "source_line": pa.int32()}
    _rows = pa.table(  # noqa: F841 - read by DuckDB's replacement scan below
        {k: pa.array(v, type=types.get(k, pa.string())) for k, v in rows.columns.items()}
    )
    with store.transaction() as con:
        before = _refuse_other_origin(store, force, rows.month, rows.coverage)
        key = [force, day]
        for table, extra in (
            ("street_crimes", ""),
            ("crime_repeats", ""),
            ("quarantine", " AND kind = 'street'"),
            ("partitions", " AND kind = 'street'"),
        ):
            con.execute(f"DELETE FROM {table} WHERE force = ? AND month = ?{extra}", key)
        con.execute(
            "INSERT INTO street_crimes SELECT ?, ?::DATE, crime_id, ?, ?, longitude, latitude, "
            "location, lsoa_code, lsoa_name, "
            "NULLIF(regexp_extract(lsoa_name, '^(.*) [0-9]{3}[A-Z]$', 1), ''), crime_type, "
            "last_outcome, context, ?, source_line FROM _rows",
            [force, day, rows.force_name, rows.force_name, rows.source],
        )
        con.execute(REPEATS_SQL.format(partitions="SELECT ?, ?::DATE"), key)
        if rows.quarantined:
            con.executemany(
                "INSERT INTO quarantine VALUES (?, ?, 'street', ?, ?, ?, ?)",
                [(force, day, rows.source, pos, why, raw) for pos, why, raw in rows.quarantined],
            )
        con.execute(
            "INSERT INTO partitions (force, month, kind, source_file, source_sha256, rows_stored, "
            "rows_quarantined, ingested_at, origin, publication, coverage) "
            "VALUES (?, ?, 'street', ?, ?, ?, ?, now(), ?, ?, ?)",
            [
                force,
                day,
                rows.source,
                sha,
                n,
                len(rows.quarantined),
                ORIGIN,
                fetched_on,
                rows.coverage,
            ],
        )
        aggregates.refresh(con)  # the monthly counts of the partition just stored
    return before
