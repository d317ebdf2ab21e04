"""The team's Markdown as plain text, for the e-mail version of the community update.

An e-mail reader shows ``**``, ``##`` and ``[words](address)`` as they are, so the plain
text has none: emphasis keeps its words, a link becomes "words (address)" (a bare address
once), an image its description, a list item starts "- " or "1. ", a quote is indented, and
paragraphs are wrapped. It reads the same parser as the HTML
(:data:`beatbook.publish.team_markdown.MARKDOWN`), so both say the same words.
"""

from __future__ import annotations

import textwrap

from markdown_it.token import Token

from beatbook.publish.team_markdown import MARKDOWN

WIDTH = 72


def _inline(tokens: list[Token]) -> str:
    """The words of an inline run: marks dropped, links written out."""
    out: list[str] = []
    href: list[str] = []
    for t in tokens:
        if t.type in ("text", "code_inline"):
            out.append(t.content)
        elif t.type == "softbreak":
            out.append(" ")
        elif t.type == "hardbreak":
            out.append("\n")
        elif t.type == "image":
            out.append(t.content or str(t.attrs.get("alt", "")))
        elif t.type == "link_open":
            href.append(str(t.attrs.get("href", "")))
            out.append("\0")  # where the link's words start
        elif t.type == "link_close" and href:
            address = href.pop()
            start = max(i for i, part in enumerate(out) if part == "\0")
            words = "".join(out[start + 1 :])
            shown = address.removeprefix("mailto:").removeprefix("tel:")
            out[start:] = [words if words.strip() in (address, shown) else f"{words} ({shown})"]
    return "".join(out)


def _fill(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    filled = [
        textwrap.fill(
            " ".join(line.split()),
            width=WIDTH,
            initial_indent=first if i == 0 else rest,
            subsequent_indent=rest,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for i, line in enumerate(lines)
    ]
    return "\n".join(filled)


def to_text(markdown: str) -> str:
    """The Markdown's words as wrapped plain text, blocks apart by a blank line."""
    blocks: list[str] = []
    items: set[int] = set()  # the blocks that are list items: one line apart, not two
    lists: list[list[int]] = []  # for each open list: [next number] or [] when bulleted
    quote = 0
    item_start = False
    for i, t in enumerate(tokens := MARKDOWN.parse(markdown)):
        if t.type == "bullet_list_open":
            lists.append([])
        elif t.type == "ordered_list_open":
            lists.append([int(t.attrs.get("start", 1) or 1)])
        elif t.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif t.type == "list_item_open":
            item_start = True
        elif t.type == "blockquote_open":
            quote += 1
        elif t.type == "blockquote_close":
            quote -= 1
        elif t.type == "hr":
            blocks.append("-" * 20)
        elif t.type in ("fence", "code_block"):
            blocks.append(textwrap.indent(t.content.rstrip("\n"), "    "))
        elif t.type == "inline":
            words = _inline(t.children or [])
            depth = "  " * max(len(lists) - 1, 0) + "  " * quote
            if lists and item_start:
                current = lists[-1]
                mark = f"{current[0]}. " if current else "- "
                if current:
                    current[0] += 1
                items.add(len(blocks))
                blocks.append(_fill(words, depth + mark, depth + " " * len(mark)))
                item_start = False
            elif tokens[i - 1].type == "heading_open":
                blocks.append(_fill(words.upper(), depth, depth))
            else:
                blocks.append(_fill(words, depth, depth))
    out = ""
    for n, block in enumerate(blocks):
        if block.strip():
            gap = "\n" if n in items and n - 1 in items else "\n\n"
            out += (gap if out else "") + block
    return out
