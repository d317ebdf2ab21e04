"""Inputs that never take the site down: random months and dates to every web route that takes
one, on a real server, counting the answers (issue 17).

Usage: python benchmarks/web_inputs.py [STORE] [--per-route 40] [--seed 0]

Copies STORE (default: the demo store; run `make demo` first), adds an inspector, serves it
with uvicorn in this process (as `beatbook serve`) and sends every route that takes a month
or a date (public pages, the JSON API, the report form, the desk's pages and forms) the
edge values (0001-01, 9999-12, 9999-12-31, the data window's ends, malformed shapes) and
--per-route random ones: months and days anywhere in years 1 to 9999, months inside the
data window, and random text. Prints the inputs tried, the answers by status and the 500s
(which must be 0), then checks every public page still answers 200.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from beatbook import queries as q
from beatbook.months import CALENDAR, add_months, ym
from beatbook.priorities import lifecycle
from beatbook.settings import MONTHS_AFTER_DATA
from beatbook.store import Store
from beatbook.users import add_user
from beatbook.web import create_app
from beatbook.web.testing import serving

AREA = "custom:West Leicester"
WARD = "Westcotes (Leicester)"
PASSWORD = "benchmark inspector password"
EDGE_MONTHS = ["0001-01", "9999-12", "0000-01", "1999-12", "2021-13", "2021-00", "2021-7"]
EDGE_MONTHS += ["10000-01", "-2021-01", "2021-07-01", " 2021-07 ", "", "9999-12-31", "NaN"]
EDGE_DAYS = ["0001-01-01", "9999-12-31", "9999-12-25", "9999-12-01", "1999-12-31", "2000-01-01"]
EDGE_DAYS += ["2021-02-29", "2024-02-29", "2021-13-01", "2021-7-14", "14/07/2021", "", "9999-12"]
PUBLIC = ["/", "/priorities", "/updates", "/events", "/events.ics", "/report", "/api/areas"]
PUBLIC += ["/api/priorities", "/api/updates", "/api/events", f"/stats/{quote(AREA, safe='')}"]
PUBLIC += [f"/api/stats/{quote(AREA, safe='')}"]
Send = Callable[[httpx.Client, str], httpx.Response]


def _token(client: httpx.Client, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get(url).text)
    return found[1] if found else ""


def _form(url: str, fields: Callable[[str], dict[str, str]], page: str = "/desk/engagements"):
    def send(client: httpx.Client, value: str) -> httpx.Response:
        return client.post(url, data={**fields(value), "csrf_token": _token(client, page)})

    return send


def _report(client: httpx.Client, value: str) -> httpx.Response:
    page = client.get("/report").text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    sid = re.search(r'name="submission_id"[^>]*value="([^"]*)"', page)
    form = {"area": AREA, "where": "Narborough Road", "problem": "drugs", "date": value}
    form |= {"csrf_token": token[1] if token else "", "submission_id": sid[1] if sid else ""}
    return client.post("/report", data=form)


def routes(pids: dict[str, int]) -> tuple[dict[str, Send], dict[str, Send], dict[str, Send]]:
    """(public routes taking a month or day, desk routes taking a month, desk forms taking a
    day): name -> how to send one value."""
    a = quote(AREA, safe="")

    def get(path: str, key: str, **extra: str) -> Send:
        return lambda c, v: c.get(path, params={**extra, key: v})

    public: dict[str, Send] = {
        "/stats/{area}?to=": get(f"/stats/{a}", "to"),
        "/api/stats/{area}?to=": get(f"/api/stats/{a}", "to"),
        "/updates/{area}/{month}": lambda c, v: c.get(f"/updates/{a}/{quote(v, safe='')}"),
        "/updates/{area}/{month}/update.pdf": lambda c, v: c.get(
            f"/updates/{a}/{quote(v, safe='')}/update.pdf"
        ),
        "/events?from=": get("/events", "from"),
        "/events.ics?from=": get("/events.ics", "from", weeks="26"),
        "/api/events?from=": get("/api/events", "from"),
        "POST /report date": _report,
    }
    desk: dict[str, Send] = {
        "/desk?month=": get("/desk", "month", area=AREA),
        "/desk/chart/trend.png?month=": get("/desk/chart/trend.png", "month", area=AREA),
        "/desk/priorities?month=": get("/desk/priorities", "month", area=AREA),
        "/desk/engagements?month=": get("/desk/engagements", "month"),
        "/desk/updates?month=": get("/desk/updates", "month", area=AREA),
        "/desk/updates/preview?month=": get("/desk/updates/preview", "month", area=WARD),
        "/desk/jag?month=": get("/desk/jag", "month", area=WARD, per_ward="1", method="mean-3"),
        "POST propose data_month": _form(
            "/desk/priorities/propose",
            lambda v: {"area": WARD, "data_month": v, "per_ward": "1", "method": "mean-3"},
        ),
        "POST adopt from_month": _form(
            f"/desk/priorities/{pids['proposed']}/adopt", lambda v: {"area": AREA, "from_month": v}
        ),
        "POST continue into": _form(
            f"/desk/priorities/{pids['adopted']}/continue", lambda v: {"area": AREA, "into": v}
        ),
        "POST close last": _form(
            f"/desk/priorities/{pids['adopted']}/close", lambda v: {"area": AREA, "last": v}
        ),
        "POST updates/text month": _form(
            "/desk/updates/text", lambda v: {"area": AREA, "month": v, "text": "## News\n\nHi."}
        ),
        "POST updates/publish month": _form(
            "/desk/updates/publish", lambda v: {"area": WARD, "month": v}
        ),
    }
    for layer in ("outline", "hotspots", "priorities", "wards"):
        desk[f"/desk/api/map/{layer}?month="] = get(
            f"/desk/api/map/{layer}", "month", area=WARD if layer == "hotspots" else AREA
        )
    forms: dict[str, Send] = {
        "POST engagements/add when": _form(
            "/desk/engagements/add",
            lambda v: {
                "when": f"{v}T10:00",
                "kind": "surgery",
                "place": "Bench Hall",
                "area": WARD,
            },
        ),
        "POST operations/add from": _form(
            "/desk/operations/add",
            lambda v: {"name": "Operation Bench", "starts": v, "ends": "2025-09-30", "areas": AREA},
        ),
        "POST operations/add to": _form(
            "/desk/operations/add",
            lambda v: {"name": "Operation Bench", "starts": "2025-09-01", "ends": v, "areas": AREA},
        ),
    }
    return public, desk, forms


def _junk(rng: random.Random) -> str:
    alphabet = "0123456789-/ :TZx.\x00é２\u202e'\"<>%"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))


def months(rng: random.Random, n: int, first: dt.date, last: dt.date) -> list[str]:
    """The edges, the window's ends and n random months, a third each anywhere in the
    calendar, inside the window, and junk."""
    out = [*EDGE_MONTHS, ym(add_months(first, -1)), ym(first), ym(last), ym(add_months(last, 1))]
    for i in range(n):
        if i % 3 == 0:
            out.append(f"{rng.randint(1, 9999):04d}-{rng.randint(1, 12):02d}")
        elif i % 3 == 1:
            out.append(ym(add_months(first, rng.randint(0, (last.year - first.year) * 12))))
        else:
            out.append(_junk(rng))
    return out


def days(rng: random.Random, n: int) -> list[str]:
    out = list(EDGE_DAYS)
    for i in range(n):
        if i % 2 == 0:
            out.append(
                (dt.date(1, 1, 1) + dt.timedelta(days=rng.randint(0, 3_652_058))).isoformat()
            )
        else:
            out.append(_junk(rng))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="demo-output/beatbook.duckdb")
    parser.add_argument("--per-route", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not Path(args.store).exists():
        raise SystemExit(f"{args.store} not found: run `make demo` first")
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inputs.duckdb"
        shutil.copyfile(args.store, path)
        with Store(path) as st:
            add_user(st, "bench-inspector", "inspector", PASSWORD)
            stored = q.months_with_data(st, *CALENDAR)
            by_status: dict[str, list[int]] = {}
            for p in lifecycle.list_priorities(st, area=AREA):
                by_status.setdefault(p["status"], []).append(p["priority_id"])
        pids = {"proposed": by_status["proposed"][0], "adopted": by_status["adopted"][0]}
        first, last = stored[0], add_months(stored[-1], MONTHS_AFTER_DATA)
        public, desk, forms = routes(pids)
        tried: Counter[str] = Counter()
        answers: Counter[int] = Counter()
        failures: list[str] = []
        app = create_app(path, secret="web-inputs-benchmark", report_limit=(10**9, 1.0))
        with (
            serving(app) as base,
            httpx.Client(base_url=base, timeout=120) as visitor,
            httpx.Client(base_url=base, timeout=120) as inspector,
        ):
            login = {"username": "bench-inspector", "password": PASSWORD, "next": "/desk"}
            inspector.post("/login", data={**login, "csrf_token": _token(inspector, "/login")})
            if inspector.get("/desk").status_code != 200:
                raise SystemExit("the benchmark's inspector could not sign in")
            for group, client, values in (
                (public, visitor, None),
                (desk, inspector, months(rng, args.per_route, first, last)),
                (forms, inspector, days(rng, args.per_route)),
            ):
                for name, send in group.items():
                    if values is not None:
                        inputs = values
                    elif "?to=" in name or "{month}" in name:
                        inputs = months(rng, args.per_route, first, last)
                    else:
                        inputs = days(rng, args.per_route)
                    for value in inputs:
                        status = send(client, value).status_code
                        tried[name] += 1
                        answers[status] += 1
                        if status >= 500:
                            failures.append(f"{name} {value!r}: {status}")
            broken = [u for u in PUBLIC if visitor.get(u).status_code != 200]
    print(f"store {args.store} (data {ym(stored[0])} to {ym(stored[-1])}), seed {args.seed}")
    print(f"inputs tried: {sum(tried.values())} over {len(tried)} routes")
    print(f"answers: {', '.join(f'{s}: {n}' for s, n in sorted(answers.items()))}")
    print(f"500s seen: {len(failures)}")
    for line in failures[:20]:
        print(f"  {line}")
    print(f"public pages afterwards: {len(PUBLIC) - len(broken)} of {len(PUBLIC)} answer 200")
    print(f"{time.perf_counter() - started:.0f} s")
    if failures or broken:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
