"""uvicorn as ``beatbook serve`` runs it, with limits that keep it answering.

- **Connections**: at most ``limit_concurrency`` (uvicorn answers 503 past it). Before that,
  when a new connection comes in with 90% of them open, the connection idle the longest
  (one without a request in progress) is closed, so connections held open without sending
  a request cannot crowd out real ones.
- **Slow headers**: a request's headers must be in within ``header_timeout`` seconds of the
  connection opening or of the last answer on it, or the connection is closed (uvicorn
  itself has no such timeout; its keep-alive timeout stops at the first byte).
- **Header size**: ``h11_max_incomplete_event_size``: a head still incomplete past it gets 400.
- **Proxy headers**: uvicorn's own handling is off (it trusts 127.0.0.1 by default); the
  app's :class:`~beatbook.web.security.TrustedProxies` reads them from named proxies only.
- **The log**: each warning or error is logged at most ``LOG_BURST`` times a minute
  (:class:`RepeatFilter`), so a flood of bad requests cannot fill the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import threading
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from beatbook import settings


class ServerConfig(uvicorn.Config):
    """uvicorn's Config and the header timeout :class:`GuardedH11Protocol` reads."""

    def __init__(
        self, app: Any, *, header_timeout: float = settings.SERVER_HEADER_TIMEOUT_SECONDS, **kw: Any
    ) -> None:
        super().__init__(app, **kw)
        self.header_timeout = header_timeout


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header timeout and idle connections closed first."""

    _header_timer: asyncio.TimerHandle | None = None
    _idle_since: float = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = time.monotonic()
        self._arm()
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._idle_since = time.monotonic()
            self._arm()

    def busy(self) -> bool:
        """A request is in progress (headers in, answer not yet complete)."""
        return self.cycle is not None and not self.cycle.response_complete

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _arm(self) -> None:
        self._disarm()
        timeout = float(getattr(self.config, "header_timeout", 0) or 0)
        if timeout > 0:
            self._header_timer = self.loop.call_later(timeout, self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.busy():  # else the answer re-arms the timer
            self.close_idle()

    def close_idle(self) -> None:
        if self.transport.is_closing():
            return
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    def _make_room(self) -> None:
        limit = self.config.limit_concurrency
        if not limit:
            return
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        excess = len(open_) - max(1, limit * 9 // 10)
        if excess <= 0:
            return
        idle = sorted(
            (
                c
                for c in open_
                if c is not self and isinstance(c, GuardedH11Protocol) and not c.busy()
            ),
            key=lambda c: c._idle_since,
        )
        for connection in idle[:excess]:
            connection.close_idle()


class RepeatFilter(logging.Filter):
    """Lets each warning or error (by logger, message and exception type) through at most
    ``burst`` times per ``interval`` seconds; the next one after that says how many were
    dropped. Records below WARNING always pass."""

    def __init__(
        self, burst: int = settings.LOG_BURST, interval: float = settings.LOG_INTERVAL_SECONDS
    ) -> None:
        super().__init__()
        self.burst, self.interval = burst, interval
        self._seen: dict[tuple[str, str, object], list[float]] = {}  # [start, passed, dropped]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = record.exc_info[0] if record.exc_info else None
        key = (record.name, str(record.msg)[:200], kind)
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(key)
            if seen is None or now - seen[0] >= self.interval:
                dropped = int(seen[2]) if seen else 0
                if len(self._seen) > 10_000:
                    self._seen.clear()
                self._seen[key] = [now, 1, 0]
                if dropped:
                    record.msg = (
                        f"{record.msg} ({dropped} more like this in the last "
                        f"{self.interval:.0f} s were not logged)"
                    )
                return True
            if seen[1] < self.burst:
                seen[1] += 1
                return True
            seen[2] += 1
            return False


#: The loggers a flood could fill the log through: uvicorn's, asyncio's (accept errors)
#: and BeatBook's own.
LIMITED_LOGGERS = ("uvicorn", "uvicorn.error", "asyncio", "beatbook")
_FILTER = RepeatFilter()


def limit_logs(log_filter: logging.Filter = _FILTER) -> None:
    """Put ``log_filter`` on :data:`LIMITED_LOGGERS` (once each)."""
    for name in LIMITED_LOGGERS:
        logger = logging.getLogger(name)
        if log_filter not in logger.filters:
            logger.addFilter(log_filter)


def config(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    max_connections: int = settings.SERVER_MAX_CONNECTIONS,
    header_timeout: float = settings.SERVER_HEADER_TIMEOUT_SECONDS,
    keep_alive: int = settings.SERVER_KEEP_ALIVE_SECONDS,
    **kw: Any,
) -> ServerConfig:
    """uvicorn's configuration for ``app`` with BeatBook's limits (``settings.SERVER_*``);
    ``kw`` goes to uvicorn (log_level, access_log, lifespan...)."""
    made = ServerConfig(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol,
        header_timeout=header_timeout,
        limit_concurrency=max_connections,
        timeout_keep_alive=keep_alive,
        h11_max_incomplete_event_size=settings.SERVER_MAX_HEADER_BYTES,
        proxy_headers=False,  # the app trusts only --trusted-proxy (security.TrustedProxies)
        server_header=False,
        **kw,
    )
    limit_logs()  # after uvicorn's Config has set up its loggers
    return made


def run(app: Any, host: str, port: int, **kw: Any) -> None:
    """Serve ``app`` until interrupted (``beatbook serve``)."""
    uvicorn.Server(config(app, host, port, **kw)).run()


def _worker_logs() -> dict[str, Any]:
    """uvicorn's logging with each line naming its worker's process id."""
    made = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for formatter in made["formatters"].values():
        formatter["fmt"] = formatter["fmt"].replace(
            "%(levelprefix)s", "%(levelprefix)s [%(process)d]"
        )
    return made


def run_workers(factory: str, workers: int, host: str, port: int, **kw: Any) -> None:
    """Serve with ``workers`` processes on one listening socket until interrupted: uvicorn's
    supervisor starts each (``factory``, an import path, builds its app), and starts a worker
    again if it dies. Every limit of :func:`config` holds per worker."""
    from uvicorn.supervisors import Multiprocess

    made = config(
        factory,
        host,
        port,
        factory=True,
        workers=workers,
        log_config=_worker_logs(),
        timeout_worker_healthcheck=settings.SERVER_WORKER_START_SECONDS,
        **kw,
    )
    sock = made.bind_socket()
    Multiprocess(made, sockets=[sock]).run()
