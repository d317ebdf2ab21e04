"""Residents' concerns once stored: what priorities read, what the team lists, fixes and closes.

Two views, kept apart on purpose:

* :func:`concerns_in` is what analysis and anything public may use: category,
  place, date, source, status. Never the contact (``concern_contacts``, read by
  no BeatBook function) and never the free text a resident wrote, which may
  hold personal details ("my neighbour at number 12 ...").
* :func:`team_list` and :func:`unmatched` are for the team's own screens and may
  show the free text (``team_list`` only when asked), still never the contact.

A concern belongs to an area when it was recorded for that area, or when its
snap point's LSOA lies in it (so a concern imported for Leicester counts in the
ward it falls in); for a polygon area, when its snap point lies inside. Months
run from ``start``'s month to ``end``'s month inclusive, as in every BeatBook
period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import shapely
import sqlalchemy as sa
from shapely import wkt as shapely_wkt

from beatbook import queries
from beatbook.areas import Area, lsoas_of, reference, resolve
from beatbook.concerns.csv_import import parse_coordinate, parse_date
from beatbook.concerns.matching import PlaceMatch, PlaceMatcher
from beatbook.errors import InputError
from beatbook.months import parse_month
from beatbook.records.schema import concern_descriptions, concerns
from beatbook.reference import concern_problems
from beatbook.store import Store

__all__ = ["STATUSES", "close", "concerns_in", "match", "placed", "team_list", "unmatched"]

STATUSES = ("open", "closed")
PUBLIC_COLUMNS = {
    "concern_id": pl.Int64,
    "reported_on": pl.Date,
    "month": pl.Date,
    "place": pl.Utf8,
    "longitude": pl.Float64,
    "latitude": pl.Float64,
    "lsoa_code": pl.Utf8,
    "problem": pl.Utf8,
    "problem_label": pl.Utf8,
    "problem_group": pl.Utf8,
    "source": pl.Utf8,
    "status": pl.Utf8,
}


def _problems() -> pl.DataFrame:
    rows = [(p.slug, p.label, p.problem_group) for p in concern_problems()]
    return pl.DataFrame(
        rows,
        schema={"problem": pl.Utf8, "problem_label": pl.Utf8, "problem_group": pl.Utf8},
        orient="row",
    )


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise InputError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")


def _dtype(type_: sa.types.TypeEngine[Any]) -> pl.DataType:
    """The polars type of a ``concerns`` column (as DuckDB's Arrow results gave them)."""
    if isinstance(type_, sa.BigInteger):
        return pl.Int64()
    if isinstance(type_, sa.Integer):
        return pl.Int32()
    if isinstance(type_, sa.Date):
        return pl.Date()
    if isinstance(type_, sa.Double):
        return pl.Float64()
    if isinstance(type_, sa.ARRAY):
        return pl.List(pl.Utf8)
    return pl.Utf8()


def _select(
    store: Store,
    columns: Sequence[sa.ColumnElement[Any]],
    area: Area | None,
    where: Sequence[sa.ColumnElement[bool]],
) -> pl.DataFrame:
    """Concerns matching ``where`` and, when given, belonging to ``area`` (see module notes).

    The area's LSOAs come from the store (ONS lookups) before the records are read."""
    c = concerns.c
    if area is not None and not area.polygon_wkt:
        codes = set(lsoas_of(store, area))
        if area.local_authorities:  # works before any ONS lookup is imported
            codes |= queries.lsoas_in_local_authorities(store, area.local_authorities)
        where = [*where, sa.or_(c.area == reference(area), c.lsoa_code.in_(sorted(codes)))]
    selected = [*columns, c.area.label("_area"), c.longitude.label("_x"), c.latitude.label("_y")]
    query = sa.select(*selected).where(*where).order_by(c.reported_on, c.concern_id)
    with store.team_records.connect() as connection:
        found = [tuple(r) for r in connection.execute(query)]
    rows = pl.DataFrame(
        found, schema={col.name: _dtype(col.type) for col in selected}, orient="row"
    )
    if area is not None and area.polygon_wkt:
        polygon = shapely_wkt.loads(area.polygon_wkt)
        inside = shapely.contains_xy(
            polygon, rows["_x"].fill_null(0).to_numpy(), rows["_y"].fill_null(0).to_numpy()
        )
        rows = rows.filter(pl.Series(inside) | (pl.col("_area") == reference(area)))
    return rows.drop("_area", "_x", "_y")


def concerns_in(
    store: Store, area: Area, start: dt.date, end: dt.date, *, status: str | None = None
) -> pl.DataFrame:
    """Concerns about ``area`` reported in the months of ``start`` .. ``end`` (safe to publish).

    Columns: concern_id (Int64), reported_on (Date), month (Date, first of the month), place
    (police.uk snap point, null when unmatched), longitude, latitude (Float64, null when
    unmatched), lsoa_code, problem (slug), problem_label, problem_group (police.uk problem
    group, null for speeding and parking), source, status. Never the contact or free text.
    """
    _check_status(status)
    c = concerns.c
    where: list[sa.ColumnElement[bool]] = [
        c.month.between(start.replace(day=1), end.replace(day=1))
    ]
    if status:
        where.append(c.status == status)
    columns = [c.concern_id, c.reported_on, c.month, c.place, c.longitude, c.latitude]
    columns += [c.lsoa_code, c.problem, c.source, c.status]
    rows = _select(store, columns, area, where)
    joined = rows.join(_problems(), on="problem", how="left", maintain_order="left")
    return joined.select([pl.col(c).cast(t) for c, t in PUBLIC_COLUMNS.items()])


# --- the team's views and edits -----------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def team_list(
    store: Store,
    *,
    area: str | None = None,
    from_: str | None = None,
    to: str | None = None,
    status: str | None = None,
    problem: str | None = None,
    free_text: bool = False,
) -> list[dict[str, Any]]:
    """Stored concerns for the team, oldest first (``concerns list``); never the contact.

    ``from_``/``to`` are months (YYYY-MM); ``free_text`` adds what the resident wrote
    (where_text, problem_text, and description from the web form), which may hold personal
    details: not for publication.
    """
    _check_status(status)
    slugs = [p.slug for p in concern_problems()]
    if problem is not None and problem not in slugs:
        raise InputError(f"--problem {problem!r}: expected one of {', '.join(slugs)}")
    c = concerns.c
    where: list[sa.ColumnElement[bool]] = []
    if from_ is not None:
        where.append(c.month >= parse_month(from_, "--from", ()))
    if to is not None:
        where.append(c.month <= parse_month(to, "--to", ()))
    if status is not None:
        where.append(c.status == status)
    if problem is not None:
        where.append(c.problem == problem)
    names = [
        "concern_id",
        "reported_on",
        "area",
        "place",
        "lsoa_code",
        "problem",
        "problem_label",
        "problem_group",
        "source",
        "status",
        "closed_on",
        "match_method",
        "match_score",
    ]
    names += ["where_text", "problem_text"] if free_text else []
    columns = [
        c.area_name.label("area") if n == "area" else c[n]
        for n in names
        if n not in ("problem_label", "problem_group")
    ]
    resolved = resolve(store, area) if area else None
    rows = _select(store, columns, resolved, where)
    rows = rows.join(_problems(), on="problem", how="left", maintain_order="left").select(names)
    found = [{k: _iso(v) for k, v in r.items()} for r in rows.iter_rows(named=True)]
    if free_text:
        written = _descriptions(store, [r["concern_id"] for r in found])
        for r in found:
            r["description"] = written.get(r["concern_id"])
    return found


def _descriptions(store: Store, ids: list[int]) -> dict[int, str]:
    """What residents wrote on the web form, by concern."""
    if not ids:
        return {}
    d = concern_descriptions.c
    with store.team_records.connect() as connection:
        rows = connection.execute(
            sa.select(d.concern_id, d.description).where(d.concern_id.in_(ids))
        ).tuples()
        return {int(i): text for i, text in rows}


def placed(store: Store, concern_id: int) -> PlaceMatch:
    """Where a stored concern was placed: its snap point, or ``place`` None (unmatched)."""
    c = concerns.c
    with store.team_records.connect() as connection:
        place, longitude, latitude, lsoa, method = _concern(
            connection, concern_id, c.place, c.longitude, c.latitude, c.lsoa_code, c.match_method
        )
    return PlaceMatch(place, longitude, latitude, lsoa, method=method)


def unmatched(store: Store, *, area: str | None = None) -> list[dict[str, Any]]:
    """Open concerns whose place matched no snap point, with why and the best suggestions."""
    c = concerns.c
    where = [c.place.is_(None), c.status == "open"]
    if area:
        where.append(c.area == reference(resolve(store, area)))
    query = (
        sa.select(
            c.concern_id,
            c.reported_on,
            c.area_name.label("area"),
            c.where_text,
            c.problem,
            c.source,
            c.match_note.label("note"),
            c.suggestions,
            c.source_file,
            c.source_line,
        )
        .where(*where)
        .order_by(c.reported_on, c.concern_id)
    )
    with store.team_records.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [{k: _iso(v) for k, v in r.items()} for r in rows]


def _concern(
    connection: sa.Connection, concern_id: int, *columns: sa.ColumnElement[Any]
) -> tuple[Any, ...]:
    found = connection.execute(
        sa.select(*columns).where(concerns.c.concern_id == concern_id)
    ).first()
    if found is None:
        raise InputError(f"concern {concern_id}: no such concern (see 'beatbook concerns list')")
    return tuple(found)


def match(
    store: Store,
    concern_id: int,
    *,
    place: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> dict[str, Any]:
    """A person fixes a concern's place: a street of its area by name, or coordinates.

    The name must pass the same threshold-and-margin rule as an import
    (:mod:`beatbook.concerns.csv_import`); the concern then records ``match_method`` 'by hand'.
    The place is matched on the store's street data first, then the concern is updated.
    """
    if (place is None) == (latitude is None and longitude is None):
        raise InputError("concerns match: give --place, or --latitude and --longitude")
    if place is None and (latitude is None or longitude is None):
        raise InputError("concerns match: give both --latitude and --longitude")
    records = store.team_records
    with records.connect() as connection:
        (area_ref,) = _concern(connection, concern_id, concerns.c.area)
    matcher = PlaceMatcher.for_area(store, resolve(store, area_ref))
    if place is not None:
        found = matcher.by_name(place)
        what = f"--place {place!r}"
    else:
        assert latitude is not None and longitude is not None
        for value, axis in ((latitude, "latitude"), (longitude, "longitude")):
            try:
                parse_coordinate(str(value), axis)
            except ValueError as exc:
                raise InputError(f"--{axis} {exc}") from None
        found = matcher.by_coordinates(longitude, latitude)
        what = f"--latitude {latitude} --longitude {longitude}"
    if found.place is None:
        hint = f"; closest: {', '.join(found.suggestions)}" if found.suggestions else ""
        raise InputError(f"{what}: {found.note}{hint}")
    update = (
        sa.update(concerns)
        .where(concerns.c.concern_id == concern_id)
        .values(
            place=found.place,
            longitude=found.longitude,
            latitude=found.latitude,
            lsoa_code=found.lsoa_code,
            match_method="by hand",
            match_score=found.score,
            match_note=None,
            suggestions=None,
        )
    )
    records.transact(lambda connection: connection.execute(update))
    return {
        "concern_id": concern_id,
        "place": found.place,
        "longitude": found.longitude,
        "latitude": found.latitude,
        "lsoa_code": found.lsoa_code,
        "score": found.score,
    }


def close(
    store: Store, concern_id: int, *, on: str | None = None, today: dt.date | None = None
) -> dict[str, Any]:
    """Close a concern (dealt with, or no longer a problem). Closing it again changes nothing.

    Whether it is still open is read in the transaction that closes it, so two people
    closing it at once close it once (the first day stands)."""
    c = concerns.c

    def work(connection: sa.Connection) -> dict[str, Any]:
        status, closed_on, reported_on = _concern(
            connection, concern_id, c.status, c.closed_on, c.reported_on
        )
        if status == "closed":
            return {
                "concern_id": concern_id,
                "status": status,
                "closed_on": _iso(closed_on),
                "changed": False,
            }
        try:  # no side effects: safe to run again
            day = parse_date(on, today) if on else (today or dt.date.today())
        except ValueError as exc:
            raise InputError(f"--on {exc}") from None
        if day < reported_on:
            raise InputError(f"--on {day}: before the concern was reported ({reported_on})")
        connection.execute(
            sa.update(concerns)
            .where(c.concern_id == concern_id)
            .values(status="closed", closed_on=day)
        )
        return {
            "concern_id": concern_id,
            "status": "closed",
            "closed_on": day.isoformat(),
            "changed": True,
        }

    return store.team_records.transact(work)
