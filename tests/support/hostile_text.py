"""Hostile input for the team's Markdown, shared by the library, web and PDF tests: attack
strings, a Hypothesis strategy mixing them with Markdown and random text, a check that HTML
holds nothing live (by the tests' own allowlist and the standard library's parser), and a
real HTTP server on loopback that records every request it gets."""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hypothesis import strategies as st

ATTACKS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](http://example.org/)",
    "[click](//evil.example/)",
    "[click](/desk/users)",
    "[click](file:///etc/passwd)",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](http://127.0.0.1:9/secret.png)",
    "![x](https://example.org/a.png)",
    "![x](file:///etc/passwd)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](../../etc/passwd)",
    "![x](team-pcso-surgery.jpg)",
    "![x][img]\n\n[img]: http://127.0.0.1:9/a.png",
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src='https://example.org'></iframe>",
    "<style>body{background:url(http://127.0.0.1:9/)}</style>",
    "<link rel=attachment href=file:///etc/passwd>",
    "<!-- comment --><svg onload=alert(1)>",
    '[x](https://example.org "t" onmouseover="alert(1)")',
    "```\n<script>alert(1)</script>\n```",
    "[" * 300 + "x" + "](javascript:1)" * 3,
    "- " * 200 + "deep",
    ">" * 200 + " deep",
]

_pieces = st.one_of(
    st.sampled_from(ATTACKS),
    st.sampled_from(
        ["**b**", "_i_", "- item", "1. one", "> quote", "### Sub", "---", "`c`", "&amp;", "&#0;"]
    ),
    st.sampled_from(["[a](https://x.org)", "<mailto:a@b.org>", "![p](pcso-surgery.jpg)"]),
    st.sampled_from(["[", "]", "(", ")", "<", ">", "!", "\\", "*", "_", ":", "\t", " ", "\n"]),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
)
#: Random Markdown bodies (no surrogates: they cannot be sent in a form).
BODIES = st.lists(_pieces, min_size=1, max_size=12).map("".join)

# What may appear in the team's HTML, written out here (not read from the module).
TAGS_OK = {"p", "br", "hr", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre"}
TAGS_OK |= {"code", "em", "strong", "a", "img"}
ATTRS_OK = {"a": {"href", "title", "rel"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


class _Read(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def assert_safe(html: str, sources: set[str] | frozenset[str]) -> None:
    """Only allowed tags and attributes; links https/mailto/tel; images only ``sources``."""
    reader = _Read()
    reader.feed(html)
    for tag, attrs in reader.tags:
        assert tag in TAGS_OK, (tag, html)
        assert set(attrs) <= ATTRS_OK.get(tag, set()), (tag, attrs, html)
        if tag == "a" and "href" in attrs:
            href = (attrs["href"] or "").lower()
            assert href.startswith(("https://", "mailto:", "tel:")), html
        if tag == "img" and "src" in attrs:
            assert attrs["src"] in sources, html
    lowered = html.lower()
    for bad in ("<script", "<iframe", "<style", "<svg", "<link", "<base", "<object"):
        assert bad not in lowered, html


class Recorder:
    """A real HTTP server on 127.0.0.1 that answers every GET with ``body`` (a picture) and
    records the path. ``start()`` / ``stop()``; ``url`` is its base address."""

    def __init__(self, body: bytes, content_type: str = "image/png") -> None:
        self.requests: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                recorder.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
