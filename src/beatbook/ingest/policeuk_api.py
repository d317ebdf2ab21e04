"""A client for the police.uk API: neighbourhoods, their boundaries and teams, crimes by area.

The API (https://data.police.uk/api, no key) allows 15 requests a second in bursts
of 30 and answers HTTP 429 beyond that: the client keeps to that rate itself (a token
bucket) and, if the server still answers 429, waits (``Retry-After`` or an exponential
back-off) and tries again. A ``crimes-street`` area holding more than
10,000 crimes is answered with HTTP 503, which retrying does not change: the client
splits the polygon in two and asks for each half. Polygons are sent by POST, since
a long ``poly`` in a URL (over 4,094 characters) is refused.

The API writes coordinates as strings and uses hyphenated keys
(``issue-date``); this module returns floats, shapely polygons and snake_case.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from beatbook.errors import PoliceUkApiError

BASE_URL = "https://data.police.uk/api"
RETRY_STATUSES = (429, 502, 503, 504)
MIN_SPLIT_DEGREES = 1e-4  # about 10 m: an area this small cannot hold 10,000 crimes
RATE_PER_S = 15.0  # police.uk's limit: 15 requests a second ...
BURST = 30  # ... in bursts of up to 30


@dataclass(frozen=True)
class Neighbourhood:
    id: str
    name: str


class PoliceUkApi:
    """police.uk API over HTTP. ``base_url`` can point at a local server (tests, mirrors)."""

    def __init__(
        self,
        base_url: str = BASE_URL,
        *,
        client: httpx.Client | None = None,
        retries: int = 5,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=30.0)
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self._bucket = _TokenBucket(RATE_PER_S, BURST, clock, sleep)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PoliceUkApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP ------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, str] | None = None,
        split_on_503: bool = False,
    ) -> httpx.Response:
        url = f"{self.base_url}/{path.lstrip('/')}"
        for attempt in range(self.retries + 1):
            self._bucket.take()
            try:
                response = self.client.request(method, url, data=data)
            except httpx.HTTPError as exc:
                if attempt == self.retries:
                    raise PoliceUkApiError(
                        f"{url}: no answer after {attempt + 1} tries ({exc})"
                    ) from exc
                self.sleep(self.backoff_s * 2**attempt)
                continue
            if response.status_code == 503 and split_on_503:
                return response  # too many crimes: the caller splits the area
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                self.sleep(self._wait(response, attempt))
                continue
            if response.status_code != 200:
                raise PoliceUkApiError(
                    f"{url}: HTTP {response.status_code} {response.reason_phrase}"
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, response: httpx.Response, attempt: int) -> float:
        after = response.headers.get("Retry-After", "")
        return float(after) if after.replace(".", "", 1).isdigit() else self.backoff_s * 2**attempt

    def _json(self, path: str, expected: type) -> Any:
        response = self._request("GET", path)
        try:
            payload = response.json()
        except ValueError as exc:
            raise PoliceUkApiError(f"{response.url}: not JSON ({exc})") from exc
        if not isinstance(payload, expected):
            raise PoliceUkApiError(f"{response.url}: expected a JSON {expected.__name__}")
        return payload

    # -- neighbourhoods --------------------------------------------------------------------

    def neighbourhoods(self, force: str) -> list[Neighbourhood]:
        return [
            Neighbourhood(str(n["id"]), str(n["name"]))
            for n in self._json(f"{force}/neighbourhoods", list)
        ]

    def neighbourhood(self, force: str, neighbourhood: str) -> dict[str, Any]:
        """Detail of one team's area: name, description, centre (as floats), contact, links."""
        detail = self._json(f"{force}/{neighbourhood}", dict)
        centre = detail.get("centre") or {}
        if centre:
            detail["centre"] = {k: float(centre[k]) for k in ("latitude", "longitude")}
        return detail

    def boundary(self, force: str, neighbourhood: str) -> Polygon:
        """The team area's outline as a valid lon/lat polygon (strings parsed, ring closed)."""
        points = self._json(f"{force}/{neighbourhood}/boundary", list)
        try:
            ring = [(float(p["longitude"]), float(p["latitude"])) for p in points]
        except (KeyError, TypeError, ValueError) as exc:
            raise PoliceUkApiError(f"{force}/{neighbourhood}/boundary: bad vertex ({exc})") from exc
        if len(ring) < 3:
            raise PoliceUkApiError(f"{force}/{neighbourhood}/boundary: fewer than 3 vertices")
        polygon = shapely.make_valid(Polygon(ring))
        if polygon.geom_type != "Polygon":  # a self-touching ring: keep its largest part
            polygon = max(getattr(polygon, "geoms", [polygon]), key=lambda g: g.area)
        return polygon

    def people(self, force: str, neighbourhood: str) -> list[dict[str, Any]]:
        return list(self._json(f"{force}/{neighbourhood}/people", list))

    def events(self, force: str, neighbourhood: str) -> list[dict[str, Any]]:
        return list(self._json(f"{force}/{neighbourhood}/events", list))

    def priorities(self, force: str, neighbourhood: str) -> list[dict[str, Any]]:
        """The team's published priorities, keys in snake_case (``issue_date``, ``action_date``)."""
        return [
            {k.replace("-", "_"): v for k, v in p.items()}
            for p in self._json(f"{force}/{neighbourhood}/priorities", list)
        ]

    # -- crimes ----------------------------------------------------------------------------

    def crimes_street_dates(self) -> list[str]:
        """The months ('YYYY-MM') police.uk has street crimes for, newest first
        (``crimes-street-dates``: about the last 36 months)."""
        months = []
        for item in self._json("crimes-street-dates", list):
            month = item.get("date") if isinstance(item, dict) else None
            if not isinstance(month, str) or not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
                raise PoliceUkApiError(f"crimes-street-dates: {item!r} has no 'date' YYYY-MM")
            months.append(month)
        return sorted(set(months), reverse=True)

    def crimes_street(
        self, area: BaseGeometry, month: str, category: str = "all-crime"
    ) -> list[dict[str, Any]]:
        """Street-level crimes in a lon/lat polygon for a month ('YYYY-MM').

        An area over the API's 10,000-crime cap is split in two (across its longer side)
        until each part is under it; crimes are returned once each.
        """
        found: dict[object, dict[str, Any]] = {}
        self._collect(area, month, category, found)
        return list(found.values())

    def _collect(
        self, area: BaseGeometry, month: str, category: str, found: dict[object, dict[str, Any]]
    ) -> None:
        parts = getattr(area, "geoms", [area])
        polygons = [g for g in parts if g.geom_type == "Polygon" and not g.is_empty]
        for polygon in polygons:
            ring = shapely.get_coordinates(polygon.exterior)[:-1]
            poly = ":".join(f"{lat:.6f},{lon:.6f}" for lon, lat in ring)
            response = self._request(
                "POST",
                f"crimes-street/{category}",
                data={"poly": poly, "date": month},
                split_on_503=True,
            )
            if response.status_code == 503:
                for half in _halves(polygon):
                    self._collect(half, month, category, found)
                continue
            for crime in response.json():
                found.setdefault(crime.get("id") or crime.get("persistent_id") or id(crime), crime)


class _TokenBucket:
    """Keeps requests to ``rate`` a second in bursts of up to ``burst`` (police.uk's limit),
    so a split area's many requests are spread out rather than answered 429."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.rate, self.burst, self.clock, self.sleep = rate, burst, clock, sleep
        self.tokens, self.last = float(burst), clock()

    def take(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.last) * self.rate)
        self.last = max(self.last, now)
        if self.tokens < 1:
            wait = (1 - self.tokens) / self.rate
            self.sleep(wait)
            self.tokens, self.last = 1.0, self.last + wait
        self.tokens -= 1


def _halves(polygon: BaseGeometry) -> list[BaseGeometry]:
    minx, miny, maxx, maxy = polygon.bounds
    if max(maxx - minx, maxy - miny) < MIN_SPLIT_DEGREES:
        raise PoliceUkApiError(
            "an area of about 10 m still holds over 10,000 crimes: cannot split further"
        )
    if maxx - minx >= maxy - miny:
        mid = (minx + maxx) / 2
        parts = [box(minx, miny, mid, maxy), box(mid, miny, maxx, maxy)]
    else:
        mid = (miny + maxy) / 2
        parts = [box(minx, miny, maxx, mid), box(minx, mid, maxx, maxy)]
    return [polygon.intersection(p) for p in parts if polygon.intersects(p)]
