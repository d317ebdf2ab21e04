"""The monthly community update: a neighbourhood team's letter to its residents.

For an area and month M it gathers, from the store: the priorities adopted or
continued for M, by ward, with why in plain words; "you said, we did": what
happened to M-1's priorities and whether the problem fell there, worded by the
assessment's confidence interval; operations of the last months with their results
in the area hierarchy ("46 of 141 warrants"); engagements in the coming weeks; how
to report; and the team's own text. Crime figures are police.uk data up to the
latest stored month before M (police.uk publishes a month or two behind).

Concerns appear only as counts, never a reporter's words or contact. The priorities
of an update are those recorded for the area itself (``areas.reference``), as the
JAG pack and ``beatbook priorities propose --save`` record them.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import textwrap
from dataclasses import dataclass
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

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.charts import update as charts
from beatbook.engagements import KINDS, list_engagements
from beatbook.errors import DataMissingError, InputError
from beatbook.figures.map_layers import ward_outlines
from beatbook.figures.public import current as current_priorities
from beatbook.figures.public import running_months
from beatbook.months import add_months, month_end, months_back, parse_month
from beatbook.operations.records import WHOLE, measure_nouns, operations_report
from beatbook.priorities import lifecycle, review
from beatbook.priorities.score import Weights
from beatbook.priorities.wording import month_span, plain_assessment, problem_label
from beatbook.publish.brief import change_phrase
from beatbook.publish.team_content import Section, Settings
from beatbook.reference import harm_table
from beatbook.settings import UPCOMING_WEEKS
from beatbook.stats import compare_counts
from beatbook.store import Store

TREND_MONTHS = 13
RECENT_MONTHS = 3  # the trend note compares these last months with a year before
OPERATIONS_MONTHS = 3  # operations that ran in the update's month or the three before it


@dataclass
class Update:
    """What the update says (JSON-ready records) and its pictures (file name -> PNG)."""

    facts: dict[str, Any]
    images: dict[str, bytes]


SAID = {
    "residents": "You told us about",
    "partners": "Partner agencies told us about",
    "mix": "You, partners and police data pointed to",
    "data": "Police data pointed to",
}


def _said_and_done(
    store: Store, priorities: list[dict[str, Any]], month: dt.date, data_to: dt.date
) -> list[dict[str, Any]]:
    """Last month's priorities: who raised them, what became of them, and whether the problem
    fell there against the rest of the ward (the assessment up to the latest data)."""
    last = add_months(month, -1)
    rows = []
    for p in priorities:
        running = running_months(p)
        if last not in running:
            continue
        if p["status"] == "closed":
            assessment = p["events"][-1]["details"].get("assessment")
            status = f"Closed at the end of {p['events'][-1]['month']:%B %Y}."
        else:
            assessment = review.assess(store, p["priority_id"], data_to) if running[0] <= data_to else None
            status = (f"It stays a priority in {month:%B}." if month in running
                      else "The team will review it at its next meeting.")  # fmt: skip
        label = problem_label(p["problem"])
        rows.append({
            "id": p["priority_id"], "ward": p["ward"], "place": p["label"], "problem": p["problem"],
            "you_said": f"{SAID.get(p['origin'], SAID['data'])} {label} at {p['label']}.",
            "status": status,
            "result": plain_assessment(assessment, p["ward"], p["problem"], final=p["status"] == "closed"),
            "verdict": assessment.get("verdict") if assessment else None,
            "assessed_to": assessment.get("during_months", [None])[-1] if assessment else None,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["ward"], r["place"], r["problem"]))
    return rows


def _operations(store: Store, area: Area, month: dt.date) -> list[dict[str, Any]]:
    """Operations of the last months with results, each measure worded with the total and
    the shares of the team area and the areas inside it ("46 of 141 warrants ...")."""
    start, end = add_months(month, -OPERATIONS_MONTHS), month_end(month)
    relevant: dict[str, bool] = {}

    def shares_ground(ref: str) -> bool:
        if ref not in relevant:
            other = areas_mod.resolve(store, ref)
            relevant[ref] = areas_mod.within(store, other, area) or areas_mod.within(store, area, other)
        return relevant[ref]

    rows = []
    for op in operations_report(store, area, start, end):
        lines = []
        for measure in op["measures"]:
            if measure["total"] is not None:
                one, many = measure_nouns(measure["measure"])
                lines.append(f"{measure['total']:,} {many if measure['total'] != 1 else one} in all")
            lines += [r["text"] for r in measure["areas"] if r["reference"] != WHOLE and shares_ground(r["reference"])]
        if lines:
            rows.append({"name": op["operation"], "from": op["from"], "to": op["to"],
                         "dates": _dates(op["from"], op["to"]), "description": op.get("description"),
                         "results": lines})  # fmt: skip
    return rows


def _dates(start: Any, end: Any) -> str:
    a, b = (dt.date.fromisoformat(str(d)[:10]) for d in (start, end))
    return f"{a:%-d %B %Y} to {b:%-d %B %Y}" if a.year != b.year else f"{a:%-d %B} to {b:%-d %B %Y}"


def _engagements(store: Store, area_ref: str, month: dt.date, weeks: int) -> list[dict[str, Any]]:
    """Engagements in the area (or inside it) from the first of the month for ``weeks`` weeks."""
    until = month + dt.timedelta(days=7 * weeks - 1)
    rows = []
    for e in list_engagements(store, area=area_ref, start=month, end=until):
        same_day = e.ends.date() == e.starts.date()
        time = (f"{e.starts:%H:%M}" if e.ends == e.starts else
                f"{e.starts:%H:%M} to {e.ends:%H:%M}" if same_day else
                f"{e.starts:%H:%M} to {e.ends:%a %-d %b %H:%M}")  # fmt: skip
        rows.append({"date": f"{e.starts:%A %-d %B}", "time": time, "start": e.starts.isoformat(timespec="minutes"),
                     "kind": KINDS[e.kind], "title": e.summary, "place": e.place,
                     "area": e.area_name, "notes": e.notes})  # fmt: skip
    return rows


def _ward_trends(
    store: Store, area: Area, data_to: dt.date, current: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """A 13-month chart per ward with priorities, one line per police-recorded priority
    problem, and the honest comparison of the last three months with a year before."""
    wanted = {(c["ward"], c["problem"]) for c in current}
    if not wanted:
        return [], {}
    months = months_back(data_to, TREND_MONTHS)
    # counted from the year-before months of the comparison (older than the chart's first)
    first = min(months[0], add_months(data_to, -12 - (RECENT_MONTHS - 1)))
    stored = set(q.months_with_data(store, first, data_to))
    crimes = q.incidents(store, area, first, data_to)
    wards = q.ward_labels(store, crimes["lsoa_code"].drop_nulls().unique().to_list()).select("lsoa_code", "ward")
    problems = harm_table(asb_harm_days=Weights().asb_harm_days).select("crime_type", "problem")
    counted = (
        crimes.join(wards, on="lsoa_code", how="left").join(problems, on="crime_type", how="left")
        .group_by("ward", "problem", "month").agg(pl.len().alias("n"))
    )  # fmt: skip
    counts = {(w, p, m): n for w, p, m, n in counted.iter_rows()}
    rows, images = [], {}
    for ward in sorted({w for w, _ in wanted}):
        series, notes = [], []
        for problem in sorted(p for w, p in wanted if w == ward):
            label = problem_label(problem)
            if problem not in set(problems["problem"].to_list()):
                notes.append(f"{label.capitalize()} is not recorded in police.uk data, so it has no line.")
                continue
            values = tuple(counts.get((ward, problem, m), 0) if m in stored else None for m in months)
            series.append(charts.Series(label.capitalize(), values))
            notes.append(_trend_sentence(ward, label, counts, problem, months[-RECENT_MONTHS:], stored))
        if not series:
            rows.append({"ward": ward, "image": None, "alt": None, "notes": notes})
            continue
        name = f"trend-{_slug(ward)}.png"
        labels = [f"{m:%Y-%m}" for m in months]
        images[name] = charts.ward_trend_chart(ward, labels, series)
        rows.append({"ward": ward, "image": name, "alt": charts.trend_alt(ward, labels, series),
                     "months": labels, "series": [{"label": s.label, "counts": list(s.counts)} for s in series],
                     "notes": notes})  # fmt: skip
    return rows, images


def _trend_sentence(ward: str, label: str, counts: dict[tuple[Any, ...], int], problem: str,
                    recent: list[dt.date], stored: set[dt.date]) -> str:  # fmt: skip
    """The last three months against the same months a year before (or, where those are not
    published, the three months before), by the exact test for two Poisson counts."""
    now = sum(counts.get((ward, problem, m), 0) for m in recent)
    span = month_span([f"{recent[0]:%Y-%m}", f"{recent[-1]:%Y-%m}"])
    what = f"{label.capitalize()} in {ward}, {span}"
    year_ago = months_back(add_months(recent[-1], -12), len(recent))
    just_before = months_back(add_months(recent[0], -1), len(recent))
    for earlier, against in ((year_ago, "the same months a year before"),
                             (just_before, "the three months before")):  # fmt: skip
        if all(m in stored for m in recent + earlier):
            before = sum(counts.get((ward, problem, m), 0) for m in earlier)
            change = compare_counts(before, now)
            return f"{what}, against {against}: {change_phrase(change, 'recorded')}."
    return f"{what}: {now} recorded; earlier months to compare with are not published."


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _team_map(
    store: Store, area: Area, data_to: dt.date, current: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, dict[str, bytes]]:
    """The team area's wards (outlines from the stored LSOA boundaries) with the places."""
    wards = ward_outlines(store, area, data_to)
    if not wards:
        return None, {}
    places = [charts.Place(c["number"], c["place"], c["longitude"], c["latitude"])
              for c in current if c["longitude"] is not None]  # fmt: skip
    names = [w for w, _ in wards]
    image = charts.team_map(area.name, wards, places)
    return {"image": "map.png", "alt": charts.map_alt(area.name, names, places), "wards": names}, {"map.png": image}


def build(
    store: Store,
    area_name: str,
    month: str,
    *,
    settings: Settings,
    sections: list[Section],
    weeks: int = UPCOMING_WEEKS,
) -> Update:
    """Everything the update shows, from the store, as records and pictures."""
    if not 1 <= weeks <= 26:
        raise InputError(f"--weeks {weeks}: expected 1 to 26")
    target = parse_month(month, "--month")
    area = areas_mod.resolve(store, area_name)
    ref = areas_mod.reference(area)
    published = q.months_with_data(store, dt.date(1900, 1, 1), add_months(target, -1))
    if not published:
        raise DataMissingError(f"--month {month}: no street-level crime stored before it")
    data_to = published[-1]
    priorities = lifecycle.list_priorities(store, area=ref)
    current = current_priorities(priorities, target)
    trends, images = _ward_trends(store, area, data_to, current)
    team_map, map_image = _team_map(store, area, data_to, current)
    images.update(map_image)
    by_ward: dict[str, list[dict[str, Any]]] = {}
    for c in current:
        by_ward.setdefault(c["ward"], []).append(c)
    facts = {
        "title": f"{area.name} community update, {target:%B %Y}",
        "area": {**area.to_dict(), "reference": ref},
        "month": f"{target:%Y-%m}",
        "month_label": f"{target:%B %Y}",
        "data_to": f"{data_to:%Y-%m}",
        "data_to_label": f"{data_to:%B %Y}",
        "team": settings.team_name(area.name),
        "contact": settings.contact,
        "sections": [{"heading": s.heading, "markdown": s.markdown, "html": s.html} for s in sections],
        "priorities": [{"ward": w, "items": items} for w, items in by_ward.items()],
        "you_said_we_did": _said_and_done(store, priorities, target, data_to),
        "operations": _operations(store, area, target),
        "engagements": _engagements(store, ref, target, weeks),
        "engagement_weeks": weeks,
        "reporting": [{"label": c.label, "how": c.how} for c in settings.channels],
        "trends": trends,
        "map": team_map,
        "sources": (f"Crime and anti-social behaviour: police.uk street-level data to "
                    f"{data_to:%B %Y}, Open Government Licence v3.0. Ward boundaries: ONS, "
                    "Open Government Licence v3.0; contains OS data © Crown copyright."),  # fmt: skip
    }
    return Update(facts, images)


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
        raise InputError(f"template {where} not found: a template folder needs "
                         f"{' and '.join(TEMPLATE_FILES)} (copy them from {TEMPLATES})") from exc  # fmt: skip
    except TemplateSyntaxError as exc:
        raise InputError(f"template {exc.filename or where}, line {exc.lineno}: {exc.message}") from exc
    except (TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
        line = _template_line(exc)
        at = f", line {line}" if line else ""
        raise InputError(f"template {where}{at}: {exc} (a section or field it uses is missing)") from exc


def _wrap(text: str, width: int = 72, indent: str = "") -> str:
    return textwrap.fill(" ".join(str(text).split()), width=width, initial_indent=indent,
                         subsequent_indent=" " * len(indent))  # fmt: skip


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
    return tuple(_render_one(env, name, directory, facts) for name in TEMPLATE_FILES)  # type: ignore[return-value]


def write(update: Update, out_dir: Path, template_dir: Path | None = None) -> list[Path]:
    """Write update.html, update.pdf (WeasyPrint, A4), update.txt and the pictures to
    ``out_dir``. Everything is rendered in a scratch folder first, so a template error or a
    failed PDF leaves ``out_dir`` as it was; finished files are then moved in whole."""
    from weasyprint import HTML  # imported here: it loads Pango, which only this needs

    html, text = render(update.facts, template_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=f".{out_dir.name}-") as scratch:
        work = Path(scratch)
        for name, png in update.images.items():
            (work / name).write_bytes(png)
        (work / "update.html").write_text(html, encoding="utf-8")
        (work / "update.txt").write_text(text, encoding="utf-8")
        HTML(filename=str(work / "update.html")).write_pdf(work / "update.pdf")
        names = [*OUTPUT_FILES, *update.images]
        for name in names:
            os.replace(work / name, out_dir / name)
    return [out_dir / n for n in names]
