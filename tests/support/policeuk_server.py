"""A real HTTP server on 127.0.0.1 that answers like the police.uk API (for the tests).

It serves real captured police.uk responses (tests/data/policeuk_api) at their API paths
(``files``; a test may add more). No real ``crimes-street`` or ``crimes-street-dates``
answer for these months could be found (shared MANIFEST.md, section 3), so those two are
made from real data: ``crimes-street`` answers with the real rows of the bundled street
file of the month asked for (data/sample/police-uk), turned into the API's documented
shape (below); ``crimes-street-dates`` lists the months it has files for, newest first.
It can also answer 429 (rate limit) and enforces a crime cap with 503 like the real API
(10,000 there; set ``cap`` lower so splitting happens).

The API's shape of a crime, from a file row (REFERENCES.md, police.uk API; the category
slugs of ``/crime-categories``)::

    {"category": "violent-crime", "location_type": "Force",
     "location": {"latitude": "52.63", "street": {"id": 7, "name": "On or near X"},
                  "longitude": "-1.13"},
     "context": "", "outcome_status": {"category": "Under investigation", "date": "2021-06"}
     (null where the file has no outcome: anti-social behaviour), "persistent_id": Crime ID
     ("" for anti-social behaviour), "id": n, "location_subtype": "", "month": "2021-06"}

Rows with no coordinates (``No Location``) are not answered by ``crimes-street`` (the API
has ``crimes-no-location`` for them). The outcome's own month is not in the files: the
crime's month stands in for it.
"""

from __future__ import annotations

import csv
import gzip
import json
import threading
from functools import cache, cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import shapely

from support.fixtures_store import POLICE

DATA = Path(__file__).parents[1] / "data" / "policeuk_api"
FILES = {
    "/api/leicestershire/neighbourhoods": "neighbourhoods.json",
    "/api/leicestershire/NC04": "NC04.json",
    "/api/leicestershire/NC04/boundary": "NC04-boundary.json",
    "/api/leicestershire/NC04/events": "NC04-events.json",
    "/api/leicestershire/NC04/priorities": "NC04-priorities.json",
}
# police.uk's /crime-categories: slug -> the name its files write (REFERENCES.md). Written
# out here, apart from BeatBook's reference/crime_types.csv, so the tests check that table.
CATEGORY_SLUGS = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    "Other crime": "other-crime",
}


def street_file(month: str) -> Path:
    return POLICE / f"{month}-leicestershire-street.csv.gz"


def served_months() -> list[str]:
    """The months with a bundled street file, newest first (what crimes-street-dates lists)."""
    names = sorted(POLICE.glob("*-leicestershire-street.csv.gz"), reverse=True)
    return [p.name[:7] for p in names]


@cache
def month_crimes(month: str) -> tuple[dict, ...]:
    """Located rows of the real street file of ``month`` in the API's crimes-street shape."""
    with gzip.open(street_file(month), "rt", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Longitude"]]
    streets: dict[tuple[str, str, str], int] = {}
    crimes = []
    for n, r in enumerate(rows, start=1):
        street = streets.setdefault((r["Location"], r["Longitude"], r["Latitude"]), len(streets))
        outcome = r["Last outcome category"]
        crimes.append(
            {
                "category": CATEGORY_SLUGS[r["Crime type"]],
                "location_type": "Force",
                "location": {
                    "latitude": r["Latitude"],
                    "street": {"id": street, "name": r["Location"]},
                    "longitude": r["Longitude"],
                },
                "context": r["Context"],
                "outcome_status": {"category": outcome, "date": month} if outcome else None,
                "persistent_id": r["Crime ID"],
                "id": 100_000_000 + n,
                "location_subtype": "",
                "month": r["Month"],
            }
        )
    return tuple(crimes)


@cache
def month_points(month: str) -> np.ndarray:
    """The points of :func:`month_crimes`, in its order."""
    return shapely.points(
        [
            (float(c["location"]["longitude"]), float(c["location"]["latitude"]))
            for c in month_crimes(month)
        ]
    )


def _covers(area: shapely.Polygon, crime: dict) -> bool:
    location = crime["location"]
    return area.covers(shapely.Point(float(location["longitude"]), float(location["latitude"])))


class Server:
    def __init__(self) -> None:
        self.cap = 10_000
        self.throttle = 0  # answer 429 to this many next requests
        self.requests: list[tuple[str, str]] = []
        self.files: dict[str, Path] = {path: DATA / name for path, name in FILES.items()}
        self.months = served_months()  # what crimes-street-dates lists (a test may change it)
        self.extra: dict[str, list[dict]] = {}  # month -> more crimes to answer (a test's own)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _send(self, status: int, body: object, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _throttled(self) -> bool:
                if server.throttle > 0:
                    server.throttle -= 1
                    self._send(429, {"error": "Too Many Requests"}, {"Retry-After": "0"})
                    return True
                return False

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                server.requests.append(("GET", path))
                if self._throttled():
                    return
                if path == "/api/crimes-street-dates":
                    self._send(200, [{"date": m, "stop-and-search": []} for m in server.months])
                elif path in server.files:
                    self._send(200, json.loads(server.files[path].read_text(encoding="utf-8")))
                else:
                    self._send(404, {"error": "Not Found"})

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                server.requests.append(("POST", path))
                if self._throttled():
                    return
                if path != "/api/crimes-street/all-crime":
                    self._send(404, {"error": "Not Found"})
                    return
                month = form["date"][0]
                points = [tuple(map(float, p.split(","))) for p in form["poly"][0].split(":")]
                area = shapely.Polygon([(lon, lat) for lat, lon in points])
                shapely.prepare(area)
                inside = []  # the real API answers [] for a month it lacks
                if street_file(month).exists():
                    covered = shapely.covers(area, month_points(month))
                    inside = [c for c, yes in zip(month_crimes(month), covered, strict=True) if yes]
                inside += [c for c in server.extra.get(month, []) if _covers(area, c)]
                if len(inside) > server.cap:
                    self._send(503, {"error": "Service Unavailable"})
                else:
                    self._send(200, inside)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @cached_property
    def crimes(self) -> tuple[dict, ...]:
        """The real 2021-06 crimes crimes-street answers from (read on first use)."""
        return month_crimes("2021-06")

    def stop(self) -> None:
        """Shut down and free the port: requests to ``url`` are then refused."""
        self.httpd.shutdown()
        self.httpd.server_close()
