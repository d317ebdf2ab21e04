"""What the PDF renderer may load: nothing but BeatBook's own files.

A real HTTP server on 127.0.0.1 records every request it gets; documents that point at it
(the team's text as stored before the rules, and a hostile document given straight to the
renderer, as a team's own template could be) are published or rendered, and the server must
have received nothing. Local files (an SVG holding a secret, /etc/passwd) must not reach the
PDF, neither as pictures nor as attachments; ``javascript:`` and ``data:`` links must not reach
the published HTML. A control run with WeasyPrint's own fetcher shows the probes would catch
a leak.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from PIL import Image as PILImage

from beatbook import areas as areas_mod
from beatbook.publish import pdf
from beatbook.publish.published import publish_update, published_file
from beatbook.store import Store
from support.hostile_text import Recorder

WARD = "Westcotes (Leicester)"
MONTH = "2021-08"
SECRET = "TOPSECRET-4242"


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


BAIT = _png((7, 3), (255, 0, 255))  # what the server answers: a 7 x 3 magenta picture


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder(BAIT).start()
    yield found
    found.stop()


@pytest.fixture
def secrets(tmp_path: Path) -> dict[str, Path]:
    """Local files a document might try to embed: an SVG and a PNG with visible content."""
    svg = tmp_path / "secret.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40">'
        f'<text x="5" y="30" font-size="20">{SECRET}</text></svg>',
        encoding="utf-8",
    )
    png = tmp_path / "secret.png"
    png.write_bytes(_png((5, 9), (0, 255, 255)))
    return {"svg": svg, "png": png}


def pdf_text(path: Path) -> str:
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return done.stdout


def image_sizes(path: Path) -> list[tuple[int, int]]:
    return [im.image.size for page in pypdf.PdfReader(path).pages for im in page.images]


def attachments(path: Path) -> dict[str, object]:
    return dict(pypdf.PdfReader(path).attachments)


def hostile(server: str, secrets: dict[str, Path]) -> str:
    svg, png = secrets["svg"].as_uri(), secrets["png"].as_uri()
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{server}/style.css">
<link rel="attachment" href="file:///etc/passwd" title="passwd">
<style>@import url("{server}/import.css");
@font-face {{ font-family: X; src: url("{server}/font.woff"); }}
body {{ font-family: X; background: url("{server}/background.png"); }}</style>
</head><body><p>Hostile document</p>
<img src="{server}/remote.png"><img src="{svg}"><img src="{png}"><img src="file:///etc/passwd">
<img src="../../../../../../etc/passwd"><img src="data:image/svg+xml,%3Csvg%3E%3C/svg%3E">
<object data="{server}/object.png"></object><embed src="{server}/embed.png">
<iframe src="{server}/frame.html"></iframe>
<a rel="attachment" href="file:///etc/passwd">passwd</a>
<a rel="attachment" href="{svg}">svg</a>
<a rel="attachment" href="{server}/attached.txt">remote</a>
</body></html>"""


def test_the_renderer_fetches_nothing_a_document_names(
    recorder: Recorder, secrets: dict[str, Path], tmp_path: Path
) -> None:
    document = hostile(recorder.url, secrets)
    # control: WeasyPrint's own fetcher follows every one of these
    from weasyprint import HTML

    HTML(string=document, base_url=str(tmp_path) + "/").write_pdf(tmp_path / "control.pdf")
    assert len(recorder.requests) >= 5, recorder.requests
    assert SECRET in pdf_text(tmp_path / "control.pdf")
    assert (7, 3) in image_sizes(tmp_path / "control.pdf")
    assert (5, 9) in image_sizes(tmp_path / "control.pdf")
    assert "passwd" in attachments(tmp_path / "control.pdf")
    recorder.requests.clear()

    out = tmp_path / "safe.pdf"
    refused = pdf.write_pdf(out, html=document, png_data=True)
    assert recorder.requests == []
    assert "Hostile document" in pdf_text(out)
    assert SECRET not in pdf_text(out) and "root:" not in pdf_text(out)
    assert image_sizes(out) == [] and attachments(out) == {}
    assert any("/remote.png" in r for r in refused) and "file:///etc/passwd" in refused


def test_the_renderer_loads_its_own_pictures(tmp_path: Path) -> None:
    own = tmp_path / "map.png"
    own.write_bytes(_png((11, 13), (10, 20, 30)))
    (tmp_path / "page.html").write_text(
        '<p>Own</p><img src="map.png"><img src="other.png">', encoding="utf-8"
    )
    (tmp_path / "other.png").write_bytes(_png((17, 19), (1, 2, 3)))  # beside it, not named
    refused = pdf.write_pdf(tmp_path / "own.pdf", html_path=tmp_path / "page.html", files=[own])
    assert image_sizes(tmp_path / "own.pdf") == [(11, 13)]
    assert refused == [(tmp_path / "other.png").as_uri()]
    import base64

    chart = "data:image/png;base64," + base64.b64encode(_png((23, 29), (5, 5, 5))).decode()
    pdf.write_pdf(tmp_path / "jag.pdf", html=f'<img src="{chart}">', png_data=True)
    assert image_sizes(tmp_path / "jag.pdf") == [(23, 29)]
    pdf.write_pdf(tmp_path / "no-data.pdf", html=f'<img src="{chart}">')
    assert image_sizes(tmp_path / "no-data.pdf") == []


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v or "" for k, v in attrs if k in ("href", "src", "data", "action")]


def test_publishing_text_stored_before_the_rules_fetches_nothing(
    writable_store: Store, recorder: Recorder, secrets: dict[str, Path]
) -> None:
    """The team's Markdown as the issue's attacker stored it (before input was checked)."""
    server = recorder.url
    text = (
        "## News\n\nOur beat surgery moves to Tuesdays.\n\n"
        f"![internal]({server}/internal.png) ![local]({secrets['svg'].as_uri()}) "
        f"![png]({secrets['png'].as_uri()}) ![passwd](file:///etc/passwd)\n\n"
        "[a script](javascript:alert(1)) [data](data:text/html;base64,PGI+aGk8L2I+) "
        "[entity](&#106;avascript:alert(2)) [vb](vbscript:x) [ok](https://www.police.uk)\n\n"
        f"[ref][r]\n\n[r]: {server}/reference\n\n"
        f'<img src="{server}/raw.png"> <a href="javascript:alert(3)">raw</a>\n'
    )
    ref = areas_mod.reference(areas_mod.resolve(writable_store, WARD))
    writable_store.execute(
        "INSERT INTO update_texts VALUES (?, ?, ?, 'before the rules', now())",
        [ref, dt.date(2021, 8, 1), text],
    )
    done = publish_update(writable_store, WARD, MONTH, "tester")
    assert recorder.requests == []
    files = {n: published_file(writable_store, ref, MONTH, n) for n in done["files"]}
    pdf_path = writable_store.path.with_name("published.pdf")
    pdf_path.write_bytes(files["update.pdf"][0])
    text_in_pdf = " ".join(pdf_text(pdf_path).split())
    assert "Our beat surgery moves to Tuesdays." in text_in_pdf
    assert SECRET not in text_in_pdf and "root:" not in text_in_pdf
    assert (7, 3) not in image_sizes(pdf_path) and (5, 9) not in image_sizes(pdf_path)
    assert attachments(pdf_path) == {}
    page = files["update.html"][0].decode("utf-8")
    links = _Links()
    links.feed(page)
    assert "https://www.police.uk" in links.urls
    for url in links.urls:
        lowered = url.strip().lower()
        assert not lowered.startswith(("javascript:", "data:", "vbscript:", "file:", "http:")), url
        assert "127.0.0.1" not in url, url
    # raw HTML shows as text (escaped), never as a tag
    assert '<a href="javascript' not in page and "&lt;a href=&quot;javascript" not in page
    assert '&lt;a href="javascript:alert(3)"&gt;raw&lt;/a&gt;' in page
    assert sorted(done["files"]) == sorted(n for n in files if not n.startswith("team-"))
