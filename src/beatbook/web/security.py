"""Sessions, CSRF tokens, rate limits and security headers.

- A session is a signed cookie (itsdangerous) holding the username and a random nonce;
  it is HttpOnly, SameSite=Lax, and Secure when the request came over TLS.
- Every state-changing form carries a CSRF token: an HMAC of the session nonce (or, on
  public forms, of a signed anonymous cookie) under the app secret, compared in constant
  time. A token from another session or a forged cookie fails.
- Rate limits count hits per key (client address, username) in a sliding window.
- Every response gets a Content-Security-Policy with no inline script, and the usual
  nosniff / frame / referrer headers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "bb_session"
ANON_COOKIE = "bb_anon"
SESSION_SECONDS = 12 * 3600


class Signer:
    """Signs and reads the session and anonymous cookies, and derives CSRF tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="beatbook-session")

    def session_value(self, username: str) -> str:
        return self._serializer.dumps({"u": username, "n": secrets.token_urlsafe(16)})

    def read_session(self, value: str | None) -> dict[str, str] | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and {"u", "n"} <= set(data) else None

    def anon_value(self) -> str:
        return self._serializer.dumps({"a": secrets.token_urlsafe(16)}, salt="beatbook-anon")

    def read_anon(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, salt="beatbook-anon", max_age=SESSION_SECONDS)
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
        return response
