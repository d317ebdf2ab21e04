"""The statistics brief: a data-journalism summary of one area and year.

The kind of piece a local paper prints ("drug offences were 3.8% of crime,
up from 1.6%; 30th highest of 99 areas"), but with every number computed
from the store and worded by its test: a change is a "rise" or "fall" only
when its test says so, a claim about every category is made only when
it is true, and the methods box says which population year and tests were used.

One set of months and one population estimate for every figure: the year's published
months (with a compare year, only the calendar months both years have, named in the
title when fewer than 12) and the ONS estimate nearest them, for both years, the rank
and the comparison area alike.

Anti-social behaviour is not a crime: it is counted and reported apart.

The charts (:mod:`beatbook.charts.brief`) are drawn only from these facts, and
written as PNG files beside ``brief.md`` and ``brief.html``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown as md
import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from beatbook import areas as areas_mod
from beatbook import populations as pops
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.charts import brief as brief_charts
from beatbook.errors import DataMissingError, InputError
from beatbook.figures import stats as figures
from beatbook.figures.trend import long_run_section
from beatbook.stats import (
    changes_by_category,
    claim_every_category,
    compare_areas_by_category,
    compare_monthly_counts,
    describe_change,
    describe_rank,
    describe_rate,
    describe_share,
    describe_trend,
    format_p,
    rate,
    share,
    share_changes_by_category,
)
from beatbook.stats.rank import RANK_OVERDISPERSED
from beatbook.stats.trend import MIN_SEASONAL_MONTHS, seasonal_trend
from beatbook.stats.wording import describe_months
from beatbook.store import Store

ASB = "Anti-social behaviour"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Brief:
    facts: dict[str, Any]
    markdown: str
    markdown_path: Path
    html_path: Path
    chart_paths: list[Path] = field(default_factory=list)


def _months_of_year(store: Store, year: int, forces: list[str]) -> list[dt.date]:
    """The months of ``year`` that every one of the area's forces has published."""
    return q.months_with_data(store, dt.date(year, 1, 1), dt.date(year, 12, 1), forces)


def _crime_types(store: Store) -> list[str]:
    return [t for t in q.crime_types(store) if t != ASB]


def _monthly_counts(
    store: Store, area: Area, months: list[dt.date], types: list[str]
) -> dict[dt.date, int]:
    """Crimes (ASB excluded) in each of these stored months; a stored month with none is 0."""
    frame = q.crime_counts(store, area, months[0], months[-1], by=["month"], crime_types=types)
    found = dict(frame.iter_rows())
    return {m: int(found.get(m, 0)) for m in months}


def _monthly(
    store: Store, area: Area, months: list[dt.date], types: list[str], population: float
) -> list[dict[str, Any]]:
    """Rate per 1,000 in each of the brief's months (of both years; months not in the brief
    are left out: gaps, not zeros), all against the headline's residents, with Garwood
    intervals."""
    rows = []
    for month, count in _monthly_counts(store, area, months, types).items():
        r = rate(count, population)
        rows.append(
            {
                "month": f"{month:%Y-%m}",
                "count": r.count,
                "rate": r.rate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
        )
    return rows


def _by_type_and_month(store: Store, area: Area, months: list[dt.date]) -> Any:
    """Counts by crime type (``category``) and month in exactly these months (a polars
    frame): the monthly series the change tests estimate over-dispersion from."""
    frame = q.crime_counts(store, area, min(months), max(months), by=["crime_type", "month"])
    return frame.filter(pl.col("month").is_in(months)).rename({"crime_type": "category"})


def _counts_in(store: Store, area: Area, months: list[dt.date]) -> dict[str, int]:
    """Counts by crime type over exactly these months (which may have gaps)."""
    totals: dict[str, int] = {}
    frame = q.crime_counts(store, area, months[0], months[-1], by=["month", "crime_type"])
    wanted = set(months)
    for month, crime_type, count in frame.iter_rows():
        if month in wanted:
            totals[crime_type] = totals.get(crime_type, 0) + int(count)
    return totals


def _unlocated(store: Store, months: list[dt.date], forces: list[str]) -> int:
    """The forces' crimes (ASB excluded) with no location in exactly these months."""
    return sum(q.unlocated_count(store, m, m, forces, measure="crime") for m in months)


def _ym(months: list[dt.date]) -> list[str]:
    return [f"{m:%Y-%m}" for m in months]


def _coverage(
    store: Store, year: int, forces: list[str], stored: list[dt.date], used: list[dt.date]
) -> dict[str, Any]:
    """A year's months: those used, those no force published (per force), and those
    stored but left out because the other year has no data for the same calendar month."""
    published = q.period_coverage(store, dt.date(year, 1, 1), dt.date(year, 12, 1), forces)
    return {
        "months_used": _ym(used),
        "months_missing": published["months_missing"],
        "months_missing_by_force": published.get("months_missing_by_force", {}),
        "months_left_out": _ym([m for m in stored if m not in used]),
    }


def _period_text(year: int, coverage: dict[str, Any], other: int | None) -> str:
    """'2021: no data stored from leicestershire for 2021-02 to 2021-03; …' for one year."""
    parts = []
    for force, missing in coverage["months_missing_by_force"].items():
        if missing:
            parts.append(f"no data stored from {force} for {brief_charts.month_ranges(missing)}")
    if coverage["months_left_out"]:
        parts.append(
            f"{brief_charts.month_ranges(coverage['months_left_out'])} "
            f"{'is' if len(coverage['months_left_out']) == 1 else 'are'} stored but left out: "
            f"{other} has no data for the same months"
        )
    return f"{year}: " + "; ".join(parts) + "." if parts else ""


def _title(area: str, year: int, months: list[dt.date]) -> str:
    """'Leicester: crime in 2021', or for a partial year '… (9 months: Jan–Sep)'."""
    title = f"{area}: crime in {year}"
    if len(months) < 12:
        n = len(months)
        title += f" ({n} month{'s' if n != 1 else ''}: {describe_months(months)})"
    return title


def build_facts(
    store: Store,
    area_name: str,
    year: int,
    compare_year: int | None,
    seed: int = 0,
    since: int | None = None,
) -> dict[str, Any]:
    """Every figure in the brief, with its inputs, as one JSON-ready record; with ``since``,
    a long-run section by year from January of ``since`` (:func:`long_run_section`).

    Every figure uses the same months: the months of ``year`` that the area's forces have
    published and, with ``compare_year``, that it has too (the same calendar months of
    both years); and one ONS population estimate (the one nearest the middle of those
    months of ``year``) for every rate, both years', the rank's and the comparison area's.
    """
    area = areas_mod.resolve(store, area_name)
    forces = q.forces_of(store, area, dt.date(year, 1, 1), dt.date(year, 12, 1))
    stored = _months_of_year(store, year, forces)
    if not stored:
        raise DataMissingError(
            f"no street-level data stored for {year} by {', '.join(forces) or 'any force'}"
        )
    stored0: list[dt.date] = []
    if compare_year is not None:
        stored0 = _months_of_year(store, compare_year, forces)
        if not stored0:
            raise DataMissingError(
                f"--compare-year {compare_year}: no street-level data stored for it "
                f"(from {', '.join(forces) or 'any force'}): import its months to compare"
            )
        shared = {m.month for m in stored} & {m.month for m in stored0}
        if not shared:
            raise DataMissingError(f"{year} and {compare_year} have no calendar month in common")
        months = [m for m in stored if m.month in shared]
        earlier = [m for m in stored0 if m.month in shared]
    else:
        months, earlier = stored, []
    start, end = months[0], months[-1]
    pop = pops.population(store, area, pops.nearest_population_year(store, start, end))
    types = _crime_types(store)
    counts = _counts_in(store, area, months)
    crimes = sum(n for t, n in counts.items() if t != ASB)
    headline = rate(crimes, pop.population)
    coverage = _coverage(store, year, forces, stored, months)
    facts: dict[str, Any] = {
        "area": area.name,
        "area_description": area.description,
        "year": year,
        "title": _title(area.name, year, months),
        "months": _ym(months),
        "months_label": describe_months(months),
        "partial": len(months) < 12,
        "coverage": coverage,
        "period_text": _period_text(year, coverage, compare_year),
        "population": pop.to_dict(),
        "crimes": crimes,
        "asb": counts.get(ASB, 0),
        "rate": headline.to_dict(),
        "rate_text": describe_rate(headline),
        "forces": forces,
        "unlocated_force_wide": _unlocated(store, months, forces),
    }
    facts.update(_trend(store, area, sorted([*earlier, *months]), types, compare_year))
    facts["types"] = [
        {
            "crime_type": t,
            "count": counts.get(t, 0),
            "share": share(counts.get(t, 0), crimes).to_dict(),
            "share_text": describe_share(share(counts.get(t, 0), crimes)),
        }
        for t in sorted(types, key=lambda t: -counts.get(t, 0))
    ]
    facts["compare"] = None
    if compare_year is not None:
        compared = _compare_years(store, area, months, earlier, counts, crimes, pop)
        coverage0 = _coverage(store, compare_year, forces, stored0, earlier)
        alone = pops.nearest_population_year(store, stored0[0], stored0[-1])
        facts["compare"] = {
            **compared,
            "year": compare_year,
            "coverage": coverage0,
            "period_text": _period_text(compare_year, coverage0, year),
            "unlocated_force_wide": _unlocated(store, earlier, forces),
            # A brief of the compare year alone would use this estimate: say so when it
            # differs, so that two briefs' rates are not set side by side unawares.
            "population_year_alone": alone,
        }
    facts["monthly"] = _monthly(store, area, sorted([*earlier, *months]), types, pop.population)
    facts["rank"] = _rank(store, area, months, pop.year, types, seed)
    facts["versus"] = _versus(store, area, forces, months, earlier, types, pop.year)
    facts["sources"] = q.sources(store, sorted([*earlier, *months]), forces)
    facts["long_run"] = (
        None if since is None else long_run_section(store, area.name, since, stored[-1])
    )
    facts["charts"] = [c.to_dict() for c in brief_charts.chart_list(facts)]
    return facts


def _trend(
    store: Store, area: Area, months: list[dt.date], types: list[str], compare_year: int | None
) -> dict[str, Any]:
    """The trend over all the brief's months, with month-of-year effects, when there are
    at least 24 of them; otherwise none, and why (within one year the seasons and one-off
    shocks such as lockdowns would pass for a trend)."""
    if len(months) >= MIN_SEASONAL_MONTHS:
        by_month = _monthly_counts(store, area, months, types)
        trend = seasonal_trend([by_month[m] for m in months], months)
        return {
            "trend": trend.to_dict(),
            "trend_text": describe_trend(trend),
            "trend_months": _ym(months),
        }
    read = (
        f"the change on the same months of {compare_year} is the comparison to read"
        if compare_year is not None
        else "give a year to compare with for the change on the same months of another year"
    )
    note = (
        f"a trend needs at least {MIN_SEASONAL_MONTHS} months, fitted with month-of-year "
        f"effects, and this brief has {len(months)} (within a year the seasons, and one-off "
        f"events such as lockdowns, would pass for a trend); {read}"
    )
    return {"trend": None, "trend_note": note}


def _year_changes(
    store: Store, area: Area, earlier: list[dt.date], months: list[dt.date], population: float
) -> tuple[Any, Any, dict[str, int], dict[str, int]]:
    """Each category's change from ``earlier`` to ``months`` (the same calendar months,
    the same residents), tested on the monthly counts, Holm over the categories; with the
    monthly frame and both periods' counts by type."""
    counts0, counts = _counts_in(store, area, earlier), _counts_in(store, area, months)
    exposure, exposure0 = len(months) * population, len(earlier) * population
    types = sorted(set(counts) | set(counts0))
    frame = pl.DataFrame(
        {
            "category": types,
            "count_before": [counts0.get(t, 0) for t in types],
            "count_after": [counts.get(t, 0) for t in types],
            "exposure_before": [exposure0] * len(types),
            "exposure_after": [exposure] * len(types),
        },
        schema_overrides={"count_before": pl.Int64, "count_after": pl.Int64},
    )
    monthly = _by_type_and_month(store, area, [*earlier, *months])
    changes = changes_by_category(
        frame, monthly=monthly, months_before=earlier, months_after=months
    )
    return changes, monthly, counts0, counts


def _compare_years(
    store: Store,
    area: Area,
    months: list[dt.date],
    earlier: list[dt.date],
    counts: dict[str, int],
    crimes: int,
    pop: pops.Population,
) -> dict[str, Any]:
    # Both years are set against the same residents: estimates years apart would turn
    # population drift between them into a spurious change in the rate.
    changes, monthly, counts0, _ = _year_changes(store, area, earlier, months, pop.population)
    crimes0 = sum(n for t, n in counts0.items() if t != ASB)
    exposure = len(months) * pop.population
    # Monthly counts: every test allows for the month-to-month over-dispersion they show.
    crime_months = dict(
        monthly.filter(pl.col("category") != ASB)
        .group_by("month")
        .agg(pl.col("count").sum())
        .iter_rows()
    )
    total_change = compare_monthly_counts(
        {m: int(crime_months.get(m, 0)) for m in earlier},
        {m: int(crime_months.get(m, 0)) for m in months},
        exposure_before=exposure,
        exposure_after=exposure,
    )
    types = sorted(set(counts) | set(counts0))
    frame = pl.DataFrame(
        {
            "category": types,
            "count_before": [counts0.get(t, 0) for t in types],
            "count_after": [counts.get(t, 0) for t in types],
        },
        schema_overrides={"count_before": pl.Int64, "count_after": pl.Int64},
    )
    # Shares of crime: each type against the rest of crime (ASB is not crime), Holm-adjusted.
    shares = share_changes_by_category(
        frame.filter(pl.col("category") != ASB),
        monthly=monthly.filter(pl.col("category") != ASB),
        months_before=earlier,
        months_after=months,
        family="crime types",
    )
    share_rows = {r["category"]: r for r in shares.to_dicts()}
    rows = []
    for row in changes.to_dicts():
        t = row["category"]
        share_change = share_rows.get(t)
        rows.append(
            {
                **row,
                "crime_type": t,
                "text": short_change(row),
                "share_before": share(counts0.get(t, 0), crimes0).to_dict() if t != ASB else None,
                "share_change": share_change,
                "share_direction": share_change["direction"] if share_change else None,
            }
        )
    crime_rows = changes.filter(pl.col("category") != ASB)
    before = rate(crimes0, pop.population)
    return {
        "months": _ym(earlier),
        "population": pop.to_dict(),
        "crimes": crimes0,
        "asb": counts0.get(ASB, 0),
        "rate": before.to_dict(),
        "rate_text": describe_rate(before),
        "change": total_change.to_dict(),
        "change_text": describe_change(total_change, "crimes"),
        "by_type": rows,
        "correction": changes["correction"][0] if changes.height else None,
        "share_correction": shares["correction"][0] if shares.height else None,
        "rising_in_every_category": claim_every_category(crime_rows, "rise"),
        "falling_in_every_category": claim_every_category(crime_rows, "fall"),
        "n_rising": int((crime_rows["direction"] == "rise").sum()),
        "n_falling": int((crime_rows["direction"] == "fall").sum()),
        "n_categories": crime_rows.height,
    }


def short_change(row: dict[str, Any]) -> str:
    """Table cell: '+3.8%, significant rise (p < 0.001)' using the Holm-adjusted p."""
    if row["count_before"] == 0:
        return "new this year" if row["count_after"] else "none"
    verdict = {"rise": "significant rise", "fall": "significant fall"}.get(
        row["direction"], "no clear change"
    )
    p = row.get("p_adjusted", row["p_value"])
    return f"{row['pct_change']:+.1f}%, {verdict} ({format_p(p)}, adjusted)"


def _rank(
    store: Store, area: Area, months: list[dt.date], year: int, types: list[str], seed: int
) -> dict[str, Any] | None:
    """Rank among the force's local authorities on crime (ASB excluded), if it is one: over
    exactly the brief's months, on the brief's population estimate."""
    if area.kind != "local authority":
        return None
    try:
        result = figures.rank_area(
            store,
            areas_mod.reference(area),
            f"{months[0]:%Y-%m}",
            f"{months[-1]:%Y-%m}",
            crime_types=types,
            seed=seed,
            months=months,
            population_year=year,
        )
    except (InputError, DataMissingError):
        return None
    focus = result["rank"]
    return {
        "peers": result["peers"],
        "n_peers": result["n_peers"],
        "population_year": result["population_year"],
        "months": result["months_used"],
        "seed": seed,
        **focus,
        "overdispersed": result["method"] == RANK_OVERDISPERSED,
        "text": describe_rank(
            focus["rank"], focus["rank_low"], focus["rank_high"], result["n_peers"], result["peers"]
        ),
        "table": result["table"],
    }


def _versus(
    store: Store,
    area: Area,
    forces: list[str],
    months: list[dt.date],
    earlier: list[dt.date],
    types: list[str],
    year: int,
) -> dict[str, Any] | None:
    """The area against the rest of its force area over the brief's months (and that
    area's own change over the same months of both years), on the brief's estimate."""
    try:
        other = areas_mod.resolve(store, figures.default_comparison(store, area))
    except InputError:
        return None
    # Every figure uses the brief's months: compare only where the other area has them all.
    others = q.forces_of(store, other, months[0], months[-1])
    if set(others) != set(forces):
        published = set(q.months_with_data(store, min(earlier or months), months[-1], others))
        if not published >= {*earlier, *months}:
            return None
    pop_a, pop_b = pops.population(store, area, year), pops.population(store, other, year)
    ca, cb = _counts_in(store, area, months), _counts_in(store, other, months)
    frame = pl.DataFrame(
        {
            "category": types,
            "count_a": [ca.get(t, 0) for t in types],
            "count_b": [cb.get(t, 0) for t in types],
        }
    )
    monthly = (
        _by_type_and_month(store, area, months)
        .rename({"count": "count_a"})
        .join(
            _by_type_and_month(store, other, months).rename({"count": "count_b"}),
            on=["category", "month"],
            how="full",
            coalesce=True,
        )
        .filter(pl.col("category").is_in(types))
        .fill_null(0)
    )
    compared = compare_areas_by_category(
        frame,
        pop_a.population,
        pop_b.population,
        monthly=monthly,
        months=months,
        family="crime types",
    )
    categories = compared.rename({"category": "crime_type"}).to_dicts()
    for c in categories:  # each area's own rate interval, for the chart
        for key, population in (("a", pop_a.population), ("b", pop_b.population)):
            r = rate(c[f"count_{key}"], population)
            c[f"rate_{key}_ci_low"], c[f"rate_{key}_ci_high"] = r.ci_low, r.ci_high
    result: dict[str, Any] = {
        "against": other.name,
        "population_year": year,
        "population_area": pop_a.population,
        "population_against": pop_b.population,
        "months": _ym(months),
        "categories": categories,
        "n_higher": int((compared["verdict"] == "higher").sum()),
        "n_lower": int((compared["verdict"] == "lower").sum()),
        "correction": compared["correction"][0] if compared.height else None,
    }
    if earlier:
        changes = _year_changes(store, other, earlier, months, pop_b.population)[0]
        changes = changes.filter(changes["category"] != ASB)
        result["against_months_before"] = _ym(earlier)
        result["against_rising_in_every_category"] = claim_every_category(changes, "rise")
        result["against_n_rising"] = int((changes["direction"] == "rise").sum())
    return result


def render(facts: dict[str, Any], template_dir: Path | None = None) -> tuple[str, str]:
    """Markdown and HTML text of the brief from its facts."""
    env = Environment(
        loader=FileSystemLoader(str(template_dir or TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda x, places=0: f"{x:,.{places}f}"
    env.filters["pct"] = lambda x: f"{x * 100:.1f}%"
    # Square brackets would end a Markdown image's alt text early.
    env.filters["alt"] = lambda s: str(s).replace("[", "(").replace("]", ")")
    charts = {c["kind"]: c for c in facts.get("charts", [])}
    text = env.get_template("brief.md.j2").render(f=facts, charts=charts)
    body = md.markdown(text, extensions=["tables"], output_format="html")  # HTML5: <img ...>
    html_env = Environment(loader=FileSystemLoader(str(template_dir or TEMPLATES)), autoescape=True)
    title = f"{facts['area']} {facts['year']}"
    if facts.get("partial"):
        title += f" ({len(facts['months'])} months: {facts['months_label']})"
    html = html_env.get_template("brief.html.j2").render(title=title, body=body)
    return text, html


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place, so that
    ``path`` is never left half written."""
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def write_brief(
    store: Store,
    area_name: str,
    year: int,
    compare_year: int | None,
    out_dir: Path,
    seed: int = 0,
    since: int | None = None,
) -> Brief:
    """Build the facts, render them, and write ``brief.md``, ``brief.html`` and the charts'
    PNG files to ``out_dir``.

    Everything is rendered in memory before the first file is written, and each file is
    written whole (temporary file, then rename): a failure leaves no half files. Chart files
    of an earlier brief in ``out_dir`` that this one does not have are removed.
    """
    facts = build_facts(store, area_name, year, compare_year, seed=seed, since=since)
    text, html = render(facts)
    pictures = brief_charts.render_all(facts)
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / "brief.md", out_dir / "brief.html"
    chart_paths = []
    for name, png in pictures.items():
        chart_paths.append(out_dir / name)
        _write_whole(out_dir / name, png)
    _write_whole(md_path, text.encode("utf-8"))
    _write_whole(html_path, html.encode("utf-8"))
    for stale in set(brief_charts.FILES.values()) - set(pictures):
        (out_dir / stale).unlink(missing_ok=True)
    return Brief(facts, text, md_path, html_path, chart_paths)
