"""What the desk's pages share: the area and month a page is about, and the message a form
leaves after its redirect.

After a POST the desk redirects (303, so a reload does not repeat it) back to its page with
the outcome in the query string: ``msg``, ``kind`` (ok | error) and ``sig``, an HMAC of both
under the app's secret, so a link made elsewhere cannot put words on a desk page.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from beatbook.errors import BeatBookError
from beatbook.figures import dashboard
from beatbook.months import add_months, parse_month
from beatbook.store import Store
from beatbook.web.deps import signer

MAX_MESSAGE = 600


@dataclass
class Selection:
    """The area and month a desk page shows, and the choices for its picker."""

    areas: list[dict[str, str]]
    months: list[str]
    area: str
    month: str
    error: str | None = None
    note: str | None = None  # why the month shown is not the month asked for

    @property
    def month_label(self) -> str:
        return month_words(self.month)

    @property
    def area_label(self) -> str:
        return next((a["label"] for a in self.areas if a["value"] == self.area), self.area)


def next_month(month: str) -> str:
    m = parse_month(month, "month")
    return f"{add_months(m, 1):%Y-%m}"


def previous_month(month: str) -> str:
    m = parse_month(month, "month")
    return f"{add_months(m, -1):%Y-%m}"


def select(
    store: Store, area: str | None, month: str | None, *, after_data: bool = False
) -> Selection:
    """The page's area (default: the first team area) and month (default: the latest month of
    data, or with ``after_data`` the month after it: what priorities and updates are for).
    Without ``after_data`` the month must have data: another is replaced by the latest, with
    a note saying why (:func:`no_data_note`)."""
    choices = dashboard.area_choices(store)
    months = dashboard.month_choices(store)
    chosen = (area or "").strip() or (choices[0]["value"] if choices else "")
    if chosen and all(c["value"] != chosen for c in choices):
        choices = [{"value": chosen, "label": chosen, "group": "As typed"}, *choices]
    default = months[0] if months else f"{dt.date.today():%Y-%m}"
    if after_data and months:
        default = next_month(default)
    picked = (month or "").strip() or default
    error = None
    try:
        picked = f"{parse_month(picked, 'month'):%Y-%m}"
    except BeatBookError as exc:
        error, picked = str(exc), default
    note = None
    if not after_data and not error and months and picked not in months:
        note, picked = no_data_note(picked, months), default
    return Selection(choices, months, chosen, picked, error, note)


def month_words(month: str) -> str:
    """'2025-09' as 'September 2025'."""
    return f"{parse_month(month, 'month'):%B %Y}"


def no_data_note(month: str, months: list[str]) -> str:
    """Why ``month`` cannot be shown: police.uk publishes a month some weeks after it ends,
    or (a month before the latest) it was never loaded; ``months``: those stored, newest first."""
    asked, latest = month_words(month), month_words(months[0])
    if month > months[0]:
        why = (
            f"{asked} has no police.uk data here yet: police.uk publishes each month's "
            "street-level crime some weeks after the month ends (usually 3 to 8 weeks), "
            "and it is loaded here after that."
        )
    else:
        why = f"No police.uk street-level crime is stored for {asked}."
    return f"{why} Showing {latest}, the latest month stored."


def _signature(request: Request, message: str, kind: str) -> str:
    return signer(request).csrf_token(f"flash|{kind}|{message}")[:24]


def back(
    request: Request, path: str, message: str, *, error: bool = False, **params: Any
) -> RedirectResponse:
    """303 to ``path`` with ``params`` and a signed message."""
    kind = "error" if error else "ok"
    text = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
    query = {k: v for k, v in params.items() if v not in (None, "")}
    query.update(msg=text, kind=kind, sig=_signature(request, text, kind))
    return RedirectResponse(f"{path}?{urlencode(query)}", status_code=303)


def flash(request: Request) -> dict[str, str] | None:
    """The message of the redirect that brought the user here, if its signature holds."""
    message = request.query_params.get("msg")
    kind = request.query_params.get("kind", "ok")
    sig = request.query_params.get("sig", "")
    if not message or kind not in ("ok", "error"):
        return None
    if not hmac.compare_digest(_signature(request, message, kind), sig):
        return None
    return {"text": message, "kind": kind}
