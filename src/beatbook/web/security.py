"""Cookies, CSRF tokens, sign-in throttling, rate limits, proxies and security headers.

- A desk session lives in the store (:mod:`beatbook.users`); its cookie holds only a random
  id, HttpOnly, SameSite=Lax, and Secure when the request came over TLS.
- Every state-changing form carries a CSRF token: an HMAC of the session id (or, on public
  forms, of a signed anonymous cookie) under the app secret, compared in constant time. A
  token from another session or a forged cookie fails.
- Sign-in is slowed down after repeated wrong passwords per (username, address), never
  locked, and the report form counts hits per address in a window: both kept with the team's
  records, so they hold across workers (:mod:`beatbook.web.limits`).
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
from collections.abc import Iterable
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
