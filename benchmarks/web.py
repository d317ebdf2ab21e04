"""Latency, throughput and reliability of the public pages and the report form, on loopback.

Usage: python benchmarks/web.py [STORE] [--in-process] [--pages] [--reports] [--kill-worker]
       [--kill-postgres] [--seconds 10] [--clients 10 50] [--page-clients 10 50 200] ...

Copies STORE (default: the demo store; run `make demo` first) and publishes its West
Leicester update if none is published. Without a scenario flag every scenario runs (about
five minutes on two quiet cores); the flags choose some.

--in-process (the original figures): the copy served by uvicorn in this process (one worker,
as `beatbook serve`). For each --clients it runs two timed scenarios of --seconds each: GET
of the public pages in turn, and the "tell us about a problem" form (GET for its token, then
POST).

--pages, --reports, --kill-worker, --kill-postgres (issue 20, benchmarks/web_reliability.py):
real `beatbook serve` processes, the team's records copied with `beatbook db copy` into a
throwaway PostgreSQL cluster (PostgreSQL 15 must be installed: scripts/system-packages).
Public pages at each --page-clients against the embedded single-process baseline, 1 and 2
workers; --report-count reports at once; a worker, then PostgreSQL, killed with SIGKILL
during a stream of reports, with what was stored checked in SQL afterwards.
--import-under-load: three months imported by `beatbook ingest` while 50 clients browse.

Prints requests, throughput, p50 and p95 latency and errors per scenario. Client and server
share this machine's cores, so read the figures as a floor, and compare runs made on the
same machine (the ratio to the baseline is measured in the same run for that reason).
"""

from __future__ import annotations

import argparse
import itertools
import re
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from beatbook.publish.published import list_published, publish_update
from beatbook.store import Store
from beatbook.web import create_app
from beatbook.web.cache import PageCache
from beatbook.web.testing import serving

AREA = "custom:West Leicester"
MONTH = "2025-10"


def _pages(base: str, area: str, month: str) -> list[str]:
    a = quote(area, safe="")
    return [
        f"{base}/",
        f"{base}/priorities",
        f"{base}/updates",
        f"{base}/updates/{a}/{month}",
        f"{base}/events",
        f"{base}/stats/{a}",
        f"{base}/api/priorities",
    ]


def _browse(client: httpx.Client, urls: list[str], stop: float, out: list[Any]) -> None:
    for url in itertools.cycle(urls):
        if time.perf_counter() > stop:
            return
        started = time.perf_counter()
        status = client.get(url).status_code
        out.append((time.perf_counter() - started, status))


def _report(client: httpx.Client, base: str, area: str, stop: float, out: list[Any]) -> None:
    while time.perf_counter() < stop:
        started = time.perf_counter()
        page = client.get(f"{base}/report").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        form = {
            "csrf_token": token.group(1) if token else "",
            "area": area,
            "where": "Narborough Road",
            "problem": "drugs",
            "date": "2025-10-01",
            "submission_id": str(uuid.uuid4()),
        }
        status = client.post(f"{base}/report", data=form).status_code
        out.append((time.perf_counter() - started, status))


def _run(n_clients: int, seconds: float, work: Any) -> dict[str, Any]:
    results: list[tuple[float, int]] = []
    stop = time.perf_counter() + seconds
    clients = [httpx.Client(timeout=30) for _ in range(n_clients)]
    threads = [threading.Thread(target=work, args=(c, stop, results)) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    times = sorted(t for t, _ in results)
    errors = sum(1 for _, s in results if s >= 400)
    return {
        "requests": len(times),
        "per_second": len(times) / elapsed,
        "p50_ms": 1000 * statistics.median(times) if times else float("nan"),
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))] if times else float("nan"),
        "errors": errors,
    }


def prepare(source: Path, target: Path) -> None:
    """Copy the store ``source`` to ``target`` and publish its West Leicester update if none is."""
    shutil.copyfile(source, target)
    with Store(target) as st:
        if not list_published(st):
            publish_update(st, AREA, MONTH, "benchmark")


def in_process(store_path: Path, label: str, seconds: float, clients: list[int]) -> None:
    """The original scenarios: uvicorn in this process on a prepared store copy. The public
    pages run twice, first with the page cache off (the baseline, as before web/cache.py)."""
    # Form submissions per client are the point here, not the abuse limit.
    app = create_app(store_path, secret="benchmark", report_limit=(10**9, 1.0))
    cache = app.state.page_cache
    with serving(app) as base:
        pages = _pages(base, AREA, MONTH)
        for url in pages:  # warm up, and fail early on a broken page
            httpx.get(url, timeout=60).raise_for_status()
        print(f"store {label}, {seconds:g} s per scenario, uvicorn in-process on loopback")
        print("scenario       clients  requests   req/s   p50 ms   p95 ms  errors")
        for n in clients:
            for name, kept, work in (
                ("pages, no cache", PageCache(0, 0), lambda c, s, o: _browse(c, pages, s, o)),
                ("public pages", cache, lambda c, stop, out: _browse(c, pages, stop, out)),
                ("report form", cache, lambda c, stop, out: _report(c, base, AREA, stop, out)),
            ):
                app.state.page_cache = kept
                r = _run(n, seconds, work)
                print(
                    f"{name:15s} {n:6d} {r['requests']:9d} {r['per_second']:7.1f} "
                    f"{r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['errors']:7d}"
                )


SCENARIOS = ("in_process", "pages", "reports", "kill_worker", "kill_postgres")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store", nargs="?", default="demo-output/beatbook.duckdb")
    chosen = parser.add_argument_group("scenarios (none named: all)")
    chosen.add_argument("--in-process", action="store_true", help="uvicorn in this process")
    chosen.add_argument(
        "--pages", action="store_true", help="public pages: embedded vs 1 and 2 PostgreSQL workers"
    )
    chosen.add_argument("--reports", action="store_true", help="reports all at once, 2 workers")
    chosen.add_argument("--kill-worker", action="store_true", help="kill -9 of a worker")
    chosen.add_argument("--kill-postgres", action="store_true", help="kill -9 of PostgreSQL")
    chosen.add_argument(
        "--import-under-load",
        action="store_true",
        help="beatbook ingest of three months while clients browse 2 workers",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per in-process scenario")
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50], help="in-process")
    parser.add_argument("--page-seconds", type=float, default=8.0, help="per --pages cell")
    parser.add_argument("--page-clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--report-count", type=int, default=200)
    parser.add_argument(
        "--report-doubles", type=float, default=0.25, help="share posted twice at once"
    )
    parser.add_argument("--writers", type=int, default=8, help="report threads during a kill")
    parser.add_argument("--before", type=float, default=4.0, help="seconds of writes before")
    parser.add_argument("--after", type=float, default=4.0, help="seconds of writes after")
    parser.add_argument("--outage", type=float, default=3.0, help="seconds PostgreSQL is down")
    parser.add_argument("--import-clients", type=int, default=50, help="during the import")
    parser.add_argument("--import-seconds", type=float, default=20.0, help="of load, import in it")
    args = parser.parse_args()
    run = {name for name in SCENARIOS if getattr(args, name)}
    if not run and not args.import_under_load:
        run, args.import_under_load = set(SCENARIOS), True
    if not Path(args.store).exists():
        raise SystemExit(f"{args.store} not found: run `make demo` first")
    from web_lab import Lab
    from web_reliability import reliability

    with tempfile.TemporaryDirectory(prefix="bb-web-", dir="/tmp") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        lab = None
        if run - {"in_process"} or args.import_under_load:
            lab = Lab(Path(args.store), folder, prepare)
        try:
            if lab:
                lab.setup()
            if "in_process" in run:
                store_path = folder / "web.duckdb"
                if lab:
                    shutil.copyfile(lab.embedded, store_path)
                else:
                    prepare(Path(args.store), store_path)
                in_process(store_path, args.store, args.seconds, args.clients)
            if lab:
                reliability(lab, run, args)
        finally:
            if lab:
                lab.close()
        print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
