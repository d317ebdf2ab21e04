"""Cookies, CSRF tokens, sign-in throttling, rate limits, proxies and security headers.

- A desk session lives in the store (:mod:`beatbook.users`); its cookie holds only a random
  id, HttpOnly, SameSite=Lax, and Secure when the request came over TLS.
- Every state-changing form carries a CSRF token: an HMAC of the session id (or, on public
  forms, of a signed anonymous cookie) under the app secret, compared in constant time. A
  token from another session or a forged cookie fails.
- Sign-in is slowed down after repeated wrong passwords per (username, address), never
  locked (:class:`LoginThrottle`); the report form counts hits per address in a window.
- The client address is the connection's, unless the connection comes from a proxy named
  with ``beatbook serve --trusted-proxy`` (:class:`TrustedProxies`): X-Forwarded-For from
  anyone else is ignored.
- Every response gets a Content-Security-Policy with no inline script and the usual nosniff /
  frame / referrer headers; signed-in pages and the desk get ``Cache-Control: no-store``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

from beatbook import settings
from beatbook.errors import InputError
from beatbook.web.plain import UK

SESSION_COOKIE = "bb_session"
ANON_COOKIE = "bb_anon"


class Signer:
    """Signs and reads the anonymous cookie, and derives CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="beatbook-session")

    def anon_value(self) -> str:
        return self._serializer.dumps({"a": secrets.token_urlsafe(16)}, salt="beatbook-anon")

    def read_anon(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(
                value, salt="beatbook-anon", max_age=settings.SESSION_LIFETIME_SECONDS
            )
        except BadSignature:
            return None
        return data.get("a") if isinstance(data, dict) else None

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(
            self.csrf_token(nonce or ""), token or ""
        )


class RateLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds (in memory, per process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


@dataclass
class _Failures:
    count: int
    last: float  # time.monotonic() of the latest


class LoginThrottle:
    """Slows down password guessing without locking anyone out.

    Only wrong passwords count, per (username, address) and, from many more, per address.
    After ``free`` failures each try must wait ``first_delay`` seconds, doubling per failure
    up to ``max_delay``; failures are forgotten ``memory`` seconds after the latest. A
    successful sign-in clears its (username, address) pair. In memory, per process.
    """

    def __init__(
        self,
        free: int = settings.LOGIN_FREE_FAILURES,
        first_delay: float = settings.LOGIN_FIRST_DELAY_SECONDS,
        max_delay: float = settings.LOGIN_MAX_DELAY_SECONDS,
        memory: float = settings.LOGIN_FAILURE_MEMORY_SECONDS,
        address_free: int = settings.LOGIN_ADDRESS_FREE_FAILURES,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.first_delay, self.max_delay = free, first_delay, max_delay
        self.memory, self.address_free, self.max_keys = memory, address_free, max_keys
        self._failures: dict[tuple[str, ...], _Failures] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _keys(self, username: str, address: str) -> list[tuple[tuple[str, ...], int]]:
        name = (username or "").strip().lower()[:100]
        return [(("user", name, address), self.free), (("address", address), self.address_free)]

    def _wait(self, failures: _Failures | None, free: int, now: float) -> float:
        if failures is None or now - failures.last > self.memory or failures.count < free:
            return 0.0
        delay = min(self.max_delay, self.first_delay * 2.0 ** min(failures.count - free, 60))
        return max(0.0, failures.last + delay - now)

    def wait(self, username: str, address: str) -> float:
        """Seconds before ``username`` may try again from ``address`` (0: now)."""
        now = self._clock()
        with self._lock:
            return max(
                self._wait(self._failures.get(k), free, now)
                for k, free in self._keys(username, address)
            )

    def failed(self, username: str, address: str) -> float:
        """Count a wrong password; returns the wait it now puts on the next try."""
        now = self._clock()
        with self._lock:
            for key, _ in self._keys(username, address):
                found = self._failures.get(key)
                if found is None or now - found.last > self.memory:
                    found = self._failures[key] = _Failures(0, now)
                found.count, found.last = found.count + 1, now
            if len(self._failures) > self.max_keys:
                self._forget(now)
        return self.wait(username, address)

    def succeeded(self, username: str, address: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(username, address)[0][0], None)

    def _forget(self, now: float) -> None:
        """Drop what has expired, then (a flood of made-up names) the oldest half."""
        for key in [k for k, f in self._failures.items() if now - f.last > self.memory]:
            del self._failures[key]
        if len(self._failures) > self.max_keys:
            oldest = sorted(self._failures, key=lambda k: self._failures[k].last)
            for key in oldest[: len(oldest) // 2]:
                del self._failures[key]


def retry_text(seconds: float, now: dt.datetime | None = None) -> str:
    """'40 seconds', '3 minutes (after 06:42)': when to try again, rounded up; a wait of
    minutes also says the time (UK) it ends, from ``now`` (default: the clock)."""
    if seconds <= 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    minutes = math.ceil(seconds / 60)
    ends = (now or dt.datetime.now(dt.UTC)) + dt.timedelta(minutes=minutes)
    return f"{minutes} minutes (after {ends.astimezone(UK):%H:%M})"


def trusted_networks(
    proxies: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The proxies' addresses or networks, or an InputError naming a bad one."""
    found = []
    for text in proxies:
        try:
            found.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise InputError(
                f"--trusted-proxy {text!r}: expected the proxy's IP address or network, "
                "e.g. 127.0.0.1 or 10.0.0.0/24"
            ) from None
    return tuple(found)


class TrustedProxies:
    """ASGI middleware: for a connection from a trusted proxy, the client address is the
    nearest untrusted address in X-Forwarded-For (read from the right, as each proxy
    appends) and the scheme is X-Forwarded-Proto. From anyone else both headers are ignored,
    so a client cannot choose the address the rate limits count it under."""

    def __init__(self, app: Any, proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.networks = trusted_networks(proxies)

    def trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self.trusted(client[0]):
            hops: list[str] = []
            proto = ""
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    hops += [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").split(",")[-1].strip().lower()
            host = client[0]
            for hop in reversed(hops):
                host = hop
                if not self.trusted(hop):
                    break
            scope = {**scope, "client": (host, 0)}
            if proto in ("http", "https") and scope["type"] == "http":
                scope["scheme"] = proto
        await self.app(scope, receive, send)


def csp(tile_url: str | None) -> str:
    """The Content-Security-Policy: scripts only from the app itself, never inline."""
    images = "'self' data:"
    if tile_url:
        scheme_host = "/".join(tile_url.split("/")[:3]).replace("{s}.", "*.")
        images += f" {scheme_host}"
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: Any, policy: str) -> None:
        super().__init__(app)
        self.policy = policy

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = self.policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if signed_in_page(request):
            response.headers["Cache-Control"] = "no-store"
        return response


def signed_in_page(request: Request) -> bool:
    """The desk (pages, its API, its errors and redirects), sign-in and sign-out, and any
    page asked for with a session cookie: never kept by a browser or proxy cache."""
    return request.url.path.startswith(("/desk", "/login", "/logout")) or bool(
        request.cookies.get(SESSION_COOKIE)
    )
