"""A real HTTP server on 127.0.0.1 that answers like the police.uk API (for the tests).

It serves real captured police.uk responses (tests/data/policeuk_api) at their API paths
(``files``; a test may add more) and, for ``crimes-street``, real rows of the bundled
2021-06 street file in the API's shape. It can also answer 429 (rate limit) and enforces a
crime cap with 503 like the real API (10,000 there; set ``cap`` lower so splitting happens).
"""

from __future__ import annotations

import csv
import gzip
import json
import threading
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

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


def _june_crimes() -> list[dict]:
    """Located rows of the real 2021-06 file in the API's crimes-street shape."""
    with gzip.open(POLICE / "2021-06-leicestershire-street.csv.gz", "rt", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Longitude"]]
    return [
        {
            "category": r["Crime type"],
            "id": n,
            "persistent_id": r["Crime ID"],
            "month": r["Month"],
            "location": {
                "latitude": r["Latitude"],
                "longitude": r["Longitude"],
                "street": {"id": n, "name": r["Location"]},
            },
        }
        for n, r in enumerate(rows)
    ]


class Server:
    def __init__(self) -> None:
        self.cap = 10_000
        self.throttle = 0  # answer 429 to this many next requests
        self.requests: list[tuple[str, str]] = []
        self.files: dict[str, Path] = {path: DATA / name for path, name in FILES.items()}
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
                if path in server.files:
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
                points = [tuple(map(float, p.split(","))) for p in form["poly"][0].split(":")]
                area = shapely.Polygon([(lon, lat) for lat, lon in points])
                month = form["date"][0]
                inside = [
                    c
                    for c in server.crimes
                    if c["month"] == month
                    and area.covers(
                        shapely.Point(
                            float(c["location"]["longitude"]), float(c["location"]["latitude"])
                        )
                    )
                ]
                if len(inside) > server.cap:
                    self._send(503, {"error": "Service Unavailable"})
                else:
                    self._send(200, inside)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @cached_property
    def crimes(self) -> list[dict]:
        """The real 2021-06 crimes crimes-street answers from (read on first use)."""
        return _june_crimes()

    def stop(self) -> None:
        """Shut down and free the port: requests to ``url`` are then refused."""
        self.httpd.shutdown()
        self.httpd.server_close()
