"""The team's Markdown made safe to publish: what it may link to and show, checked at input
and enforced again at render.

* **Links** may go to ``https:`` (with a host), ``mailto:`` and ``tel:`` addresses only.
* **Images** may show only pictures the team uploaded for the area
  (:mod:`beatbook.publish.team_images`), written ``![description](NAME)``.
* **Raw HTML** is shown as text, never run.

Markdown is read by markdown-it-py (CommonMark, raw HTML off, nesting capped, linear time on
hostile input), which also gives each link the lines it came from.

:func:`check` refuses text that breaks a rule, naming the line and what was expected (the
CLI and the desk both save through it). :func:`to_html` renders any text, checked or not
(text stored before these rules), and passes the HTML through nh3 (the Ammonia sanitiser)
with an allowlist of tags and attributes and the same rules for links and images, so
nothing stored can become live markup: a refused link is left as its words, a refused image
as nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from beatbook.errors import InputError

LINK_SCHEMES = ("https", "mailto", "tel")
# The tags Markdown writes, less h1/h2 (the update's own title and section headings).
TAGS = {"p", "br", "hr", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code"}
TAGS |= {"em", "strong", "a", "img"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
EXPECTED_LINK = "expected an https:, mailto: or tel: link"


MAX_LEVEL = 22  # token depth refused: lists 10 deep reach 21 (a list, its item), quotes 21


def _parser() -> MarkdownIt:
    # Deeper than maxNesting, markdown-it drops the rest of the text; check() refuses text
    # half as deep, so nothing that was accepted is ever cut.
    parser = MarkdownIt("commonmark", {"html": False, "maxNesting": 2 * MAX_LEVEL})
    # Every link reaches the rules below (markdown-it would silently print some as text):
    # they are refused at input with their line, and dropped by the sanitiser at render.
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    return parser


MARKDOWN = _parser()


def link_allowed(url: str) -> bool:
    """Whether a link may be published: https with a host, mailto or tel, no control chars."""
    value = url.strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    scheme, colon, rest = value.partition(":")
    if not colon or scheme.lower() not in LINK_SCHEMES:
        return False
    if scheme.lower() == "https":
        try:
            return bool(urlsplit(value).hostname)
        except ValueError:
            return False
    return bool(rest.strip())


def _filter(images: Mapping[str, str]) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "a" and attribute == "href":
            return value if link_allowed(value) else None
        if tag == "img" and attribute == "src":
            return images.get(value)
        return value

    return keep


def to_html(text: str, images: Mapping[str, str] | None = None) -> str:
    """The team's Markdown as sanitised HTML. ``images`` maps the NAME of each uploaded image
    the text may show to the address the page loads it from; any other image is dropped and
    any link that is not https/mailto/tel keeps only its words."""
    return nh3.clean(
        MARKDOWN.render(text).strip(),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        attribute_filter=_filter(images or {}),
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
    )


def _targets(text: str) -> list[tuple[str, str, int]]:
    """Every link and image source in the text, as a browser would read it (entities decoded),
    with the first line (0-based) of the block it is in."""
    found = []
    for block in MARKDOWN.parse(text):
        line = block.map[0] if block.map else 0
        for token in block.children or []:
            found += _in(token, line)
    return found


def _in(token: Token, line: int) -> list[tuple[str, str, int]]:
    if token.type == "link_open":
        return [("a", str(token.attrs.get("href", "")), line)]
    if token.type == "image":
        return [("img", str(token.attrs.get("src", "")), line)]
    return []


def check(lines: Sequence[tuple[int, str]], source: str, images: Collection[str]) -> None:
    """Refuse a section (its ``(line number, line)`` pairs) whose links or images break the
    rules, or that nests lists or quotes too deeply to print, naming the line and what was
    expected; ``images`` are the area's uploaded names."""
    text = "\n".join(line for _, line in lines)
    for token in MARKDOWN.parse(text):
        if token.level >= MAX_LEVEL and token.map:
            raise InputError(
                f"{source}, line {lines[min(token.map[0], len(lines) - 1)][0]}: lists or quotes "
                "nested too deeply; expected at most 10 lists or 20 quotes inside each other"
            )
    for tag, url, index in _targets(text):
        if (tag == "a" and link_allowed(url)) or (tag == "img" and url in images):
            continue
        written = [n for n, line in lines if url and url in line]
        number = written[0] if written else lines[min(index, len(lines) - 1)][0]
        where = f"{source}, line {number}"
        shown = url if len(url) <= 80 else url[:77] + "..."
        if tag == "a":
            raise InputError(f"{where}: link to {shown!r} is not allowed; {EXPECTED_LINK}")
        have = ", ".join(sorted(images)) or "none yet"
        raise InputError(
            f"{where}: image {shown!r} is not an uploaded image; images must be uploaded first "
            "(on the desk's update page, or beatbook update --image FILE) and shown with "
            f"![description](NAME); this area's images: {have}"
        )
