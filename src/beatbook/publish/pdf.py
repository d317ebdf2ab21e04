"""PDFs through WeasyPrint that can load nothing but BeatBook's own files.

WeasyPrint loads every image, stylesheet, font and attachment a document names through its
URL fetcher; its default fetches any ``http(s)``, ``file`` or ``data`` URL, so a document
that named an internal address or a local file would have the server fetch it and put it in
a public PDF. :class:`LocalOnly` answers only:

* ``file:`` URLs of the files the document was written with (the update's pictures in its
  scratch folder) and of the package's own assets (``publish/templates``), after resolving
  ``..`` and links;
* ``data:image/png;base64,`` URLs, only where asked (the JAG pack embeds its charts so).

Everything else is refused (WeasyPrint leaves it out and goes on), and counted in
``refused`` for the tests and the log.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

LOG = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent / "templates"
PNG_DATA = "data:image/png;base64,"
MAX_DATA = 20_000_000  # characters of one embedded chart


class Refused(ValueError):
    """A URL the document may not load."""


def _file_path(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        return Path(url2pathname(unquote(parts.path))).resolve()
    except (OSError, ValueError):
        return None


def fetcher(files: Iterable[Path] = (), *, png_data: bool = False) -> Any:
    """A WeasyPrint URL fetcher that loads only ``files``, the package's assets and (with
    ``png_data``) embedded PNG charts."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = {Path(f).resolve() for f in files}

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            path = _file_path(url)
            mine = path is not None and (path in allowed or path.is_relative_to(ASSETS))
            if mine and path is not None and path.is_file():
                return URLFetcherResponse(path.as_uri(), path.read_bytes())
            if png_data and url.startswith(PNG_DATA) and len(url) <= MAX_DATA:
                try:
                    body = base64.b64decode(url[len(PNG_DATA) :], validate=True)
                except (binascii.Error, ValueError):
                    body = b""
                if body.startswith(b"\x89PNG\r\n\x1a\n"):
                    return URLFetcherResponse(url[:40], body, {"Content-Type": "image/png"})
            shown = url if len(url) <= 100 else url[:97] + "..."
            self.refused.append(shown)
            LOG.warning("PDF: refused to load %s", shown)
            raise Refused(f"BeatBook loads only its own files into a PDF, not {shown}")

    return LocalOnly()


def write_pdf(
    pdf_path: Path,
    *,
    html_path: Path | None = None,
    html: str | None = None,
    files: Iterable[Path] = (),
    png_data: bool = False,
) -> list[str]:
    """Render ``html_path`` (or the ``html`` string) to ``pdf_path`` with WeasyPrint, loading
    only ``files`` and the package's assets (and PNG data URLs with ``png_data``). Returns the
    URLs it refused."""
    from weasyprint import HTML  # imported here: it loads Pango, which only this needs

    fetch = fetcher(files, png_data=png_data)
    if html_path is not None:
        document = HTML(filename=str(html_path), url_fetcher=fetch)
    else:
        document = HTML(string=html or "", base_url=str(ASSETS) + "/", url_fetcher=fetch)
    document.write_pdf(pdf_path)
    return list(fetch.refused)
