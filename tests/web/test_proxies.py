"""X-Forwarded-For and X-Forwarded-Proto (issue 17, item 10), against a real server: from a
client that is not a named proxy they are ignored, so changing them does not get round the
report-form or sign-in limits; from a proxy named with --trusted-proxy they are honoured,
the nearest untrusted address counting (what the proxy appended, not what the client sent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_support import ANALYST, PASSWORD, Live, live, make_store, sign_in
from typer.testing import CliRunner
from web_support import csrf_of

from beatbook.cli.main import app as cli
from beatbook.errors import InputError
from beatbook.store import STORE_ENV
from beatbook.web import create_app
from beatbook.web.limits import LoginThrottle

PROXY, OTHER = "127.0.0.1", "127.0.0.2"  # the client addresses a test connects from


def report(browser: httpx.Client, forwarded: str | None) -> int:
    """Post the report form (its fields wrong: the limit is checked first) and return the
    status: 400 counted and refused for its fields, 429 over the limit."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = csrf_of(browser.get("/report", headers=headers).text)
    return browser.post("/report", data={"csrf_token": token}, headers=headers).status_code


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Live]:
    """Reports limited to 2 per address; sign-in slowed after 2 wrong passwords; 127.0.0.1
    is the trusted proxy."""
    with live(
        make_store(tmp_path / "proxy.duckdb"),
        report_limit=(2, 600.0),
        login_throttle=LoginThrottle(free=2, first_delay=600),
        trusted_proxies=[PROXY],
    ) as running:
        yield running


def test_forwarded_for_from_an_untrusted_client_is_ignored(server: Live) -> None:
    with server.browser(OTHER) as client:
        codes = [report(client, f"198.51.100.{n}") for n in range(3)]
        assert codes == [400, 400, 429]
        guesses = [
            sign_in(client, ANALYST, "wrong guess here", **{"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(3)
        ]
        assert [g.status_code for g in guesses] == [401, 401, 429]


def test_an_untrusted_server_ignores_forwarded_for_even_from_loopback(tmp_path: Path) -> None:
    """No --trusted-proxy: uvicorn's own default (trusting 127.0.0.1) is not used."""
    store = make_store(tmp_path / "plain.duckdb")
    with live(store, report_limit=(2, 600.0)) as server, server.browser() as client:
        assert [report(client, f"198.51.100.{n}") for n in range(3)] == [400, 400, 429]


def test_forwarded_for_from_the_trusted_proxy_is_honoured(server: Live) -> None:
    with server.browser(PROXY) as proxy:
        assert [report(proxy, "203.0.113.5") for _ in range(3)] == [400, 400, 429]
        assert report(proxy, "203.0.113.6") == 400  # another resident behind the proxy
        # the client's own X-Forwarded-For is kept, the proxy appends the real address:
        # the real address counts
        assert report(proxy, "203.0.113.77, 203.0.113.5") == 429
        # a chain of trusted proxies is walked through
        assert report(proxy, f"203.0.113.6, {PROXY}") == 400
        assert report(proxy, f"203.0.113.6, {PROXY}") == 429
        # sign-in: the user's address behind the proxy counts, not the proxy's
        for _ in range(2):
            sign_in(proxy, ANALYST, "wrong guess here", **{"X-Forwarded-For": "203.0.113.5"})
        slowed = sign_in(proxy, ANALYST, **{"X-Forwarded-For": "203.0.113.5"})
        assert slowed.status_code == 429
        assert sign_in(proxy, ANALYST, **{"X-Forwarded-For": "203.0.113.6"}).status_code == 303


def _sign_in_over_tls(browser: httpx.Client) -> httpx.Response:
    """The form fetched plainly (httpx, like a browser, keeps a Secure cookie off plain
    HTTP), then posted saying it came over TLS."""
    token = csrf_of(browser.get("/login").text)
    return browser.post(
        "/login",
        data={"username": ANALYST, "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"},
    )


def test_forwarded_proto_marks_cookies_secure_only_from_the_proxy(server: Live) -> None:
    with server.browser(PROXY) as proxy:
        answer = _sign_in_over_tls(proxy)
        assert answer.status_code == 303
        assert "secure" in answer.headers["set-cookie"].lower()
        assert "strict-transport-security" in answer.headers
    with server.browser(OTHER) as client:
        answer = _sign_in_over_tls(client)
        assert answer.status_code == 303
        assert "secure" not in answer.headers["set-cookie"].lower()
        assert "strict-transport-security" not in answer.headers


def test_a_bad_trusted_proxy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--trusted-proxy 'proxy.example'"):
        create_app(tmp_path / "bad.duckdb", trusted_proxies=["proxy.example"])
    result = CliRunner().invoke(
        cli,
        ["--store", str(tmp_path / "bad2.duckdb"), "serve", "--trusted-proxy", "10.0.0.0/33"],
        env={STORE_ENV: None},
    )
    assert isinstance(result.exception, InputError)  # main() prints it, exit code 2
    assert "--trusted-proxy '10.0.0.0/33'" in str(result.exception)
