"""Postcode areas as rank peers (``rank --peers postcode-areas``): "30th of 99 postcode areas".

The peers are every postcode area of the imported ONS postcode directory
(``ingest/postcodes.py``), each the LSOAs most of whose postcodes it holds. A crime counts
in the postcode area of its LSOA. A postcode area is ranked only when every force policing
its districts (``reference/lad_forces.csv``, through the ONS lookup) published every month
used and its residents are known; the others are left out and named, never ranked on part
of the period (a store of one force holds no other area's crimes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from beatbook import areas as areas_mod
from beatbook import national
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.errors import DataMissingError, InputError
from beatbook.ingest.postcodes import postcode_units
from beatbook.reference import force_of_district
from beatbook.store import Store


def postcode_area_peers(store: Store) -> list[Area]:
    """Every postcode area of the imported directory, by code, each holding both LSOA
    vintages' codes; [] before a directory is imported."""
    return [
        areas_mod.resolve(store, f"postcode-area:{unit['code']}")
        for unit in postcode_units(store, level="area")
    ]


def _forces(store: Store, peers: Sequence[Area]) -> dict[str, set[str | None]]:
    """Postcode area name -> the forces policing the districts of its LSOAs (None: a
    district in no force's table, or an LSOA in no stored ONS lookup)."""
    codes = sorted({c for a in peers for c in a.lsoa_codes})
    district = dict(
        store.rows(
            "SELECT lsoa_code, any_value(lad_name) FROM lsoa_lookup "
            "WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [codes],
        )
    )
    return {
        a.name: {force_of_district(district[c]) if c in district else None for c in a.lsoa_codes}
        for a in peers
    }


def rank_peers(
    store: Store,
    area: Area,
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    year: int,
    **what: Any,
) -> dict[str, Any]:
    """The fields of :class:`beatbook.figures.peers.Peers` for ranking a postcode area
    among every postcode area with data for every month ``used``; ``what``: the
    ``crime_types`` and ``measure`` counted (as :func:`beatbook.queries.crime_counts`)."""
    if area.kind != "postcode area":
        raise InputError(
            f"--peers postcode-areas ranks a postcode area (e.g. 'postcode-area:LE'): "
            f"{area.name!r} is a {area.kind}"
        )
    peers = postcode_area_peers(store)
    published = national.published_months(store, start, end)
    forces = _forces(store, peers)
    kept, populations, left_out = [], [], []
    for peer in peers:
        why, missing = None, []
        for force in sorted(forces[peer.name], key=str):
            missing = [f"{m:%Y-%m}" for m in used if m not in published.get(str(force), set())]
            if force is None:
                why = "some of its LSOAs lie in no district of a known police force"
            elif missing:
                name = areas_mod.force_name(force)
                why = (
                    f"{name} Police published {len(used) - len(missing)} of the {len(used)} months"
                )
            if why:
                break
        if why is None:
            try:
                populations.append(pops.population(store, peer, year).population)
                kept.append(peer)
                continue
            except DataMissingError as exc:
                why = str(exc)
        left_out.append(
            {
                "name": peer.name,
                "code": peer.code,
                "force": None,
                "why": why,
                "months_missing": missing,
            }
        )
    if len(kept) < 2:
        raise DataMissingError(
            f"fewer than two postcode areas have crimes for every month and mid-{year} "
            f"residents ({len(left_out)} left out: "
            + "; ".join(f"{p['name']}: {p['why']}" for p in left_out[:3])
            + ")"
        )
    return {
        "names": [p.name for p in kept],
        "monthly": _monthly(store, kept, start, end, used, what),
        "populations": populations,
        "label": "postcode areas with data for every month",
        "year": year,
        "focus": area.name,
        "scope": "national",
        "left_out": left_out,
    }


def _monthly(
    store: Store,
    peers: Sequence[Area],
    start: dt.date,
    end: dt.date,
    used: Sequence[dt.date],
    what: dict[str, Any],
) -> list[list[int]]:
    """Each peer's count in each month used: crimes counted by LSOA in one query, each
    LSOA in the peer assigned it (a bridged code in the first peer holding it)."""
    whole = Area(
        "postcode areas",
        "custom",
        None,
        "",
        lsoa_codes=frozenset().union(*(p.lsoa_codes for p in peers)),
    )
    frame = q.crime_counts(
        store,
        whole,
        start,
        end,
        by=["lsoa_code", "month"],
        **what,
    )
    owner: dict[str, str] = {}
    for peer in peers:
        for code in sorted(peer.lsoa_codes):
            owner.setdefault(code, peer.name)
    counts: dict[tuple[str, dt.date], int] = {}
    for code, month, n in frame.iter_rows():
        key = (owner[str(code)], month)
        counts[key] = counts.get(key, 0) + int(n)
    return [[counts.get((p.name, m), 0) for m in used] for p in peers]
