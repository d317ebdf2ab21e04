"""The statistics brief: a data-journalism summary of one area and year.

The kind of piece a local paper prints ("drug offences were 3.8% of crime,
up from 1.6%; 30th highest of 99 areas"), but with every number computed
from the store and worded by its test: a change is a "rise" or "fall" only
when the exact test says so, a claim about every category is made only when
it is true, and the methods box says which population year and tests were used.

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
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from beatbook import areas as areas_mod
from beatbook import queries as q
from beatbook.areas import Area
from beatbook.charts import brief as brief_charts
from beatbook.errors import DataMissingError, InputError
from beatbook.figures import stats as figures
from beatbook.months import months_between
from beatbook.settings import MIN_TREND_MONTHS
from beatbook.stats import (
    Change,
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
    monthly_trend,
    rate,
    share,
    share_changes_by_category,
)
from beatbook.stats.rank import RANK_OVERDISPERSED
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
    store: Store,
    area: Area,
    years: list[int],
    types: list[str],
    population: float,
    forces: list[str],
) -> list[dict[str, Any]]:
    """Rate per 1,000 in every stored month of these years (unstored months are left out:
    gaps, not zeros), all against the headline's residents, with Garwood intervals."""
    rows = []
    for year in sorted(set(years)):
        stored = _months_of_year(store, year, forces)
        if not stored:
            continue
        for month, count in _monthly_counts(store, area, stored, types).items():
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
    import polars as pl

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


def build_facts(
    store: Store, area_name: str, year: int, compare_year: int | None, seed: int = 0
) -> dict[str, Any]:
    """Every figure in the brief, with its inputs, as one JSON-ready record."""
    area = areas_mod.resolve(store, area_name)
    forces = q.forces_of(store, area, dt.date(year, 1, 1), dt.date(year, 12, 1))
    months = _months_of_year(store, year, forces)
    if not months:
        raise DataMissingError(
            f"no street-level data stored for {year} by {', '.join(forces) or 'any force'}"
        )
    if compare_year is not None:
        earlier = {m.month for m in _months_of_year(store, compare_year, forces)}
        if not earlier:
            raise DataMissingError(
                f"--compare-year {compare_year}: no street-level data stored for it "
                f"(from {', '.join(forces) or 'any force'}): import its months to compare"
            )
        months = [m for m in months if m.month in earlier]
        if not months:
            raise DataMissingError(f"{year} and {compare_year} have no calendar month in common")
    start, end = months[0], months[-1]
    pop = q.population(store, area, q.nearest_population_year(store, start, end))
    types = _crime_types(store)
    counts = _counts_in(store, area, months)
    crimes = sum(n for t, n in counts.items() if t != ASB)
    headline = rate(crimes, pop.population)
    facts: dict[str, Any] = {
        "area": area.name,
        "area_description": area.description,
        "year": year,
        "months": [f"{m:%Y-%m}" for m in months],
        "population": pop.to_dict(),
        "crimes": crimes,
        "asb": counts.get(ASB, 0),
        "rate": headline.to_dict(),
        "rate_text": describe_rate(headline),
        "forces": forces,
        "unlocated_force_wide": q.unlocated_count(store, start, end, forces),
    }
    index = [months_between(start, m) for m in months]
    if len(months) >= MIN_TREND_MONTHS:
        by_month = _monthly_counts(store, area, months, types)
        trend = monthly_trend([by_month[m] for m in months], index)
        facts["trend"] = trend.to_dict()
        facts["trend_text"] = describe_trend(trend)
    facts["types"] = [
        {
            "crime_type": t,
            "count": counts.get(t, 0),
            "share": share(counts.get(t, 0), crimes).to_dict(),
            "share_text": describe_share(share(counts.get(t, 0), crimes)),
        }
        for t in sorted(types, key=lambda t: -counts.get(t, 0))
    ]
    facts["compare"] = (
        _compare_years(store, area, months, compare_year, counts, crimes, pop)
        if compare_year is not None
        else None
    )
    facts["monthly"] = _monthly(
        store,
        area,
        [year] if compare_year is None else [year, compare_year],
        types,
        pop.population,
        forces,
    )
    facts["rank"] = _rank(store, area, start, end, types, seed)
    facts["versus"] = _versus(store, area, months, compare_year, types)
    facts["sources"] = q.sources(store, months, forces)
    facts["charts"] = [c.to_dict() for c in brief_charts.chart_list(facts)]
    return facts


def _compare_years(
    store: Store,
    area: Area,
    months: list[dt.date],
    compare_year: int,
    counts: dict[str, int],
    crimes: int,
    pop: q.Population,
) -> dict[str, Any]:
    # Both years are set against the same residents: estimates years apart would turn
    # population drift between them into a spurious change in the rate.
    earlier = [dt.date(compare_year, m.month, 1) for m in months]
    pop0 = pop
    counts0 = _counts_in(store, area, earlier)
    crimes0 = sum(n for t, n in counts0.items() if t != ASB)
    exposure, exposure0 = len(months) * pop.population, len(earlier) * pop0.population
    import polars as pl

    # Monthly counts: every test allows for the month-to-month over-dispersion they show.
    monthly = _by_type_and_month(store, area, [*earlier, *months])
    crime_months = dict(
        monthly.filter(pl.col("category") != ASB)
        .group_by("month")
        .agg(pl.col("count").sum())
        .iter_rows()
    )
    total_change = compare_monthly_counts(
        {m: int(crime_months.get(m, 0)) for m in earlier},
        {m: int(crime_months.get(m, 0)) for m in months},
        exposure_before=exposure0,
        exposure_after=exposure,
    )
    types = sorted(set(counts) | set(counts0))

    frame = pl.DataFrame(
        {
            "category": types,
            "count_before": [counts0.get(t, 0) for t in types],
            "count_after": [counts.get(t, 0) for t in types],
            "exposure_before": [exposure0] * len(types),
            "exposure_after": [exposure] * len(types),
        }
    )
    by_month = {"monthly": monthly, "months_before": earlier, "months_after": months}
    changes = changes_by_category(frame, **by_month)
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
    return {
        "year": compare_year,
        "months": [f"{m:%Y-%m}" for m in earlier],
        "population": pop0.to_dict(),
        "crimes": crimes0,
        "asb": counts0.get(ASB, 0),
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


def _change(row: dict[str, Any]) -> Change:
    fields = {k: row[k] for k in Change.__dataclass_fields__ if k in row}
    return Change(**fields)


def _rank(
    store: Store, area: Area, start: dt.date, end: dt.date, types: list[str], seed: int
) -> dict[str, Any] | None:
    """Rank among the force's local authorities on crime (ASB excluded), if it is one."""
    if area.kind != "local authority":
        return None
    try:
        result = figures.rank_area(
            store,
            areas_mod.reference(area),
            f"{start:%Y-%m}",
            f"{end:%Y-%m}",
            crime_types=types,
            seed=seed,
        )
    except (InputError, DataMissingError):
        return None
    focus = result["rank"]
    return {
        "peers": result["peers"],
        "n_peers": result["n_peers"],
        "population_year": result["population_year"],
        "seed": seed,
        **focus,
        "overdispersed": result["method"] == RANK_OVERDISPERSED,
        "text": describe_rank(
            focus["rank"], focus["rank_low"], focus["rank_high"], result["n_peers"], result["peers"]
        ),
        "table": result["table"],
    }


def _versus(
    store: Store, area: Area, months: list[dt.date], compare_year: int | None, types: list[str]
) -> dict[str, Any] | None:
    try:
        other = areas_mod.resolve(store, figures.default_comparison(store, area))
    except InputError:
        return None
    start, end = months[0], months[-1]
    year = q.nearest_population_year(store, start, end)
    pop_a, pop_b = q.population(store, area, year), q.population(store, other, year)
    ca, cb = _counts_in(store, area, months), _counts_in(store, other, months)
    import polars as pl

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
        "categories": categories,
        "n_higher": int((compared["verdict"] == "higher").sum()),
        "n_lower": int((compared["verdict"] == "lower").sum()),
        "correction": compared["correction"][0] if compared.height else None,
    }
    if compare_year is not None:
        earlier = [dt.date(compare_year, m.month, 1) for m in months]
        changes = (
            figures.category_changes(store, other, (earlier[0], earlier[-1]), (start, end))
            if earlier == q.months_with_data(store, earlier[0], earlier[-1])
            else None
        )
        if changes is not None:
            changes = changes.filter(changes["category"] != ASB)
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
    html = html_env.get_template("brief.html.j2").render(
        title=f"{facts['area']} {facts['year']}", body=body
    )
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
    store: Store, area_name: str, year: int, compare_year: int | None, out_dir: Path, seed: int = 0
) -> Brief:
    """Build the facts, render them, and write ``brief.md``, ``brief.html`` and the charts'
    PNG files to ``out_dir``.

    Everything is rendered in memory before the first file is written, and each file is
    written whole (temporary file, then rename): a failure leaves no half files. Chart files
    of an earlier brief in ``out_dir`` that this one does not have are removed.
    """
    facts = build_facts(store, area_name, year, compare_year, seed=seed)
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
