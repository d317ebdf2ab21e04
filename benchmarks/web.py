"""Latency and throughput of the public pages and the report form, on loopback.

Usage: python benchmarks/web.py [STORE] [--seconds 10] [--clients 10 50]

Copies STORE (default: the demo store; run `make demo` first), publishes its West
Leicester update if none is published, and serves it with uvicorn in this process (one
worker, as `beatbook serve`). For each number of concurrent clients it runs two timed
scenarios of --seconds each: GET of the public pages in turn, and the "tell us about a
problem" form (GET for its token, then POST). Prints requests, throughput, p50 and p95
latency and errors per scenario. Client and server share this machine's cores, so read
the figures as a floor, and compare runs made on the same machine.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", nargs="?", default="demo-output/beatbook.duckdb")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()
    if not Path(args.store).exists():
        raise SystemExit(f"{args.store} not found: run `make demo` first")
    with tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "web.duckdb"
        shutil.copyfile(args.store, store_path)
        with Store(store_path) as st:
            if not list_published(st):
                publish_update(st, AREA, MONTH, "benchmark")
        # Form submissions per client are the point here, not the abuse limit.
        app = create_app(store_path, secret="benchmark", report_limit=(10**9, 1.0))
        with serving(app) as base:
            pages = _pages(base, AREA, MONTH)
            for url in pages:  # warm up, and fail early on a broken page
                httpx.get(url, timeout=60).raise_for_status()
            print(
                f"store {args.store}, {args.seconds:g} s per scenario, uvicorn in-process on loopback"
            )
            print("scenario       clients  requests   req/s   p50 ms   p95 ms  errors")
            for n in args.clients:
                for name, work in (
                    ("public pages", lambda c, stop, out: _browse(c, pages, stop, out)),
                    ("report form", lambda c, stop, out: _report(c, base, AREA, stop, out)),
                ):
                    r = _run(n, args.seconds, work)
                    print(
                        f"{name:14s} {n:7d} {r['requests']:9d} {r['per_second']:7.1f} "
                        f"{r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['errors']:7d}"
                    )


if __name__ == "__main__":
    main()
