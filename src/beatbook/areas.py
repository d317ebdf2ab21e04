"""Named areas: what ``--area NAME`` means.

An area is one of

* a **force area** (``Leicestershire``): the local authority districts the force
  polices, from the shipped table ``reference/lad_forces.csv`` (never from where its
  crimes fall, so it does not change with the months or forces stored). Its crimes are
  every row of the force's own files: those with no location and those it recorded in
  other forces' districts included (both are reported). Its residents are those of its
  districts. A force not in the table (British Transport Police, a test force) has no
  known districts: its crimes are counted, and rates say why there are none;
* a **local authority** (``Leicester``): crimes whose LSOA name starts with it (police.uk
  LSOA names are ``<district> <3 digits><letter>``), so it works before any lookup is imported;
* a **ward** from an imported ONS lookup (``Abbey (Leicester)`` or its code);
* a **custom** area defined with ``beatbook areas add``: LSOAs, wards, a GeoJSON polygon or
  a police.uk neighbourhood (team area) boundary (point-in-polygon on the crime coordinates);
* a **postcode area** (``LE postcode area``, ``postcode-area:LE``) or **district**
  (``LE3 postcode district``) of an imported ONS postcode directory: the LSOAs most of
  whose postcodes it holds (``ingest/postcodes.py``);
* a **difference** ``A excluding B`` (``Leicestershire excluding Leicester``).

LSOA sets always hold both the 2011 and the 2021 codes of the same places (bridged through the
ONS exact-fit lookup), because police.uk switched code vintage and population estimates come
in either.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import shapely
from shapely import wkt as shapely_wkt
from shapely.geometry.base import BaseGeometry

from beatbook import reference as reference_data
from beatbook.errors import AmbiguousAreaError, InputError, UnknownAreaError
from beatbook.ingest.geojson import check_uk_lon_lat, read_polygon
from beatbook.ingest.postcodes import postcode_units
from beatbook.store import Store

CONTAINMENT_TOLERANCE = 0.01  # share of a surface allowed outside the area it lies "inside"


class BoundarySource(Protocol):
    """Where a police.uk team area's outline comes from (the CLI passes its API client).

    Areas do no network I/O themselves: whoever asks for a team area hands one in.
    """

    def boundary(self, force: str, neighbourhood: str) -> BaseGeometry: ...


@dataclass(frozen=True)
class Area:
    """A resolved area: how to select its crimes and its residents."""

    name: str
    kind: str  # 'force area' | 'local authority' | 'ward' | 'custom' | 'difference'
    code: str | None
    description: str
    local_authorities: frozenset[str] = field(default_factory=frozenset)
    lsoa_codes: frozenset[str] = field(default_factory=frozenset)
    polygon_wkt: str | None = None
    parent: str | None = None  # force area or local authority it lies in, for peers
    excluded: str | None = None  # for 'A excluding B': a reference to B, its natural comparison
    # A force area: the police.uk force whose rows are its crimes (all of them, located or
    # not); its local_authorities are the districts it polices (residents, maps, peers).
    force: str | None = None

    @property
    def by_local_authority(self) -> bool:
        return bool(self.local_authorities) and not self.lsoa_codes and not self.polygon_wkt

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "code": self.code,
            "description": self.description,
            "parent": self.parent,
        }


def _lads_of_forces(store: Store, forces: list[str]) -> dict[str, list[str] | None]:
    """The districts each force polices (``reference/lad_forces.csv``), under the names this
    store knows them by: the district part of the force's LSOA names and the ONS lookups'
    district names (both code vintages, so 'Aylesbury Vale' and 'Buckinghamshire' alike).
    One query for all of them (``force_districts``, not the rows).

    None for a force not in the table: its districts are unknown. Where its crimes
    fall, and how many months are stored, play no part.
    """
    rows = store.rows(
        "SELECT force, local_authority FROM force_districts WHERE list_contains(?, force) "
        "UNION SELECT DISTINCT NULL, lad_name FROM lsoa_lookup WHERE lad_name IS NOT NULL",
        [forces],
    )
    found: dict[str, set[str]] = {f: set() for f in forces}
    for recorded_by, name in rows:
        policing = reference_data.force_of_district(name)
        if policing in found and recorded_by in (None, policing):
            found[policing].add(name)
    return {f: sorted(found[f]) if reference_data.districts_of_force(f) else None for f in forces}


def force_name(force: str) -> str:
    """'avon-and-somerset' -> 'Avon and Somerset'."""
    return force.replace("-", " ").title().replace(" And ", " and ").replace(" Of ", " of ")


def _force_areas(store: Store, named: str | None = None) -> list[Area]:
    forces = store.rows(
        "SELECT DISTINCT force FROM partitions WHERE kind = 'street' ORDER BY force"
    )
    wanted = [f for (f,) in forces if named is None or named in (force_name(f).lower(), f.lower())]
    lads_of = _lads_of_forces(store, wanted) if wanted else {}
    result = []
    for force in wanted:
        name = force_name(force)
        falls_within = store.scalar(  # LIMIT: any row of the force will do, found at once
            "SELECT falls_within FROM street_crimes WHERE force = ? AND falls_within IS NOT NULL "
            "LIMIT 1",
            [force],
        )
        lads = lads_of[force]
        counted = "counts every crime in the force's files, located anywhere or not"
        if lads is None:
            description = (
                f"{falls_within or force}: not one of the 43 territorial forces in BeatBook's "
                f"table of force areas, so its districts and residents are unknown; {counted}"
            )
        else:
            description = (
                f"{falls_within or force} area: {len(lads)} local authorities "
                f"({', '.join(lads)}); {counted}"
            )
        result.append(
            Area(
                name=name,
                kind="force area",
                code=force,
                description=description,
                local_authorities=frozenset(lads or ()),
                force=force,
            )
        )
    return result


def _local_authorities(store: Store, named: str | None = None) -> list[Area]:
    rows = store.rows(
        """
        SELECT name, max(code) FROM (
            SELECT lad_name AS name, lad_code AS code FROM lsoa_lookup WHERE lad_name IS NOT NULL
            UNION ALL
            SELECT DISTINCT local_authority, NULL FROM force_districts
            WHERE $named IS NULL OR lower(local_authority) = $named
        ) GROUP BY name
        HAVING $named IS NULL OR lower(name) = $named OR lower(max(code)) = $named
        ORDER BY name
        """,
        {"named": named},
    )
    return [
        Area(
            name=n,
            kind="local authority",
            code=c,
            description=f"local authority {c or ''}".strip(),
            local_authorities=frozenset([n]),
        )
        for n, c in rows
    ]


def _bridged(store: Store, codes: set[str]) -> frozenset[str]:
    """Add the other vintage's codes for the same places: a 2011 LSOA brings the 2021 LSOAs
    it was split into or is the first parent of (best fit for merged LSOAs); a 2021 LSOA
    brings the 2011 LSOA it was split from or the ones merged into it."""
    if not codes:
        return frozenset()
    rows = store.rows(
        """
        SELECT lsoa21_code FROM (
            SELECT lsoa21_code, min(lsoa11_code) AS first_parent FROM lsoa_bridge GROUP BY 1
        ) WHERE first_parent IN (SELECT unnest(?::VARCHAR[]))
        UNION
        SELECT lsoa11_code FROM lsoa_bridge WHERE lsoa21_code IN (SELECT unnest(?::VARCHAR[]))
          AND change IN ('U', 'S', 'M')
        """,
        [sorted(codes), sorted(codes)],
    )
    return frozenset(codes | {r[0] for r in rows})


def _wards(store: Store, named: str | None = None) -> list[Area]:
    rows = store.rows(
        """
        SELECT ward_code, any_value(ward_name), any_value(lad_name), list(lsoa_code)
        FROM lsoa_lookup WHERE ward_code IS NOT NULL
          AND ($named IS NULL OR lower(ward_name) = $named OR lower(ward_code) = $named
               OR lower(ward_name || ' (' || lad_name || ')') = $named)
        GROUP BY ward_code ORDER BY 2, 3
        """,
        {"named": named},
    )
    return [_ward(*row) for row in rows]


def _ward(code: str, name: str, lad: str, lsoas: list[str]) -> Area:
    return Area(
        name=name,
        kind="ward",
        code=code,
        description=f"ward {code} in {lad}",
        lsoa_codes=frozenset(lsoas),
        parent=lad,
    )


def _custom(store: Store, named: str | None = None) -> list[Area]:
    """The team's areas (the team's records), by name; ``named`` lower-case."""
    if store.records_certainly_empty("custom_areas"):
        return []
    import sqlalchemy as sa  # here, not at every CLI command's start-up

    from beatbook.records.schema import custom_areas as t

    query = sa.select(t.c.name, t.c.members, t.c.polygon_wkt, t.c.description)
    if named is not None:
        query = query.where(sa.func.lower(t.c.name) == named)
    with store.team_records.connect() as c:
        rows = sorted(c.execute(query).all(), key=lambda r: r[0])
    return [
        Area(
            name=n,
            kind="custom",
            code=None,
            description=d,
            lsoa_codes=frozenset(m or []),
            polygon_wkt=wkt,
        )
        for n, m, wkt, d in rows
    ]


def _postcodes(store: Store, named: str | None = None) -> list[Area]:
    return [Area(**unit) for unit in postcode_units(store, named)]


def list_areas(store: Store) -> list[Area]:
    """Every area usable as ``--area``: custom, force areas, local authorities, wards,
    postcode areas and districts."""
    found = [*_custom(store), *_force_areas(store), *_local_authorities(store), *_wards(store)]
    return [*found, *_postcodes(store)]


def team_areas(store: Store) -> list[Area]:
    """The areas a team defined (``beatbook areas add``), by name: its neighbourhoods."""
    return [_with_bridge(store, a) for a in _custom(store)]


def wards_within(store: Store, area: Area) -> list[Area]:
    """The wards of the ONS lookup whose every LSOA lies in ``area``, by name.

    For an area of LSOAs, wards or local authorities; a polygon area has none (its wards
    are not known without boundaries).
    """
    if area.polygon_wkt:
        return []
    codes = sorted(lsoas_of(store, area))
    rows = store.rows(
        """
        SELECT ward_code, any_value(ward_name), any_value(lad_name), list(lsoa_code)
        FROM lsoa_lookup WHERE ward_code IN (
            SELECT ward_code FROM lsoa_lookup WHERE lsoa_code IN (SELECT unnest($c::VARCHAR[])))
        GROUP BY ward_code HAVING bool_and(list_contains($c::VARCHAR[], lsoa_code))
        ORDER BY 2, 1
        """,
        {"c": codes},
    )
    return [_with_bridge(store, _ward(*row)) for row in rows]


def _label(area: Area) -> str:
    return f"{area.name} ({area.kind}{' ' + area.code if area.code else ''}" + (
        f" in {area.parent})" if area.parent else ")"
    )


def resolve(store: Store, name: str) -> Area:
    """The one area called ``name`` (or with that code); a clear error if none or several."""
    text = name.strip()
    parts = re.split(r"\s+excluding\s+", text, flags=re.I)
    if len(parts) == 2:
        whole, part = resolve(store, parts[0]), resolve(store, parts[1])
        return _difference(store, whole, part, f"{whole.name} excluding {part.name}")
    kind_filter = None
    m = re.match(r"(?i)^(ward|force|local authority|lad|custom|postcode-\w+):\s*(.+)$", text)
    if m:
        kind_filter = {"lad": "local authority", "force": "force area"}.get(
            m[1].lower(), m[1].lower().replace("-", " ")
        )
        text = m[2]
    wanted = text.lower()
    finders = {
        "custom": _custom,
        "force area": _force_areas,
        "local authority": _local_authorities,
        "ward": _wards,
        "postcode area": _postcodes,  # one query finds areas and districts
        "postcode district": _postcodes,
    }
    matches = [
        a
        for kind, find in finders.items()
        if kind_filter in (None, kind)  # a prefix skips the other kinds' queries
        for a in find(store, wanted)
        if kind_filter is None or a.kind == kind_filter
    ]
    # The same local authority can come from the data and from the lookup: one area.
    unique = {(a.kind, a.code or a.name): a for a in matches}
    if len(unique) == 1:
        area = next(iter(unique.values()))
        return _with_bridge(store, area)  # areas of LSOAs hold both vintages' codes
    if not unique:
        names = _all_names(store)
        close = difflib.get_close_matches(text, names, n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownAreaError(
            f"--area {name!r}: no such area{hint} (see 'beatbook areas list'; "
            "wards need 'beatbook areas import-lookup')"
        )
    listed = "; ".join(_label(a) for a in list(unique.values())[:10])
    raise AmbiguousAreaError(
        f"--area {name!r} matches {len(unique)} areas: {listed}. "
        "Use the code, 'Name (Local authority)' or a prefix like 'ward:' to choose one"
    )


def _all_names(store: Store) -> list[str]:
    """Every area name, for 'did you mean' suggestions."""
    rows = store.rows(
        "SELECT lad_name FROM lsoa_lookup UNION SELECT ward_name FROM lsoa_lookup "
        "UNION SELECT local_authority FROM force_districts"
    )
    forces = store.rows("SELECT DISTINCT force FROM partitions")
    custom = {a.name for a in _custom(store)}
    return sorted({r[0] for r in rows if r[0]} | custom | {force_name(f) for (f,) in forces})


def reference(area: Area) -> str:
    """A name that :func:`resolve` maps back to exactly ``area``.

    A bare name can be ambiguous (the borough of Melton and a ward called Melton in
    East Suffolk), so areas derived from another (its peers, "A excluding B") refer to
    it by kind prefix or code.
    """
    if area.kind == "ward" and area.code:
        return area.code
    prefix = {"local authority": "local authority:", "custom": "custom:", "force area": "force:"}
    return prefix.get(area.kind, "") + area.name


def _with_bridge(store: Store, area: Area) -> Area:
    if not area.lsoa_codes:
        return area
    return Area(**{**area.__dict__, "lsoa_codes": _bridged(store, set(area.lsoa_codes))})


def lsoas_of(store: Store, area: Area) -> frozenset[str]:
    """All LSOA codes (both vintages) of an area defined by local authorities or LSOAs."""
    if area.lsoa_codes:
        return area.lsoa_codes
    rows = store.rows(
        "SELECT DISTINCT lsoa_code FROM lsoa_lookup WHERE lad_name IN (SELECT unnest(?::VARCHAR[]))",
        [sorted(area.local_authorities)],
    )
    return frozenset(r[0] for r in rows)


def _difference(store: Store, whole: Area, part: Area, name: str) -> Area:
    if whole.polygon_wkt or part.polygon_wkt:
        raise InputError(f"--area {name!r}: 'excluding' works with LSOA or district areas only")
    desc = f"{whole.name} without {part.name}"
    if whole.by_local_authority and part.by_local_authority:
        lads = whole.local_authorities - part.local_authorities
        return Area(
            name=name,
            kind="difference",
            code=None,
            excluded=reference(part),
            description=f"{desc}: {', '.join(sorted(lads))}",
            local_authorities=lads,
        )
    codes = lsoas_of(store, whole) - lsoas_of(store, part)
    return Area(
        name=name,
        kind="difference",
        code=None,
        excluded=reference(part),
        description=desc,
        lsoa_codes=codes,
    )


def add_area(
    store: Store,
    name: str,
    *,
    lsoas: list[str],
    wards: list[str],
    geojson: Path | None,
    neighbourhood: str | None = None,
    api: BoundarySource | None = None,
) -> Area:
    """Define a custom area from LSOA codes, wards, a GeoJSON polygon or a police.uk team area.

    ``neighbourhood`` is ``FORCE/ID`` (``leicestershire/NC04``): its boundary is fetched
    with ``api`` (for example a :class:`~beatbook.ingest.policeuk_api.PoliceUkApi`) and
    stored as a polygon, exactly as a GeoJSON polygon would be. The API
    is asked before anything is written, so a failed fetch defines nothing.
    """
    given = sum(bool(x) for x in (lsoas, wards, geojson, neighbourhood))
    if given != 1:
        raise InputError(
            "areas add: give exactly one of --lsoa, --ward, --geojson or --neighbourhood"
        )
    if not name.strip() or " excluding " in f" {name.lower()} ":
        raise InputError(f"areas add: {name!r} is not a usable area name")
    members: list[str] = []
    wkt = None
    if lsoas:
        bad = [c for c in lsoas if not re.fullmatch(r"[EWN]0[0-9]{7}", c)]
        if bad:
            raise InputError(f"--lsoa {bad[0]!r}: not an LSOA code (expected e.g. E01012345)")
        members = sorted(set(lsoas))
        desc = f"{len(members)} LSOAs"
    elif wards:
        found = [resolve(store, w if ":" in w else f"ward:{w}") for w in wards]
        members = sorted({c for a in found for c in a.lsoa_codes})
        desc = "wards " + ", ".join(_label(a) for a in found)
    elif geojson is not None:
        wkt = read_polygon(geojson)
        desc = f"polygon from {geojson.name}"
    else:
        assert neighbourhood is not None
        wkt, desc = _neighbourhood_polygon(neighbourhood, api)
    _save_custom(
        store, name, "lsoas" if lsoas else "wards" if wards else "polygon", members, wkt, desc
    )
    return resolve(store, f"custom:{name}")


def _save_custom(
    store: Store, name: str, kind: str, members: list[str], wkt: str | None, desc: str
) -> None:
    """Write a custom area to the team's records, replacing one of the same name."""
    from sqlalchemy.dialects.postgresql import insert

    from beatbook.records.engine import utc_now
    from beatbook.records.schema import custom_areas as t

    values = {
        "name": name,
        "kind": kind,
        "members": members,
        "polygon_wkt": wkt,
        "description": desc,
        "created_at": utc_now(),
    }
    upsert = insert(t).values(values)
    statement = upsert.on_conflict_do_update(
        index_elements=[t.c.name], set_={k: upsert.excluded[k] for k in values if k != "name"}
    )
    store.team_records.transact(lambda c: c.execute(statement))


def _neighbourhood_polygon(neighbourhood: str, api: BoundarySource | None) -> tuple[str, str]:
    """(WKT, description) of a police.uk team area's boundary, ``FORCE/ID``."""
    force, _, team = neighbourhood.strip().partition("/")
    if not re.fullmatch(r"[a-z0-9-]+", force) or not team.strip() or "/" in team:
        raise InputError(
            f"--neighbourhood {neighbourhood!r}: expected FORCE/ID as police.uk writes them, "
            "e.g. leicestershire/NC04 (see https://data.police.uk/api/FORCE/neighbourhoods)"
        )
    if api is None:
        raise InputError(f"--neighbourhood {neighbourhood}: no police.uk API to fetch it from")
    polygon = api.boundary(force, quote(team.strip(), safe=""))
    check_uk_lon_lat(polygon, f"police.uk boundary of {neighbourhood}")
    return polygon.wkt, f"police.uk neighbourhood {force}/{team.strip()} boundary"


# --- how areas lie against each other ---------------------------------------------------------


def relations(
    store: Store, named: Mapping[str, Area]
) -> tuple[frozenset[tuple[str, str]], frozenset[frozenset[str]]]:
    """How areas (keyed by any label) lie: ``(whole, part)`` pairs where part lies inside
    whole (equal areas lie inside each other), and the pairs that share no ground.

    Areas of LSOAs are compared by their LSOA sets (both vintages). When one is a polygon,
    surfaces are compared: inside means at most :data:`CONTAINMENT_TOLERANCE` of the part's
    surface lies outside (police.uk and ONS boundaries are drawn at different
    generalisations), apart means at most that share of the smaller one is shared. An LSOA
    area is then drawn from its stored boundaries, and refused if some are missing.
    """
    keys = sorted(named)
    shapes = {k: _footprint(store, named[k]) for k in keys}
    contains: set[tuple[str, str]] = set()
    disjoint: set[frozenset[str]] = set()
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            a_in_b, b_in_a, apart = _relate(store, named, shapes, a, b)
            if a_in_b:
                contains.add((b, a))
            if b_in_a:
                contains.add((a, b))
            if apart:
                disjoint.add(frozenset((a, b)))
    return frozenset(contains), frozenset(disjoint)


def within(store: Store, part: Area, whole: Area) -> bool:
    """Whether ``part`` lies inside (or is) ``whole``, by the rule of :func:`relations`."""
    if reference(part) == reference(whole):
        return True
    return ("whole", "part") in relations(store, {"part": part, "whole": whole})[0]


def outline(store: Store, area: Area) -> BaseGeometry:
    """The whole area's outline (WGS84): its polygon, or the union of its LSOAs' stored
    boundaries, refused when some are missing (what ``beatbook fetch`` asks the API for)."""
    footprint = _footprint(store, area)
    if isinstance(footprint, BaseGeometry):
        return footprint
    if not footprint:
        raise InputError(f"area {area.name!r} has no LSOAs to draw it from")
    return _lsoa_shape(store, area, footprint)


def _footprint(store: Store, area: Area) -> frozenset[str] | BaseGeometry:
    if area.polygon_wkt:
        return shapely_wkt.loads(area.polygon_wkt)
    return lsoas_of(store, area)


def _relate(
    store: Store,
    named: Mapping[str, Area],
    shapes: dict[str, frozenset[str] | BaseGeometry],
    a: str,
    b: str,
) -> tuple[bool, bool, bool]:
    """(a inside b, b inside a, a and b share no ground)."""
    fa, fb = shapes[a], shapes[b]
    if isinstance(fa, frozenset) and isinstance(fb, frozenset):
        return fa <= fb, fb <= fa, not fa & fb
    ga = fa if isinstance(fa, BaseGeometry) else _lsoa_shape(store, named[a], fa)
    gb = fb if isinstance(fb, BaseGeometry) else _lsoa_shape(store, named[b], fb)
    shapes[a], shapes[b] = ga, gb
    common = ga.intersection(gb).area
    tol = CONTAINMENT_TOLERANCE
    return (
        common >= (1 - tol) * ga.area,
        common >= (1 - tol) * gb.area,
        common <= tol * min(ga.area, gb.area),
    )


def _lsoa_shape(store: Store, area: Area, codes: frozenset[str]) -> BaseGeometry:
    """Union of an LSOA area's stored boundaries, from one code vintage held in full."""
    found = dict(
        store.rows(
            "SELECT lsoa_code, geometry_wkt FROM lsoa_boundaries "
            "WHERE lsoa_code IN (SELECT unnest(?::VARCHAR[]))",
            [sorted(codes)],
        )
    )
    vintages = store.rows(
        "SELECT list(lsoa_code) FROM lsoa_lookup WHERE lsoa_code IN "
        "(SELECT unnest(?::VARCHAR[])) GROUP BY vintage ORDER BY vintage",
        [sorted(codes)],
    )
    candidates = [set(c) for (c,) in vintages] or [set(codes)]
    for wanted in candidates:
        if wanted and wanted <= found.keys():
            return shapely.union_all([shapely_wkt.loads(found[c]) for c in sorted(wanted)])
    missing = min(len(w - found.keys()) for w in candidates)
    raise InputError(
        f"cannot tell how area {area.name!r} lies against a polygon area: no stored boundary "
        f"for {missing} of its LSOAs (load them with 'beatbook areas import-boundaries')"
    )
