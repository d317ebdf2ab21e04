"""The machinery of benchmarks/web_reliability.py: loopback clients (each report from its own
127.x.y.z address), `beatbook serve` as a subprocess (:class:`Server`), the run's store copies,
PostgreSQL cluster and servers (:class:`Lab`), and what PostgreSQL holds, counted in plain SQL
with psycopg (:func:`stored`), not with BeatBook's code."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
AREA, MONTH = "custom:West Leicester", "2025-10"
DESK_USER, DESK_PASSWORD = "bench.desk", "benchmark-desk-password"
THANKS = "Thank you: we have your report"
REFERENCE = re.compile(r'id="reference">(\d+)<')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def postgres_support() -> ModuleType:
    """tests/support/postgres.py (start, stop, restart, server_pid), loaded by its path."""
    spec = importlib.util.spec_from_file_location(
        "bench_pg", ROOT / "tests" / "support" / "postgres.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- clients -----------------------------------------------------------------------------

_addresses = itertools.count()
_address_lock = threading.Lock()


def next_address() -> str:
    """A loopback address no submission has used: 127.10.0.1, 127.10.0.2, ..."""
    with _address_lock:
        n = next(_addresses)
    return f"127.{10 + n // 64516 % 240}.{n // 254 % 254 + 1}.{n % 254 + 1}"


def client(local: str | None = None, keepalive: bool = True) -> httpx.Client:
    limits = httpx.Limits(max_keepalive_connections=None if keepalive else 0)
    transport = httpx.HTTPTransport(local_address=local, limits=limits)
    return httpx.Client(transport=transport, trust_env=False, timeout=60)


def pages(base: str) -> list[str]:
    from urllib.parse import quote

    a = quote(AREA, safe="")
    return [f"{base}{p}" for p in ("/", "/priorities", "/updates", f"/updates/{a}/{MONTH}")] + [
        f"{base}/events",
        f"{base}/stats/{a}",
        f"{base}/api/priorities",
    ]


def summary(results: list[tuple[float, int]], elapsed: float) -> dict[str, Any]:
    times = sorted(t for t, _ in results)
    return {
        "requests": len(times),
        "per_second": len(times) / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * statistics.median(times) if times else float("nan"),
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))] if times else float("nan"),
        "errors": sum(1 for _, s in results if s == 0 or s >= 400),
    }


def browse(base: str, n_clients: int, seconds: float) -> dict[str, Any]:
    """n_clients threads, each a keep-alive client, GET the public pages in turn."""
    urls = pages(base)
    results: list[tuple[float, int]] = []
    kinds: list[str] = []  # each error: its status or exception
    moments = [0.0, 0.0]  # start, stop: set as the barrier releases every client at once

    def begin() -> None:
        moments[0] = time.perf_counter()
        moments[1] = moments[0] + seconds

    barrier = threading.Barrier(n_clients + 1, action=begin)

    def work(offset: int) -> None:
        c = client()
        barrier.wait(timeout=600)
        for url in itertools.islice(itertools.cycle(urls), offset, None):
            if time.perf_counter() > moments[1]:
                break
            started = time.perf_counter()
            try:
                status = c.get(url).status_code
            except httpx.HTTPError as exc:
                status = 0
                kinds.append(type(exc).__name__)
                c.close()
                c = client()
            if status >= 400:
                kinds.append(str(status))
            results.append((time.perf_counter() - started, status))
        c.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    barrier.wait(timeout=600)
    for t in threads:
        t.join()
    made = summary(results, time.perf_counter() - moments[0])  # answers still due included
    made["error kinds"] = {k: kinds.count(k) for k in sorted(set(kinds))}
    return made


@dataclass
class Submission:
    """One resident's report: its markers, and what the client saw of each attempt."""

    n: int
    tag: str
    sid: str = field(default_factory=lambda: str(uuid.uuid4()))
    outcomes: list[str] = field(default_factory=list)  # per attempt: accepted, 500, error...
    references: list[int] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    @property
    def contact(self) -> str:
        return f"c-{self.tag}-{self.n}@example.org"

    @property
    def description(self) -> str:
        return f"d-{self.tag}-{self.n} bins set alight behind the shops"

    @property
    def accepted(self) -> bool:
        return "accepted" in self.outcomes

    def form(self, token: str) -> dict[str, str]:
        return {
            "csrf_token": token,
            "area": AREA,
            "where": "Narborough Road",
            "problem": "drugs",
            "date": "2025-10-01",
            "contact": self.contact,
            "description": self.description,
            "submission_id": self.sid,
        }


def outcome(answer: httpx.Response) -> tuple[str, int | None]:
    if answer.status_code == 200 and THANKS in answer.text:
        found = REFERENCE.search(answer.text)
        return "accepted", int(found.group(1)) if found else None
    return str(answer.status_code), None


def fetch_token(c: httpx.Client, base: str) -> str:
    found = TOKEN.search(c.get(f"{base}/report").text)
    if not found:
        raise httpx.HTTPError("no csrf_token on /report")
    return found.group(1)


def submit(base: str, sub: Submission) -> str:
    """GET the form and POST it, from a new loopback address; the outcome is recorded."""
    sub.started = sub.started or time.perf_counter()
    try:
        with client(next_address(), keepalive=False) as c:
            token = fetch_token(c, base)
            result, ref = outcome(c.post(f"{base}/report", data=sub.form(token)))
    except httpx.HTTPError as exc:
        result, ref = f"error {type(exc).__name__}", None
    sub.ended = time.perf_counter()
    sub.outcomes.append(result)
    if ref is not None:
        sub.references.append(ref)
    return result


def resubmit_failed(base: str, subs: list[Submission], attempts: int = 5) -> int:
    """Send again, with the same submission_id, each report never accepted; how many went."""
    sent = 0
    for sub in subs:
        for _ in range(attempts):
            if sub.accepted:
                break
            submit(base, sub)
            sent += 1
    return sent


def desk_and_pages_answer(base: str) -> bool:
    """A sign-in and the desk, and every public page four times, each on a new connection
    (so both workers answer): all well?"""
    try:
        with client(next_address(), keepalive=False) as c:
            token = TOKEN.search(c.get(f"{base}/login").text)
            form = {"username": DESK_USER, "password": DESK_PASSWORD}
            signed = c.post(f"{base}/login", data={**form, "csrf_token": token.group(1)})
            desk = [c.get(f"{base}/desk").status_code for _ in range(4)]
            public = [c.get(url).status_code for url in pages(base) * 4]
    except (httpx.HTTPError, AttributeError):
        return False
    return signed.status_code == 303 and set(desk) == {200} and set(public) == {200}


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`beatbook serve` as a subprocess: the store file's records (database None) or
    PostgreSQL's with ``workers`` processes. Its log (access lines name the worker) is kept."""

    def __init__(
        self, name: str, store: Path, database: str | None, workers: int, folder: Path
    ) -> None:
        self.name, self.workers = name, workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"serve-{name}.log"
        command = [sys.executable, "-m", "beatbook.cli.main", "serve", "--store", str(store)]
        command += ["--port", str(self.port)]
        if database:
            command += ["--database", database, "--workers", str(workers)]
        env = {k: v for k, v in os.environ.items() if k not in ("BEATBOOK_SECRET",)}
        env.pop("BEATBOOK_DATABASE", None)
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )

    def text(self, offset: int = 0) -> str:
        """The log from byte ``offset`` on."""
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def size(self) -> int:
        return self.log.stat().st_size

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.text()[-3000:]}")
            if self.text().count("Application startup complete") >= self.workers:
                try:
                    if httpx.get(self.base + "/", timeout=60, trust_env=False).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer in {timeout:g} s:\n{self.text()[-3000:]}")

    def warm(self) -> None:
        """Every page a few times on new connections: each worker's caches filled."""
        with client(keepalive=False) as c:
            for url in pages(self.base) * (2 * self.workers):
                c.get(url).raise_for_status()

    def worker_pids(self) -> set[int]:
        """The worker processes (not multiprocessing's resource tracker); the server's own
        process when it has one worker."""
        if self.workers == 1:
            return {self.process.pid}
        pid = self.process.pid
        try:
            found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return set()
        return {int(p) for p in found if b"spawn_main" in _cmdline(int(p))}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class Lab:
    """The PostgreSQL cluster, the store copies and the servers of one run."""

    def __init__(self, store: Path, folder: Path, prepare: Any) -> None:  # nothing started
        self.folder, self.servers = folder, {}  # type: ignore[var-annotated]
        self.pg = postgres_support()
        # its own folder under /tmp: the server's user (not root) must reach it, and the
        # socket's path must be short
        self.pg_folder = Path(tempfile.mkdtemp(prefix="bb-bench-pg-", dir="/tmp"))
        self.embedded = folder / "embedded.duckdb"
        self.records = folder / "records.duckdb"
        self.store, self.prepare, self.url = store, prepare, ""

    def setup(self) -> None:
        """The store copies (the update published, a desk user added), the cluster, and the
        records copied into it with `beatbook db copy`."""
        self.prepare(self.store, self.embedded)  # copy, publish the update
        from beatbook.store import Store
        from beatbook.users import add_user

        with Store(self.embedded) as st:
            add_user(st, DESK_USER, "admin", DESK_PASSWORD)
        shutil.copyfile(self.embedded, self.records)
        self.url = self.pg.start(self.pg_folder)
        copied = subprocess.run(
            [sys.executable, "-m", "beatbook.cli.main", "db", "copy", "--from-store"]
            + [str(self.records), "--database", self.url],
            capture_output=True,
            text=True,
        )
        if copied.returncode != 0:
            raise RuntimeError(f"db copy failed:\n{copied.stdout}{copied.stderr}")

    def servers_for(self, *names: str) -> list[Server]:
        """The servers named (embedded, pg1, pg2), started together if not running yet."""
        made = []
        for name in names:
            if name not in self.servers:
                database = None if name == "embedded" else self.url
                store = self.embedded if name == "embedded" else self.records
                workers = 1 if name == "embedded" else int(name[2:])
                self.servers[name] = Server(name, store, database, workers, self.folder)
                made.append(self.servers[name])
        for s in made:
            s.wait_ready()
            s.warm()
        return [self.servers[n] for n in names]

    def close(self) -> None:
        for s in self.servers.values():
            s.stop()
        try:
            self.pg.stop(self.pg_folder)
        finally:
            shutil.rmtree(self.pg_folder, ignore_errors=True)


# --- what PostgreSQL holds (independent SQL) ---------------------------------------------


def stored(
    url: str, tag: str, subs: list[Submission], since: dt.datetime, logs: list[Path]
) -> dict[str, Any]:
    """What the database holds for ``subs`` (this run's ``tag``), counted in plain SQL."""
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT d.description, d.concern_id, c.concern_id IS NOT NULL,"
            " (SELECT array_agg(x.contact) FROM concern_contacts x"
            "  WHERE x.concern_id = d.concern_id)"
            " FROM concern_descriptions d LEFT JOIN concerns c USING (concern_id)"
            " WHERE d.description LIKE %s",
            (f"d-{tag}-%",),
        ).fetchall()
        contacts = dict(
            db.execute(
                "SELECT contact, count(*) FROM concern_contacts WHERE contact LIKE %s"
                " GROUP BY contact",
                (f"c-{tag}-%",),
            ).fetchall()
        )
        new_concerns = db.execute(
            "SELECT count(*) FROM concerns WHERE source = 'online' AND imported_at >= %s",
            (since,),
        ).fetchone()[0]
        orphans = db.execute(
            "SELECT (SELECT count(*) FROM concern_contacts x WHERE NOT EXISTS"
            "  (SELECT 1 FROM concerns c WHERE c.concern_id = x.concern_id)),"
            " (SELECT count(*) FROM concern_descriptions x WHERE NOT EXISTS"
            "  (SELECT 1 FROM concerns c WHERE c.concern_id = x.concern_id))"
        ).fetchone()
        leaks = {  # where each kind is found: it must be its own table's column alone
            "contact": leaked(db, f"%c-{tag}-%"),
            "description": leaked(db, f"%d-{tag}-%"),
        }
    for log in logs:  # nothing of the form is logged
        text = log.read_text(errors="replace")
        for kind, marker in (("contact", f"c-{tag}-"), ("description", f"d-{tag}-")):
            if marker in text:
                leaks[kind].append(f"log {log.name}")
    by_marker: dict[str, list[tuple[int, bool, list[str] | None]]] = {}
    for description, concern_id, has_concern, its_contacts in rows:
        by_marker.setdefault(description, []).append((concern_id, has_concern, its_contacts))
    counts = {"once": 0, "twice or more": 0, "missing": 0, "wrong contact": 0, "bad reference": 0}
    lost_accepted = stored_unaccepted = 0
    for sub in subs:
        found = by_marker.get(sub.description, [])
        if not found:
            counts["missing"] += 1
            lost_accepted += sub.accepted
            continue
        counts["once" if len(found) == 1 else "twice or more"] += 1
        stored_unaccepted += not sub.accepted
        concern_id, has_concern, its_contacts = found[0]
        if not has_concern or its_contacts != [sub.contact] or contacts.get(sub.contact) != 1:
            counts["wrong contact"] += 1
        if any(ref != concern_id for ref in sub.references):
            counts["bad reference"] += 1
    return {
        **counts,
        "accepted but lost": lost_accepted,
        "stored though the client saw a failure": stored_unaccepted,
        "concerns added": new_concerns,
        "concerns without a description": new_concerns - sum(1 for r in rows if r[2]),
        "orphan contacts": orphans[0],
        "orphan descriptions": orphans[1],
        "leaks": leaks,
    }


def leaked(db: psycopg.Connection, pattern: str) -> list[str]:
    """Every column of every table (information_schema), as text, searched for
    ``pattern``: the columns that hold it."""
    columns = db.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY 1, 2"
    ).fetchall()
    found = []
    for table, column in columns:
        query = sql.SQL("SELECT count(*) FROM {} WHERE {}::text LIKE %s").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        if db.execute(query, (pattern,)).fetchone()[0]:
            found.append(f"{table}.{column}")
    return found


def failures(subs: list[Submission], first_only: bool = True) -> dict[str, int]:
    """How many first attempts ended each way other than accepted."""
    seen: dict[str, int] = {}
    for sub in subs:
        for result in sub.outcomes[:1] if first_only else sub.outcomes:
            if result != "accepted":
                seen[result] = seen.get(result, 0) + 1
    return seen


def print_checks(title: str, checks: dict[str, Any]) -> None:
    print(f"  {title}:")
    for key, value in checks.items():
        if key == "leaks":  # each must be found in its own column, and only there
            for kind, where in value.items():
                home = f"concern_{kind}s.{kind}"
                verdict = "ok" if where == [home] else "WRONG"
                print(f"    {kind + 's found in':38s} {', '.join(where) or 'nowhere'} ({verdict})")
        else:
            print(f"    {key:38s} {value}")
