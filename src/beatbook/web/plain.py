"""Plain words for the web pages: times as people write them, and the library's messages
without command-line advice or area references.

The library speaks to both adapters; its messages may say what to run ("run 'beatbook
ingest'") or name an area as :func:`beatbook.areas.reference` writes it ("custom:West").
On a web page a person gets the same message with the command put in words and the area
by its name.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")  # police.uk's data and its teams are in the UK

# What each command does, for a reader of a web page (the longest match wins).
COMMANDS = {
    "ingest": "the import of police.uk data",
    "areas import-lookup": "the import of the ONS ward lookup",
    "areas import-boundaries": "the import of the LSOA boundaries",
    "areas import-population": "the import of ONS population estimates",
    "areas list": "the area list",
    "areas add": "adding the area",
    "users list": "the Users page",
    "priorities list": "the Priorities page",
    "concerns list": "the Concerns page",
    "concerns match": "the Concerns page",
    "ops add": "the Operations page",
    "update --image FILE": "the upload form",
    "update --settings FILE": "the Settings page",
}
_COMMAND = re.compile(r"'beatbook ([^']*)'|beatbook ((?:[a-z-]+)(?: --?[a-z-]+(?: [A-Z]+)?)*)")
_REFERENCE = re.compile(r"\b(?:custom|force|local authority):(?=\S)")


def _command(found: re.Match[str]) -> str:
    typed = (found.group(1) or found.group(2) or "").strip()
    known = [c for c in COMMANDS if typed == c or typed.startswith(c + " ")]
    return COMMANDS[max(known, key=len)] if known else "the team's data administrator"


def web_message(text: str) -> str:
    """A library message as a web page says it: commands in words, areas by their names."""
    return _REFERENCE.sub("", _COMMAND.sub(_command, text))


def when(value: object) -> str:
    """A time as '4 Dec 2026, 05:12' (UK time), a date as '4 Dec 2026'; ISO text (a 'Z' or
    an offset meaning UTC) is read first; anything else is shown as it is."""
    if isinstance(value, str):
        try:
            return when(
                dt.date.fromisoformat(value)
                if len(value) == 10
                else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            )
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return f"{moment.astimezone(UK):%-d %b %Y, %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%-d %b %Y}"
    return "" if value is None else str(value)
