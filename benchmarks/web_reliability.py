"""Reliability of `beatbook serve` with the team's records in PostgreSQL (issue 20), measured
with real processes: the server is `python -m beatbook.cli.main serve` started as a subprocess,
the records live in a throwaway PostgreSQL cluster (tests/support/postgres.py), and every check
of what was stored is independent SQL (psycopg), not BeatBook's code.

Run through benchmarks/web.py (its flags choose the scenarios):

- pages: the public pages at each --page-clients, served by the embedded single-process
  baseline (the store file's own records) and by 1 and 2 workers on PostgreSQL, cells of one
  client count run back to back so the ratio to the baseline compares like with like;
- reports: --report-count report submissions at once across 2 workers (a thread and a client
  each, released together by a barrier; a --report-doubles share of them posted twice at the
  same moment, a double-click), then each must be stored exactly once, its contact only in
  concern_contacts and its description only in concern_descriptions;
- kill-worker / kill-postgres: a stream of reports from --writers threads while a worker, or
  the PostgreSQL server itself, is killed with SIGKILL (PostgreSQL is started again after
  --outage seconds); afterwards every report answered with the thank-you page is stored
  exactly once, no contact or description is left without its concern, the failed ones are
  sent again with their submission_id (a resident pressing the button again) and stored once,
  and the desk and the pages answer without anyone restarting anything.

Every submission comes from its own loopback address (127.x.y.z), so the report form's
per-address limit (5 per 10 minutes) never refuses one: the limit is not what is measured.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from web_lab import (
    ROOT,
    Lab,
    Server,
    Submission,
    browse,
    client,
    desk_and_pages_answer,
    failures,
    fetch_token,
    next_address,
    outcome,
    pages,
    print_checks,
    resubmit_failed,
    stored,
    submit,
    summary,
)

# --- scenarios ---------------------------------------------------------------------------

LABELS = {
    "embedded": "embedded, 1 process",
    "pg1": "PostgreSQL, 1 worker",
    "pg2": "PostgreSQL, 2 workers",
}


def run_pages(lab: Lab, clients: list[int], seconds: float) -> None:
    servers = lab.servers_for("embedded", "pg1", "pg2")
    print(
        f"\nPublic pages ({len(pages(''))} pages in turn, keep-alive clients, {seconds:g} s a cell)"
    )
    print(f"{'server':24s} clients  requests   req/s   p50 ms   p95 ms  errors  vs embedded")
    kinds: list[str] = []
    for n in clients:
        baseline = None
        for server in servers:
            r = browse(server.base, n, seconds)
            baseline = baseline or r["per_second"]
            print(
                f"{LABELS[server.name]:24s} {n:7d} {r['requests']:9d} {r['per_second']:7.1f} "
                f"{r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['errors']:7d} "
                f"{r['per_second'] / baseline if baseline else float('nan'):11.2f}"
            )
            if r["error kinds"]:
                kinds.append(f"  errors, {LABELS[server.name]}, {n} clients: {r['error kinds']}")
    print("\n".join(kinds or ["  (every answer 2xx/3xx)"]))


def new_tag() -> str:
    return "bench" + uuid.uuid4().hex[:10]


def run_reports(lab: Lab, count: int, doubles: float) -> None:
    (server,) = lab.servers_for("pg2")
    tag, since = new_tag(), dt.datetime.now(dt.UTC)
    subs = [Submission(i, tag) for i in range(count)]
    twice = set(range(0, count, max(1, round(1 / doubles)))) if doubles > 0 else set()
    barrier = threading.Barrier(count + 1)
    latencies: list[tuple[float, int]] = []

    def post(c: httpx.Client, sub: Submission, token: str) -> None:
        started = time.perf_counter()
        try:
            result, ref = outcome(c.post(f"{server.base}/report", data=sub.form(token)))
        except httpx.HTTPError as exc:
            result, ref = f"error {type(exc).__name__}", None
        latencies.append((time.perf_counter() - started, 200 if result == "accepted" else 0))
        sub.outcomes.append(result)
        if ref is not None:
            sub.references.append(ref)

    def work(sub: Submission) -> None:
        address = next_address()
        c = client(address, keepalive=False)
        try:
            token = fetch_token(c, server.base)
        except httpx.HTTPError as exc:
            sub.outcomes.append(f"error {type(exc).__name__} (form)")
            barrier.wait(timeout=600)
            return
        other = None
        if sub.n in twice:  # a double-click: the same form posted twice at the same moment
            other = client(address, keepalive=False)
            other.cookies = c.cookies
        barrier.wait(timeout=600)
        second = threading.Thread(target=post, args=(other, sub, token)) if other else None
        if second:
            second.start()
        post(c, sub, token)
        if second:
            second.join()
        for each in (c, other):
            if each:
                each.close()

    threads = [threading.Thread(target=work, args=(sub,)) for sub in subs]
    offset = server.size()
    for t in threads:
        t.start()
    barrier.wait(timeout=600)
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    r = summary(latencies, elapsed)
    posts = sum(len(sub.outcomes) for sub in subs)
    print(
        f"\nReports at once: {count} submissions ({len(twice)} of them posted twice at the "
        "same moment) across 2 workers, PostgreSQL records"
    )
    print("  posts  accepted  other outcomes          seconds  posts/s   p50 ms   p95 ms")
    other = failures(subs, first_only=False)
    print(
        f"  {posts:5d} {posts - sum(other.values()):9d}  {str(other or '-'):22s} {elapsed:8.1f} "
        f"{r['per_second']:8.1f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f}"
    )
    per_worker: dict[str, int] = {}
    for pid in re.findall(r'\[(\d+)\] [\d.]+:\d+ - "POST /report', server.text(offset)):
        per_worker[pid] = per_worker.get(pid, 0) + 1
    print(f"  posts answered per worker (access log): {per_worker}")
    print_checks("stored (independent SQL)", stored(lab.url, tag, subs, since, [server.log]))


class Stream:
    """``writers`` threads sending reports one after another until stopped."""

    def __init__(self, base: str, writers: int) -> None:
        self.base, self.tag, self.subs = base, new_tag(), []  # type: ignore[var-annotated]
        self.since = dt.datetime.now(dt.UTC)
        self._count, self._stop = itertools.count(), threading.Event()
        self._threads = [threading.Thread(target=self._write) for _ in range(writers)]
        for t in self._threads:
            t.start()

    def _write(self) -> None:
        while not self._stop.is_set():
            sub = Submission(next(self._count), self.tag)
            self.subs.append(sub)
            submit(self.base, sub)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def first_accepted_after(self, moment: float, timeout: float) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            done = [s.ended for s in list(self.subs) if s.started >= moment and s.accepted]
            if done:
                return min(done)
            time.sleep(0.05)
        return None


def stream_figures(stream: Stream, moment: float, name: str) -> None:
    subs = stream.subs
    failed = [s for s in subs if s.outcomes and s.outcomes[0] != "accepted"]
    print(
        f"  reports sent {len(subs)}, accepted at once {len(subs) - len(failed)}, failed {len(failed)}"
    )
    print(f"  failures by kind: {failures(subs) or '-'}")
    if failed:
        first = min(s.started for s in failed) - moment
        last = max(s.ended for s in failed) - moment
        print(f"  failures from {first:+.2f} s to {last:+.2f} s after the {name}")


def after_stream(lab: Lab, server: Server, stream: Stream) -> None:
    logs = [server.log]
    print_checks(
        "stored, before sending the failed ones again",
        stored(lab.url, stream.tag, stream.subs, stream.since, logs),
    )
    sent = resubmit_failed(server.base, stream.subs)
    still = sum(1 for s in stream.subs if not s.accepted)
    print(
        f"  failed ones sent again with their submission_id: {sent} posts, {still} never accepted"
    )
    print_checks("stored, after", stored(lab.url, stream.tag, stream.subs, stream.since, logs))
    print(
        f"  desk (sign-in) and pages answer: {'yes' if desk_and_pages_answer(server.base) else 'NO'}"
    )


def run_kill_worker(lab: Lab, writers: int, before: float, after: float) -> None:
    (server,) = lab.servers_for("pg2")
    print(f"\nkill -9 of a worker (of 2) during a stream of reports from {writers} writers")
    stream = Stream(server.base, writers)
    time.sleep(before)
    pids = server.worker_pids()
    victim = min(pids)
    offset = server.size()
    killed = time.perf_counter()
    os.kill(victim, signal.SIGKILL)
    noticed = ready = answering = None
    deadline = killed + 120
    while time.perf_counter() < deadline and answering is None:
        text = server.text(offset)
        if noticed is None and f"Child process [{victim}] died" in text:
            noticed = time.perf_counter()
        for pid in server.worker_pids() - pids:
            if ready is None and f"[{pid}] Application startup complete" in text:
                ready = time.perf_counter()
            if ready is not None and re.search(rf"\[{pid}\] [\d.]+:\d+ - ", text):
                answering = time.perf_counter()
        time.sleep(0.05)
    time.sleep(after)
    stream.stop()
    stream_figures(stream, killed, "kill")
    for label, moment in (
        ("supervisor saw it die", noticed),
        ("replacement worker started", ready),
        ("replacement answering", answering),
    ):
        print(f"  {label:38s} {f'{moment - killed:.2f} s after the kill' if moment else 'NEVER'}")
    after_stream(lab, server, stream)


def run_kill_postgres(lab: Lab, writers: int, before: float, outage: float, after: float) -> None:
    (server,) = lab.servers_for("pg2")
    print(
        f"\nkill -9 of the PostgreSQL server during a stream of reports from {writers} writers"
        f" (2 workers), started again after {outage:g} s"
    )
    pids = server.worker_pids()
    stream = Stream(server.base, writers)
    time.sleep(before)
    postmaster = lab.pg.server_pid(lab.pg_folder)
    killed = time.perf_counter()
    os.kill(postmaster, signal.SIGKILL)
    while lab.pg.is_running(lab.pg_folder):  # gone (restart leaves a live server alone)
        time.sleep(0.01)
    time.sleep(max(0.0, outage - (time.perf_counter() - killed)))
    lab.pg.restart(lab.pg_folder)
    up = time.perf_counter()
    first = stream.first_accepted_after(up, timeout=120)
    time.sleep(after)
    stream.stop()
    stream_figures(stream, killed, "kill")
    print(f"  {'PostgreSQL down (kill to restarted)':38s} {up - killed:.2f} s")
    print(
        f"  {'first report accepted after restart':38s} {f'{first - up:.2f} s' if first else 'NEVER'}"
    )
    same = server.worker_pids() == pids
    print(f"  {'workers restarted':38s} {'no (same processes)' if same else 'YES'}")
    after_stream(lab, server, stream)


IMPORT_MONTHS = ("2025-07", "2025-08", "2025-09")  # the demo store's last three
POLICE = ROOT / "data" / "sample" / "police-uk" / "leicestershire"


def _without_last_months(source: Path, target: Path) -> None:
    """A copy of the served store as it was before its last three months were imported."""
    import duckdb

    from beatbook import aggregates

    shutil.copyfile(source, target)
    con = duckdb.connect(str(target))
    first = f"{IMPORT_MONTHS[0]}-01"
    for table in ("street_crimes", "crime_repeats", "outcomes", "stop_searches", "quarantine"):
        con.execute(f"DELETE FROM {table} WHERE month >= ?", [first])
    con.execute("DELETE FROM partitions WHERE month >= ?", [first])
    aggregates.rebuild(con)
    con.execute("CHECKPOINT")
    con.close()


def run_import_under_load(lab: Lab, clients: int, seconds: float) -> None:
    """--import-under-load: ``beatbook ingest`` of three months (another process, with the
    records in PostgreSQL) while ``clients`` browse the public pages on 2 workers; a poller
    reads the area's figures all the while. Every request must answer, and every answer must
    be the store before the import or after it (never one or two of its months)."""
    store = lab.folder / "import.duckdb"
    _without_last_months(lab.records, store)
    server = Server("pg2-import", store, lab.url, 2, lab.folder)
    server.wait_ready()
    server.warm()
    states: list[tuple[int, str, int]] = []
    stop = threading.Event()

    def poll() -> None:
        with client() as c:
            while not stop.is_set():
                try:
                    answer = c.get(server.base + "/api/stats/Leicester")
                    body = answer.json() if answer.status_code == 200 else {}
                    states.append((answer.status_code, body.get("to", ""), body.get("months", 0)))
                except httpx.HTTPError:
                    states.append((0, "", 0))

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for t in pollers:
        t.start()
    load: dict[str, Any] = {}
    browsing = threading.Thread(target=lambda: load.update(browse(server.base, clients, seconds)))
    browsing.start()
    time.sleep(min(2.0, seconds / 4))
    files = [str(POLICE / f"{m}-leicestershire-street.csv.gz") for m in IMPORT_MONTHS]
    env = {k: v for k, v in os.environ.items() if k != "BEATBOOK_STORE"}
    env["BEATBOOK_DATABASE"] = lab.url
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "beatbook.cli.main", "--store", str(store), "ingest", *files],
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - began
    browsing.join()
    time.sleep(1.0)
    stop.set()
    for t in pollers:
        t.join()
    server.stop()
    seen = sorted({s for s in states if s[0] == 200})
    print(
        f"\nImport of {len(files)} months under load (2 workers, {clients} clients, {seconds:g} s)"
    )
    print(f"  {'import exit status, wall time':38s} {done.returncode}, {took:.1f} s")
    if done.returncode != 0:
        print(done.stderr[-2000:])
    print(
        f"  {'page requests, req/s, p50/p95 ms':38s} {load['requests']}, "
        f"{load['per_second']:.1f}, {load['p50_ms']:.0f}/{load['p95_ms']:.0f}"
    )
    print(f"  {'failed page requests':38s} {load['errors']} {load['error kinds'] or ''}")
    print(f"  {'figure reads, failed':38s} {len(states)}, {sum(1 for s in states if s[0] != 200)}")
    print(f"  {'versions seen (to, months)':38s} {[(s[1], s[2]) for s in seen]}")


def reliability(lab: Lab, run: set[str], args: Any) -> None:
    """The scenarios of ``run`` (benchmarks/web.py's flags), in order."""
    print(
        f"\nPostgreSQL cluster {lab.pg_folder}, store {lab.records.name}; `beatbook serve` processes"
    )
    if "pages" in run:
        run_pages(lab, args.page_clients, args.page_seconds)
    if "reports" in run:
        run_reports(lab, args.report_count, args.report_doubles)
    if "kill_worker" in run:
        run_kill_worker(lab, args.writers, args.before, args.after)
    if "kill_postgres" in run:
        run_kill_postgres(lab, args.writers, args.before, args.outage, args.after)
    if args.import_under_load:
        run_import_under_load(lab, args.import_clients, args.import_seconds)
