"""``beatbook serve --workers 2 --database URL`` (issue 20): two real worker processes on one
port, sharing the team's records in PostgreSQL. Every request below comes on a new connection,
so the kernel hands it to either worker (the access log names the process: both answer). A
form served by one is accepted by the other, a sign-out ends the session on both, the sign-in
limit counts across both, and a worker killed with SIGKILL is replaced."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from live_support import ADMIN, ANALYST, PASSWORD
from web_support import csrf_of

from beatbook.errors import InputError
from beatbook.records.engine import DATABASE_ENV
from beatbook.store import STORE_ENV, Store
from beatbook.users import add_user
from beatbook.web.security import SESSION_COOKIE
from support.postgres import fresh_database

ACCESS = re.compile(r"\[(\d+)\] [\d.]+:\d+ - \"(GET|POST) ")


@dataclass
class Workers:
    url: str
    process: subprocess.Popen[str]
    log: Path

    def fresh(self, **kw: object) -> httpx.Client:
        """A client that opens a new connection for every request."""
        limits = httpx.Limits(max_keepalive_connections=0)
        return httpx.Client(base_url=self.url, limits=limits, timeout=30, **kw)  # type: ignore[arg-type]

    def answering_pids(self) -> set[int]:
        return {int(m.group(1)) for m in ACCESS.finditer(self.log.read_text())}

    def worker_pids(self) -> set[int]:
        """The server's worker processes (not multiprocessing's resource tracker)."""
        found = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return {int(p) for p in found.split() if b"spawn_main" in _cmdline(int(p))}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone
        return b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workers(tmp_path: Path, postgres_url: str) -> Iterator[Workers]:
    with fresh_database(postgres_url) as url:
        store = tmp_path / "users.duckdb"
        with Store(store, database=url) as st:  # the users are in PostgreSQL
            for name, role in ((ADMIN, "admin"), (ANALYST, "analyst")):
                add_user(st, name, role, PASSWORD)
        port, log = _free_port(), tmp_path / "serve.log"
        env = {**os.environ, STORE_ENV: str(store), DATABASE_ENV: url}
        env.pop("BEATBOOK_SECRET", None)  # the workers' shared secret comes from the records
        with log.open("w") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "beatbook.cli.main",
                    "serve",
                    "--workers",
                    "2",
                    "--port",
                    str(port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                text=True,
            )
        running = Workers(f"http://127.0.0.1:{port}", process, log)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # both workers started and serving
                if log.read_text().count("Application startup complete") >= 2:
                    break
                time.sleep(0.3)
            else:
                pytest.fail("the workers did not answer in 90 s:\n" + log.read_text()[-3000:])
            yield running
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _sign_in(workers: Workers, username: str, password: str = PASSWORD) -> httpx.Response:
    with workers.fresh() as browser:
        token = csrf_of(browser.get("/login").text)  # served by one worker...
        return browser.post(  # ...posted, on a new connection, to either
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
        )


def test_two_workers_share_forms_sessions_and_limits(workers: Workers) -> None:
    with workers.fresh() as browser, ThreadPoolExecutor(4) as pool:  # busy: both accept
        answers = list(pool.map(lambda _: browser.get("/").status_code, range(60)))
    assert answers == [200] * 60
    assert len(workers.worker_pids()) == 2
    assert workers.answering_pids() == workers.worker_pids()  # both workers answered

    signed = [_sign_in(workers, ANALYST) for _ in range(6)]
    assert [r.status_code for r in signed] == [303] * 6  # every form accepted by either worker
    session = signed[0].cookies[SESSION_COOKIE]
    with workers.fresh(cookies={SESSION_COOKIE: session}) as desk:
        assert {desk.get("/desk").status_code for _ in range(10)} == {200}
        token = csrf_of(desk.get("/desk/password").text)
        assert desk.post("/logout", data={"csrf_token": token}).status_code == 303
        # signed out on one worker: refused by both at once
        assert {desk.get("/desk").status_code for _ in range(10)} == {303}

    wrong = [_sign_in(workers, ADMIN, "wrong password").status_code for _ in range(7)]
    # after five wrong passwords (settings.LOGIN_FREE_FAILURES), counted across both workers,
    # the next try must wait: refused whichever worker takes it
    assert wrong == [401] * 5 + [429] * 2


def test_a_killed_worker_is_replaced(workers: Workers) -> None:
    before = workers.worker_pids()
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = workers.worker_pids()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"no new worker: {workers.worker_pids()}")
    with workers.fresh() as browser:
        answers = []
        for _ in range(20):
            answers.append(browser.get("/").status_code)
    assert answers == [200] * 20


def test_several_workers_need_a_database(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from beatbook.cli.main import app

    result = CliRunner().invoke(
        app,
        ["--store", str(tmp_path / "x.duckdb"), "serve", "--workers", "2"],
        env={DATABASE_ENV: None, STORE_ENV: None},
    )
    assert isinstance(result.exception, InputError)
    assert "add --database" in str(result.exception)
