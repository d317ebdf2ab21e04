"""Run the app in uvicorn inside this process, in a background thread: for the browser
tests and ``benchmarks/web.py``, which need a real HTTP server on loopback. The server has
``beatbook serve``'s limits (:func:`beatbook.web.server.config`), which a test may change."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from beatbook.web import server as web_server


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    app: Any,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 20.0,
    **limits: Any,
) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://host:port``).
    ``limits``: :func:`beatbook.web.server.config`'s (max_connections, header_timeout...)."""
    port = port or free_port(host)
    # lifespan off: the caller owns the app and its store, and closes them itself.
    server = uvicorn.Server(
        web_server.config(
            app, host, port, log_level="warning", access_log=False, lifespan="off", **limits
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
