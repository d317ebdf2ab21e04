"""The monthly community update: a neighbourhood team's letter to its residents.

For an area and month M it gathers, from the store: the priorities adopted or
continued for M, by ward, with why in plain words; the crimes at each priority's own
snap points for its trend chart, and the street names of the area's snap points for the
map; "you said, we did": what happened to M-1's priorities and whether the problem fell
there, worded by the assessment's confidence interval; operations of the last months with
their results in the area hierarchy ("46 of 141 warrants"); engagements in the coming
weeks; how to report; the team's officers; and the team's own text. Crime figures are police.uk data up to the
latest stored month before M (police.uk publishes a month or two behind).

Concerns appear only as counts, never a reporter's words or contact. The priorities
of an update are those recorded for the area itself (``areas.reference``), as the
JAG pack and ``beatbook priorities propose --save`` record them.

It is built in two steps: :func:`gather` reads everything the update needs from the store,
once, into one record (:class:`~beatbook.publish.update_facts.UpdateInputs`), and
:func:`beatbook.publish.update_facts.build` builds the facts and pictures from that record
without the store. Rendering and writing the files follow here.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from markupsafe import Markup, escape

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.engagements import list_engagements
from beatbook.errors import DataMissingError, InputError
from beatbook.figures.map_layers import ward_outlines
from beatbook.figures.public import current as current_priorities
from beatbook.months import CALENDAR, add_months, month_end, months_back, parse_month
from beatbook.operations.records import operations_report
from beatbook.priorities import lifecycle, review
from beatbook.publish import pdf, team_images, update_facts
from beatbook.publish.team_content import Section, Settings
from beatbook.publish.update_facts import TrendCounts, Update, UpdateInputs, result_areas, to_assess
from beatbook.reference import harm_table
from beatbook.reference.snap_points import is_generic, point_name
from beatbook.settings import ASB_HARM_DAYS, TREND_MONTHS, UPCOMING_WEEKS, WEEKS_RANGE
from beatbook.store import Store

RECENT_MONTHS = 3  # the trend note compares these last months with a year before
POINT = ["location", "longitude", "latitude"]  # a police.uk snap point
# months before the latest that the charts and notes read: the chart's 13, or the notes'
# same three months a year before, whichever reaches further back
MONTHS_READ = max(TREND_MONTHS - 1, 12 + RECENT_MONTHS - 1)
OPERATIONS_MONTHS = 3  # operations that ran in the update's month or the three before it


def update_month(store: Store, month: str, option: str = "--month") -> dt.date:
    """The month an update is for: YYYY-MM, a month of the stored data or at most
    settings.MONTHS_AFTER_DATA after the latest (:func:`beatbook.months.check_month`)."""
    return parse_month(month, option, q.months_with_data(store, *CALENDAR))


def gather(
    store: Store,
    area_name: str,
    month: str,
    *,
    settings: Settings,
    sections: list[Section],
    weeks: int = UPCOMING_WEEKS,
) -> UpdateInputs:
    """Everything the update needs from the store, read once: the area, the latest stored
    month before ``month``, the area's priorities and the assessments of last month's, the
    crimes by ward and problem for the trend charts, the ward outlines, the operations of the
    last months with how their result areas lie, and the engagements of the coming weeks."""
    WEEKS_RANGE.check(weeks, "--weeks")
    target = update_month(store, month)
    area = areas_mod.resolve(store, area_name)
    ref = areas_mod.reference(area)
    published = q.months_with_data(store, dt.date(1900, 1, 1), add_months(target, -1))
    if not published:
        raise DataMissingError(f"--month {month}: no street-level crime stored before it")
    data_to = published[-1]
    priorities = lifecycle.list_priorities(store, area=ref)
    current = current_priorities(priorities, target, published)
    crimes = _crimes(store, area, data_to)
    trends = _trend_counts(store, crimes, priorities, current, data_to) if current else None
    wards = ward_outlines(store, area, data_to)
    assessments = {
        pid: review.assess(store, pid, data_to) for pid in to_assess(priorities, target, data_to)
    }
    reports = operations_report(
        store, area, add_months(target, -OPERATIONS_MONTHS), month_end(target)
    )
    shares = {r: _shares_ground(store, area, r) for r in result_areas(reports)}
    until = target + dt.timedelta(days=7 * weeks - 1)
    engagements = list_engagements(store, area=ref, start=target, end=until)
    return UpdateInputs(
        area=area,
        reference=ref,
        month=target,
        data_to=data_to,
        priorities=tuple(priorities),
        current=tuple(current),
        assessments=assessments,
        trends=trends,
        wards=tuple(wards),
        operations=tuple(reports),
        shares_ground=shares,
        engagements=tuple(engagements),
        streets=_streets(crimes),
        weeks=weeks,
        settings=settings,
        sections=tuple(sections),
        team_images=team_images.image_files(store, ref, (n for s in sections for n in s.images)),
    )


def _shares_ground(store: Store, area: Area, ref: str) -> bool:
    """Whether the area called ``ref`` lies inside the team area or the team area inside it."""
    other = areas_mod.resolve(store, ref)
    return areas_mod.within(store, other, area) or areas_mod.within(store, area, other)


def _crimes(store: Store, area: Area, data_to: dt.date) -> pl.DataFrame:
    """The area's located crimes and ASB from the first month a trend note compares (a year
    and a quarter before ``data_to``), with the problem each counts towards."""
    first = add_months(data_to, -MONTHS_READ)
    problems = harm_table(asb_harm_days=ASB_HARM_DAYS).select("crime_type", "problem")
    return q.incidents(store, area, first, data_to).join(problems, on="crime_type", how="left")


def _trend_counts(
    store: Store,
    crimes: pl.DataFrame,
    priorities: list[dict[str, Any]],
    current: list[dict[str, Any]],
    data_to: dt.date,
) -> TrendCounts:
    """Crimes of each current priority's problem at its own snap points, by month, for its
    13-month chart to ``data_to`` and its note, which compares the last three months with
    a year before (or the three months before)."""
    months = months_back(data_to, TREND_MONTHS)
    stored = q.months_with_data(store, add_months(data_to, -MONTHS_READ), data_to)
    by_id = {p["priority_id"]: p for p in priorities}
    places = {}
    for c in current:
        own = pl.DataFrame(
            [[s["location"], s["longitude"], s["latitude"]] for s in by_id[c["id"]]["snap_points"]]
            or None,
            schema={"location": pl.Utf8, "longitude": pl.Float64, "latitude": pl.Float64},
            orient="row",
        )
        here = crimes.filter(pl.col("problem") == c["problem"]).join(own, on=POINT, how="semi")
        places[c["id"]] = {m: int(n) for m, n in here.group_by("month").len().iter_rows()}
    problems = harm_table(asb_harm_days=ASB_HARM_DAYS)["problem"]
    return TrendCounts(
        months=tuple(months),
        recent=tuple(months[-RECENT_MONTHS:]),
        stored=frozenset(stored),
        recorded=frozenset(problems.to_list()),
        places=places,
    )


def _streets(crimes: pl.DataFrame) -> tuple[tuple[str, float, float], ...]:
    """The named police.uk snap points of the area's crimes (street names for the map),
    leaving out police.uk's generic kinds ("Supermarket")."""
    points = crimes.select(POINT).unique().sort(POINT)
    return tuple(
        (point_name(loc), lon, lat)
        for loc, lon, lat in points.iter_rows()
        if loc and not is_generic(loc)
    )


def build(
    store: Store,
    area_name: str,
    month: str,
    *,
    settings: Settings,
    sections: list[Section],
    weeks: int = UPCOMING_WEEKS,
) -> Update:
    """Everything the update shows, from the store, as records and pictures: :func:`gather`
    reads the store once, then :func:`update_facts.build` builds without it."""
    return update_facts.build(
        gather(store, area_name, month, settings=settings, sections=sections, weeks=weeks)
    )


# --- rendering and writing ------------------------------------------------------------------

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_FILES = ("update.html.j2", "update.txt.j2")
OUTPUT_FILES = ("update.html", "update.pdf", "update.txt")


def _template_line(exc: BaseException) -> int | None:
    """The template line a runtime error came from (Jinja2 rewrites tracebacks onto it)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render_one(env: Environment, name: str, directory: Path, facts: dict[str, Any]) -> str:
    where = directory / name
    try:
        return env.get_template(name).render(u=facts)
    except TemplateNotFound as exc:
        raise InputError(
            f"template {where} not found: a template folder needs "
            f"{' and '.join(TEMPLATE_FILES)} (copy them from {TEMPLATES})"
        ) from exc
    except TemplateSyntaxError as exc:
        raise InputError(
            f"template {exc.filename or where}, line {exc.lineno}: {exc.message}"
        ) from exc
    except (TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
        line = _template_line(exc)
        at = f", line {line}" if line else ""
        raise InputError(
            f"template {where}{at}: {exc} (a section or field it uses is missing)"
        ) from exc


def _wrap(text: str, width: int = 72, indent: str = "") -> str:
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent,
        subsequent_indent=" " * len(indent),
    )


# E-mail addresses, UK numbers people call (999, 101, 111, Relay UK's 18000 and "18001 101", a number starting
# 0 such as 0800 555 111) and web addresses written without https:// ("crimestoppers-uk.org")
PHONE_OR_SITE = re.compile(
    r"(?<![\w.@/+-])(?:(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(?P<phone>999|101|111|18000|18001 101|0\d{2,4}(?: \d{3,4}){1,2}|0\d{9,10})"
    r"|(?P<site>(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:uk|org|com|net)(?:/[\w/.-]*[\w/])?))"
    r"(?![\w@-])"
)


def linkify(text: str) -> Markup:
    """The team's words as HTML with each phone number a ``tel:`` link, each e-mail address a
    ``mailto:`` link and each web address an ``https:`` link (everything else escaped)."""

    def link(found: re.Match[str]) -> str:
        words = found.group(0)
        if found.group("email"):
            return f'<a href="mailto:{words}">{words}</a>'
        if found.group("phone"):
            return f'<a href="tel:{words.replace(" ", "")}">{words}</a>'
        return f'<a href="https://{words}">{words}</a>'

    return Markup(PHONE_OR_SITE.sub(link, str(escape(text))))


def render(facts: dict[str, Any], template_dir: Path | None = None) -> tuple[str, str]:
    """The update as HTML and as plain text, from ``update.html.j2`` and ``update.txt.j2`` in
    ``template_dir`` (default: BeatBook's own, which a team can copy and restyle)."""
    directory = Path(template_dir) if template_dir else TEMPLATES
    if not directory.is_dir():
        raise InputError(f"--templates {directory}: not a folder")
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        undefined=StrictUndefined,
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["wrap"] = _wrap
    env.filters["linkify"] = linkify
    return tuple(_render_one(env, name, directory, facts) for name in TEMPLATE_FILES)  # type: ignore[return-value]


def write(update: Update, out_dir: Path, template_dir: Path | None = None) -> list[Path]:
    """Write update.html, update.pdf (WeasyPrint, A4), update.txt and the pictures to
    ``out_dir``. Everything is rendered in a scratch folder first, so a template error or a
    failed PDF leaves ``out_dir`` as it was; finished files are then moved in whole. The PDF
    loads only the update's own pictures (:mod:`beatbook.publish.pdf`): never a URL."""
    html, text = render(update.facts, template_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as scratch:
        work = Path(scratch)
        for name, png in update.images.items():
            (work / name).write_bytes(png)
        (work / "update.html").write_text(html, encoding="utf-8")
        (work / "update.txt").write_text(text, encoding="utf-8")
        pictures = [work / name for name in update.images]
        pdf.write_pdf(work / "update.pdf", html_path=work / "update.html", files=pictures)
        names = [*OUTPUT_FILES, *update.images]
        for name in names:
            os.replace(work / name, out_dir / name)
    return [out_dir / n for n in names]
