"""uvicorn's limits as ``beatbook serve`` sets them (issue 17, item 11), against a real
server: connections that send part of their headers and wait are closed after the header
timeout, and while hundreds of them are open a normal request still answers at once; a
head that grows past the size limit is refused; a flood of bad requests logs a few lines, not one each."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_support import Live, live, make_store

from beatbook import settings
from beatbook.web.server import RepeatFilter, limit_logs

PARTIAL = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
TIMEOUT = 1.5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    limits = {"header_timeout": TIMEOUT, "max_connections": 100}
    with live(make_store(tmp_path / "limits.duckdb"), limits=limits) as running:
        yield running


def _open_partial(url: str, n: int) -> list[socket.socket]:
    host, port = url.removeprefix("http://").split(":")
    held = []
    for _ in range(n):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(PARTIAL)
        held.append(s)
    return held


def _closed_by_server(s: socket.socket) -> bool:
    """Whether the server has closed this connection (EOF or reset), without waiting."""
    s.setblocking(False)
    try:
        return s.recv(1024) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def _wait_all_closed(held: list[socket.socket], within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if all(_closed_by_server(s) for s in held):
            return time.monotonic() - started
        time.sleep(0.1)
    open_ = sum(not _closed_by_server(s) for s in held)
    raise AssertionError(f"{open_} of {len(held)} connections still open after {within} s")


def test_hundreds_of_slow_header_connections_do_not_stop_the_server(server: Live) -> None:
    held = _open_partial(server.url, 300)  # three times the connection limit
    try:
        with httpx.Client(base_url=server.url, timeout=10) as browser:
            started = time.monotonic()
            answer = browser.get("/login")
            took = time.monotonic() - started
        assert answer.status_code == 200 and took < 1.0, took
        _wait_all_closed(held, TIMEOUT + 3)  # the oldest at once, the rest at the timeout
    finally:
        for s in held:
            s.close()


def test_a_slow_connection_is_closed_at_the_header_timeout_not_before(server: Live) -> None:
    held = _open_partial(server.url, 20)  # under the limit: only the timeout closes them
    host, port = server.url.removeprefix("http://").split(":")
    kept = socket.create_connection((host, int(port)), timeout=5)
    kept.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
    assert kept.recv(65536).startswith(b"HTTP/1.1 200")
    kept.sendall(PARTIAL)  # a second request on the same connection, never finished
    held.append(kept)
    try:
        time.sleep(TIMEOUT / 2)
        assert not any(_closed_by_server(s) for s in held)
        took = _wait_all_closed(held, TIMEOUT + 3)
        assert took < TIMEOUT + 2
    finally:
        for s in held:
            s.close()


def test_a_head_still_incomplete_past_the_size_limit_is_refused_at_once(server: Live) -> None:
    """h11 buffers at most SERVER_MAX_HEADER_BYTES of a head it cannot parse yet: a client
    cannot make the server hold more per connection."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT / 2) as s:
        s.sendall(PARTIAL + b"x" * (settings.SERVER_MAX_HEADER_BYTES + 1024))
        assert s.recv(1024).startswith(b"HTTP/1.1 400")  # before the header timeout


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_flood_of_bad_requests_logs_a_few_lines(server: Live) -> None:
    log = logging.getLogger("uvicorn.error")
    seen = _Count()
    log.addHandler(seen)
    host, port = server.url.removeprefix("http://").split(":")
    try:
        for _ in range(200):
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                s.recv(1024)
    finally:
        log.removeHandler(seen)
    bad = [m for m in seen.messages if "Invalid HTTP request" in m]
    assert len(bad) <= settings.LOG_BURST, len(bad)


def test_the_repeat_filter_counts_what_it_drops() -> None:
    log = logging.getLogger("beatbook.test-repeat")
    log.propagate = False
    log.setLevel(logging.INFO)
    seen = _Count()
    log.addHandler(seen)
    log.addFilter(RepeatFilter(burst=3, interval=0.3))
    for n in range(100):
        log.warning("the same trouble (%d)", n)
    log.info("information always passes")
    assert len(seen.messages) == 4
    time.sleep(0.35)
    log.warning("the same trouble (%d)", 100)
    assert "97 more like this" in seen.messages[-1]
    limit_logs()
    assert any(isinstance(f, RepeatFilter) for f in logging.getLogger("asyncio").filters)
