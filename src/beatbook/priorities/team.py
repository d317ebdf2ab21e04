"""The team's own priorities: a place found by street name or a point on the map, a problem
in the team's words and the inspector's reason, recorded as a proposed priority.

A team names the priorities it chose at a meeting ("Westcotes Drive: ASB and street life
around the hostel"), not only the ones BeatBook proposes. Such a priority must still find its
crimes each month, so its place is one of the area's places as proposals name them
(:func:`beatbook.priorities.naming.name_places`: every police.uk snap point of one street in
one ward is one place), with the same key:

* **by street name**: the places whose name, normalised as a concern's place is
  (:func:`beatbook.concerns.matching.normalise_place`: "Narborough Rd" is "Narborough
  Road"), equals the one given. A street in two wards is offered in both (say which ward);
  a name that matches nothing is refused with the closest names;
* **by a point on the map**: the place of the snap point nearest to it, if one lies within
  the radius (:data:`beatbook.settings.PLACE_RADIUS`); its ward is that point's ward (the ward
  of the LSOA police.uk gives its crimes). The other places within the radius are offered.

The problem is one of ``reference/concern_problems.csv`` (slug or label); it is stored as its
police.uk problem group where it has one (drug dens and cuckooing are weighed, counted and
assessed as drugs), else as itself (speeding). The team's words for it and the inspector's
reason are kept in the proposed event (``problem_words``, ``team_reason``) and the reason
also as the priority's reason. Every check names the field, with the same words for the
command line and the desk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.concerns.matching import normalise_place, snap_points
from beatbook.errors import DataMissingError, InputError
from beatbook.geo import to_bng
from beatbook.months import CALENDAR, add_months
from beatbook.priorities import lifecycle
from beatbook.priorities.naming import name_places
from beatbook.reference import ConcernProblem, concern_problems
from beatbook.settings import DESCRIPTION, PLACE_RADIUS, PLACE_RADIUS_RANGE, PRIORITY_LABEL
from beatbook.store import Store

# Who raised a priority the team adds ('data' and 'mix' are BeatBook's own proposals).
TEAM_ORIGINS = ("residents", "partners", "team")
SUGGESTIONS = 3


@dataclass(frozen=True)
class PlaceOption:
    """One place a team priority can be at: its ward, label, key and snap points."""

    ward: str
    place: str
    place_key: str
    snap_points: list[dict[str, Any]]  # location, longitude, latitude
    crimes: int  # located crimes and ASB at its points, every stored month
    distance_m: float | None = None  # from the map point; None when found by name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def area_places(store: Store, area_name: str) -> tuple[areas_mod.Area, pl.DataFrame]:
    """The area and its snap points (every stored month) with their place:
    location, longitude, latitude, ward, place_key, place, crimes, x, y (metres)."""
    area = areas_mod.resolve(store, area_name)
    stored = q.months_with_data(store, *CALENDAR)
    crimes = q.incidents(store, area, stored[0], stored[-1]) if stored else None
    if crimes is None or crimes.is_empty():
        raise DataMissingError(
            f"no located crimes stored for {area.name}: its police.uk street points are "
            "the places a priority can be at"
        )
    point = ["location", "longitude", "latitude"]
    points = snap_points(crimes)
    wards = q.ward_labels(store, points["lsoa_code"].drop_nulls().unique().to_list())
    points = points.join(wards.select("lsoa_code", "ward"), on="lsoa_code", how="left")
    points = points.with_columns(pl.col("ward").fill_null("unknown ward"))
    named = name_places(points).join(points.select(*point, "crimes"), on=point)
    x, y = to_bng(named["longitude"].to_numpy(), named["latitude"].to_numpy())
    return area, named.with_columns(pl.Series("x", x), pl.Series("y", y))


def _option(places: pl.DataFrame, key: str, distance: float | None = None) -> PlaceOption:
    rows = places.filter(pl.col("place_key") == key).sort(["location", "longitude", "latitude"])
    first = rows.row(0, named=True)
    return PlaceOption(
        ward=first["ward"],
        place=first["place"],
        place_key=key,
        snap_points=rows.select("location", "longitude", "latitude").to_dicts(),
        crimes=int(rows["crimes"].sum()),
        distance_m=None if distance is None else round(distance),
    )


def places_by_street(store: Store, area_name: str, street: str) -> list[PlaceOption]:
    """The area's places called ``street`` (one per ward it runs through), busiest first;
    an InputError with the closest names when none is."""
    wanted = normalise_place(street or "")
    if not wanted:
        raise InputError("street: give a street or place name, or a point on the map")
    area, places = area_places(store, area_name)
    labels = places.select("place_key", "place").unique().sort("place", "place_key")
    keys = [normalise_place(p) for p in labels["place"].to_list()]
    found = [k for k, n in zip(labels["place_key"].to_list(), keys, strict=True) if n == wanted]
    if not found:
        close = process.extract(wanted, dict(enumerate(keys)), scorer=fuzz.WRatio, limit=20)
        names = list(dict.fromkeys(labels["place"][int(i)] for _, score, i in close if score >= 70))
        hint = f"; the closest: {', '.join(names[:SUGGESTIONS])}" if names else ""
        raise InputError(
            f"street {street.strip()[:80]!r}: no police.uk street of {area.name} by that name{hint}"
        )
    return sorted((_option(places, k) for k in found), key=lambda o: (-o.crimes, o.ward))


def places_near(
    store: Store, area_name: str, longitude: float, latitude: float, radius: int = PLACE_RADIUS
) -> list[PlaceOption]:
    """The places with a snap point within ``radius`` metres of the point, nearest first."""
    PLACE_RADIUS_RANGE.check(radius, "radius")
    if not (-180 <= longitude <= 180 and -90 <= latitude <= 90):
        raise InputError(
            f"map point {latitude}, {longitude}: expected a latitude and longitude in degrees"
        )
    area, places = area_places(store, area_name)
    px, py = to_bng(np.array([longitude]), np.array([latitude]))
    dist = np.hypot(places["x"].to_numpy() - px[0], places["y"].to_numpy() - py[0])
    near = places.with_columns(pl.Series("distance", dist))
    if not np.isfinite(dist).any() or float(np.nanmin(dist)) > radius:
        nearest = float(np.nanmin(dist)) if np.isfinite(dist).any() else float("nan")
        raise InputError(
            f"map point {latitude:.5f}, {longitude:.5f}: no police.uk street point of "
            f"{area.name} within {radius} m (the nearest is {nearest:,.0f} m away); "
            "pick a point inside the area"
        )
    within = (
        near.filter(pl.col("distance") <= radius)
        .group_by("place_key")
        .agg(pl.col("distance").min())
        .sort(["distance", "place_key"])
    )
    return [_option(places, k, d) for k, d in within.iter_rows()]


def find_place(
    store: Store,
    area_name: str,
    *,
    street: str | None = None,
    ward: str | None = None,
    longitude: float | None = None,
    latitude: float | None = None,
    radius: int = PLACE_RADIUS,
) -> PlaceOption:
    """The one place a team priority is at: by a map point if one is given (the nearest
    place), else by street name (in ``ward`` when the street runs through several)."""
    if (longitude is None) != (latitude is None):
        raise InputError("map point: give both the latitude and the longitude")
    if longitude is not None and latitude is not None:
        return places_near(store, area_name, longitude, latitude, radius)[0]
    options = places_by_street(store, area_name, street or "")
    chosen = [o for o in options if not ward or o.ward.casefold() == ward.strip().casefold()]
    if not chosen:
        raise InputError(
            f"ward {ward!r}: {options[0].place} is in "
            f"{' and '.join(o.ward for o in options)}, not there"
        )
    if len(chosen) > 1:
        raise InputError(
            f"street {street!r}: {chosen[0].place} runs through {len(chosen)} wards "
            f"({', '.join(o.ward for o in chosen)}); say which ward"
        )
    return chosen[0]


def check_problem(problem: str | None) -> ConcernProblem:
    """The problem (slug or label of ``concern_problems.csv``, any case)."""
    wanted = " ".join((problem or "").replace("-", " ").split()).casefold()
    for p in concern_problems():
        if wanted in (p.slug.replace("-", " "), p.label.casefold()):
            return p
    listed = ", ".join(p.slug for p in concern_problems())
    given = f" {problem.strip()[:60]!r}" if problem and problem.strip() else ""
    raise InputError(f"problem{given}: expected one of {listed}")


def check_origin(origin: str | None) -> str:
    if origin not in TEAM_ORIGINS:
        raise InputError(
            f"origin {origin!r}: expected {', '.join(TEAM_ORIGINS[:-1])} or "
            f"{TEAM_ORIGINS[-1]} (who raised it)"
        )
    return origin


def default_month(store: Store) -> dt.date:
    """The month after the latest stored data: the month a proposal made now is for."""
    stored = q.months_with_data(store, *CALENDAR)
    if not stored:
        raise DataMissingError("no police.uk street crimes stored: run 'beatbook ingest' first")
    return add_months(stored[-1], 1)


def add_team_priority(
    store: Store,
    area_name: str,
    place: PlaceOption,
    *,
    problem: str,
    reason: str | None,
    origin: str,
    actor: str,
    month: dt.date | None = None,
    words: str | None = None,
    label: str | None = None,
) -> int:
    """Record the team's priority as proposed for ``month`` (default: the month after the
    data); it is then adopted, continued and closed like any other. Returns its id."""
    kind = check_problem(problem)
    origin = check_origin(origin)
    reason = DESCRIPTION.check(reason, "reason")
    words = PRIORITY_LABEL.check(words, "problem in your words") or kind.label
    label = PRIORITY_LABEL.check(label, "label") or place.place
    area_ref = areas_mod.reference(areas_mod.resolve(store, area_name))
    return lifecycle.add_priority(
        store,
        area=area_ref,
        ward=place.ward,
        place=label,
        place_key=place.place_key,
        snap_points=place.snap_points,
        problem=kind.problem_group or kind.slug,
        month=month or default_month(store),
        origin=origin,
        actor=actor,
        reason=reason,
        details={"problem_words": words, "concern_problem": kind.slug},
    )


def problem_words(p: dict[str, Any]) -> str | None:
    """The team's words for a stored priority's problem (None for BeatBook's proposals)."""
    events = p.get("events") or []
    return events[0]["details"].get("problem_words") if events else None
