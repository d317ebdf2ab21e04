"""``beatbook stats``, ``compare``, ``rank`` and ``brief``: the area statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook.cli._common import (
    AreaOpt,
    FromOpt,
    JsonOpt,
    MeasureOpt,
    PopYearOpt,
    StoreOpt,
    ToOpt,
    app,
    open_store,
    out,
    print_json,
)
from beatbook.settings import DEFAULT_MEASURE


@app.command()
def stats(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    by: Annotated[str | None, typer.Option(help="Break down: 'crime-type'.")] = None,
    population_year: PopYearOpt = None,
    measure: MeasureOpt = DEFAULT_MEASURE,
    json_out: JsonOpt = False,
) -> None:
    """Count, rate per 1,000 residents (exact Poisson 95% CI) and shares for an area.

    Counts crimes (anti-social behaviour excluded, given apart) unless --measure asb.

    Example: [bold]beatbook stats --area Leicester --from 2020-01 --to 2020-12 --by crime-type[/bold]
    """
    from beatbook.figures import stats as figures

    with open_store(store) as st:
        result = figures.area_stats(
            st, area, from_, to, by=by, population_year=population_year, measure=measure
        )
    if json_out:
        print_json(result)
        return
    _print_stats(result)


@app.command()
def compare(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    against: Annotated[
        str | None, typer.Option(help="Comparison area \\[default: the rest of the force area].")
    ] = None,
    before_from: Annotated[
        str | None, typer.Option(help="Earlier period start (for change).")
    ] = None,
    before_to: Annotated[str | None, typer.Option(help="Earlier period end (for change).")] = None,
    measure: MeasureOpt = DEFAULT_MEASURE,
    json_out: JsonOpt = False,
) -> None:
    """Compare an area with another, crime type by crime type, on rates over the same months.

    With --before-from/--before-to, also tests the change in each crime type in both areas.

    Example: [bold]beatbook compare --area Leicester --against "Leicestershire excluding Leicester" --from 2021-01 --to 2021-12[/bold]
    """
    from beatbook.figures import stats as figures

    with open_store(store) as st:
        result = figures.compare_areas(
            st, area, against, from_, to, before_from, before_to, measure=measure
        )
    if json_out:
        print_json(result)
        return
    _print_compare(result)


@app.command()
def rank(
    area: AreaOpt,
    from_: FromOpt,
    to: ToOpt,
    store: StoreOpt = None,
    peers: Annotated[
        str,
        typer.Option(
            help="'local-authorities': districts (see --scope); 'force-areas': the 43 force "
            "areas; 'wards': the wards of a district; 'lsoas': every LSOA inside the area."
        ),
    ] = "local-authorities",
    scope: Annotated[
        str,
        typer.Option(
            help="For local authorities: 'force' (its force's districts) or 'national' (every "
            "district of England and Wales with data for every month)."
        ),
    ] = "force",
    crime_type: Annotated[str | None, typer.Option(help="Rank on one crime type only.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the rank-interval simulation.")] = 0,
    measure: MeasureOpt = DEFAULT_MEASURE,
    json_out: JsonOpt = False,
) -> None:
    """Rank an area among its peers on crime rate, with a simulated 95% rank interval.

    National ranks leave out, and name, every peer whose force lacks one of the months.

    Example: [bold]beatbook rank --area Leicester --from 2021-01 --to 2021-12 --crime-type Drugs[/bold]

    Example: [bold]beatbook rank --area Leicester --from 2025-04 --to 2025-06 --scope national[/bold]
    """
    from beatbook.figures import stats as figures

    with open_store(store) as st:
        result = figures.rank_area(
            st,
            area,
            from_,
            to,
            peers=peers,
            scope=scope,
            crime_types=[crime_type] if crime_type else None,
            seed=seed,
            measure=measure,
        )
    if json_out:
        print_json(result)
        return
    _print_rank(result)


@app.command()
def brief(
    area: AreaOpt,
    year: Annotated[int, typer.Option(help="Calendar year to report.")],
    store: StoreOpt = None,
    compare_year: Annotated[int | None, typer.Option(help="Year to compare with.")] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for brief.md and brief.html.")
    ] = Path("."),
    seed: Annotated[int, typer.Option(help="Seed of the rank-interval simulation.")] = 0,
    since: Annotated[
        int | None,
        typer.Option(help="Add a long-run section: crime by year from January of this year."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a data-journalism brief (Markdown + HTML) for an area and year.

    Example: [bold]beatbook brief --area Leicester --year 2021 --compare-year 2020 --out brief/[/bold]
    """
    from beatbook.publish import brief as brief_mod

    with open_store(store) as st:
        written = brief_mod.write_brief(
            st, area, year, compare_year, out_dir, seed=seed, since=since
        )
    if json_out:
        print_json(written.facts)
        return
    print(written.markdown)
    charts = f" and {len(written.chart_paths)} charts" if written.chart_paths else ""
    out.print(f"\nwrote {written.markdown_path}, {written.html_path}{charts}", markup=False)


def _fmt(x: float, places: int = 1) -> str:
    return f"{x:,.{places}f}"


def _coverage_note(r: dict[str, Any]) -> str:
    missing = r.get("months_missing") or []
    note = f"{r['months']} months of data"
    return note + (f" (missing: {', '.join(missing)})" if missing else "")


def _what(measure: str) -> str:
    return (
        "crime (anti-social behaviour excluded)" if measure == "crime" else "anti-social behaviour"
    )


def _print_stats(result: dict[str, Any] | list[dict[str, Any]]) -> None:
    records = result if isinstance(result, list) else [result]
    if not records:
        out.print("no crimes recorded in that area and period")
        return
    first = records[0]
    residents = (
        first.get("rate_unavailable") or "no resident count: counts only"
        if first["population"] is None
        else f"population {first['population']:,.0f} (ONS mid-{first['population_year']} estimate)"
    )
    out.print(
        f"[bold]{first['area']}[/bold], {first['from']} to {first['to']} — {_coverage_note(first)}; "
        + residents
    )
    table = Table()
    columns = ["crime type", first["unit"], "per 1,000 residents", "95% CI"]
    if "share" in first:
        columns.append("share of crime" if first["measure"] == "crime" else "share")
    for col in columns:
        table.add_column(col, justify="left" if col == "crime type" else "right")
    for r in records:
        row = [
            r.get("crime_type", _what(r["measure"])),
            f"{r['count']:,}",
            "–" if r["rate_per_1000"] is None else _fmt(r["rate_per_1000"], 2),
            "–" if r["ci_low"] is None else f"{_fmt(r['ci_low'], 2)}–{_fmt(r['ci_high'], 2)}",
        ]
        if "share" in r:
            row.append(f"{r['share'] * 100:.1f}% ({r['count']:,} of {r['share_base']:,})")
        table.add_row(*row)
    out.print(table)
    if first.get("asb_incidents") is not None:
        out.print(
            f"Anti-social behaviour, not a crime and counted apart: {first['asb_incidents']:,} "
            "incidents in the same months (--measure asb for its figures)."
        )
    if first.get("repeats_folded"):
        out.print(
            f"{first['repeats_folded']:,} stored rows repeat a Crime ID already counted in "
            "their month and are not counted again."
        )
    if first.get("unlocated") is not None:
        outside = sum(r["outside_force_districts"] or 0 for r in records)
        out.print(
            f"Counted for the force area: {sum(r['unlocated'] for r in records):,} with no "
            f"location and {outside:,} in other forces' districts."
        )
    if first.get("trend_unavailable"):
        out.print(f"Trend: {first['trend_unavailable']}.")
    trend = first.get("trend")
    if trend:
        from beatbook.stats import Trend, describe_trend

        out.print(
            "Monthly trend: "
            + describe_trend(
                Trend(**{k: v for k, v in trend.items() if k in Trend.__dataclass_fields__})
            )
        )


def _print_compare(r: dict[str, Any]) -> None:
    from beatbook.stats import format_p

    out.print(
        f"[bold]{r['area']}[/bold] vs [bold]{r['against']}[/bold], {r['from']} to {r['to']} "
        f"({_coverage_note(r)}); {r['unit']} per 1,000 residents, mid-{r['population_year']} "
        "population; tests on the monthly counts, allowing for their over-dispersion "
        f"({r['categories'][0]['correction'] if r['categories'] else 'no tests'})"
    )
    table = Table()
    for col in ("crime type", r["area"], r["against"], "ratio", "95% CI", "p (adj.)", "verdict"):
        table.add_column(col, justify="left" if col in ("crime type", "verdict") else "right")
    for c in r["categories"]:
        table.add_row(
            c["crime_type"],
            _fmt(c["rate_a"], 2),
            _fmt(c["rate_b"], 2),
            _fmt(c["rate_ratio"], 2),
            f"{_fmt(c['ci_low'], 2)}–{_fmt(c['ci_high'], 2)}",
            format_p(c["p_adjusted"]).removeprefix("p "),
            c["verdict"],
        )
    out.print(table)
    asb = r.get("asb")
    if asb:
        out.print(
            f"Anti-social behaviour (not a crime; its own test, outside the family): "
            f"{_fmt(asb['rate_a'], 2)} vs {_fmt(asb['rate_b'], 2)} incidents per 1,000 "
            f"residents, ratio {_fmt(asb['rate_ratio'], 2)}: {asb['verdict']} "
            f"({format_p(asb['p_adjusted'])})"
        )
    for key, claim in r.get("claims", {}).items():
        if claim:
            out.print(f"[bold]{key.replace('_', ' ')}[/bold]: true (every change significant)")
    if "changes" in r:
        for key, rows in r["changes"].items():
            name = r["area"] if key == "area" else r["against"]
            ups = [c["crime_type"] for c in rows if c["direction"] == "rise"]
            downs = [c["crime_type"] for c in rows if c["direction"] == "fall"]
            out.print(
                f"{name}: significant rises in {', '.join(ups) or 'no category'}; "
                f"significant falls in {', '.join(downs) or 'no category'}; "
                "no clear change in the rest"
            )
    for key, asb_change in r.get("asb_changes", {}).items():
        if asb_change:
            name = r["area"] if key == "area" else r["against"]
            out.print(
                f"{name}, anti-social behaviour (apart): {asb_change['direction']} "
                f"({asb_change['pct_change']:+.1f}%, {format_p(asb_change['p_adjusted'])})"
            )


def _print_rank(r: dict[str, Any]) -> None:
    from beatbook.stats import describe_rank

    what = _what(r["measure"]) if r["crime_types"] == "all" else ", ".join(r["crime_types"])
    out.print(
        f"[bold]{what}[/bold], {r['from']} to {r['to']}: {r['peers']}, "
        f"mid-{r['population_year']} population, rank interval from 10,000 draws "
        f"(seed {r['seed']})"
    )
    focus = r["rank"]
    if focus:
        out.print(
            r["area"]
            + ": "
            + describe_rank(
                focus["rank"], focus["rank_low"], focus["rank_high"], r["n_peers"], r["peers"]
            )
        )
    table = Table()
    for col in ("rank", "name", "count", "per 1,000", "rank 95% interval"):
        table.add_column(col, justify="left" if col == "name" else "right")
    for row in r["table"]:
        table.add_row(
            str(row["rank"]),
            row["name"],
            f"{row['count']:,}",
            _fmt(row["rate"], 2),
            f"{row['rank_low']}–{row['rank_high']}",
        )
    out.print(table)
    _print_left_out(r)


def _print_left_out(r: dict[str, Any]) -> None:
    """The peers left out, grouped by why (a force's missing months name its districts)."""
    if r["rank"] is None and r.get("focus"):
        out.print(f"{r['focus']} is not ranked: it is left out (below).", markup=False)
    groups: dict[str, list[str]] = {}
    for peer in r.get("left_out", []):
        groups.setdefault(peer["why"], []).append(peer["name"])
    if groups:
        out.print(f"Left out ({sum(map(len, groups.values()))}):", markup=False)
    # Forces with some of the months first: those with none are usually most of the list.
    for why, names in sorted(groups.items(), key=lambda g: (" 0 of " in g[0], -len(g[1]), g[0])):
        out.print(f"  {why}: {'; '.join(names)}", markup=False, soft_wrap=True)
