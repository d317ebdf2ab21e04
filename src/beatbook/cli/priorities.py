"""The ``beatbook priorities`` commands: propose, record decisions, assess (registered on ``app``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beatbook.cli._common import AreaOpt, JsonOpt, StoreOpt, app, open_store, out, print_json
from beatbook.settings import (
    ASB_HARM_DAYS,
    BEFORE_MONTHS,
    FORECAST_METHOD,
    PER_WARD,
    PLACE_RADIUS,
    WEIGHT_CHANGE,
    WEIGHT_CONCERNS,
    WEIGHT_FORECAST,
    WEIGHT_PROACTIVE,
    WEIGHT_VOLUME,
)

priorities_app = typer.Typer(
    help="Propose local priorities from the evidence, record decisions, assess results.",
    no_args_is_help=True,
)
app.add_typer(priorities_app, name="priorities")

IdArg = Annotated[int, typer.Argument(help="Priority id (see 'beatbook priorities list').")]
ByOpt = Annotated[str, typer.Option("--by", help="Who decided (name or role): recorded.")]
MonthOpt = Annotated[str, typer.Option("--month", help="Month the decision is for, YYYY-MM.")]


@priorities_app.command("propose")
def propose_cmd(
    area: AreaOpt,
    month: Annotated[
        str,
        typer.Option(
            help="Latest month of data to use, YYYY-MM; priorities are for the month after."
        ),
    ],
    store: StoreOpt = None,
    per_ward: Annotated[int, typer.Option(help="Candidates to show per ward.")] = PER_WARD,
    weight_volume: Annotated[
        float, typer.Option(help="Weight of harm-weighted recent volume.")
    ] = WEIGHT_VOLUME,
    weight_change: Annotated[
        float, typer.Option(help="Weight of the significant rise over the baseline.")
    ] = WEIGHT_CHANGE,
    weight_forecast: Annotated[
        float, typer.Option(help="Weight of next month's forecast.")
    ] = WEIGHT_FORECAST,
    weight_concerns: Annotated[
        float, typer.Option(help="Weight of residents' and partners' concerns.")
    ] = WEIGHT_CONCERNS,
    asb_harm_days: Annotated[
        float, typer.Option(help="Harm weight of one ASB incident, in days.")
    ] = ASB_HARM_DAYS,
    weight_proactive: Annotated[
        float,
        typer.Option(
            help="Weight of concerns about proactive problems (drugs) counted again: "
            "police find those crimes, so their counts understate them."
        ),
    ] = WEIGHT_PROACTIVE,
    forecast_method: Annotated[
        str, typer.Option(help="sepp, mean-3, mean-6, mean-12 or last-month.")
    ] = FORECAST_METHOD,
    save: Annotated[
        bool, typer.Option("--save", help="Record the candidates as proposed priorities.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Proposed priorities per ward: place and problem, the parts of the score, the reason.

    Example: [bold]beatbook priorities propose --area Leicester --month 2021-06 --per-ward 2[/bold]
    """
    from beatbook.priorities import lifecycle
    from beatbook.priorities.propose import propose
    from beatbook.priorities.score import Weights

    weights = Weights(
        weight_volume,
        weight_change,
        weight_forecast,
        weight_concerns,
        asb_harm_days,
        weight_proactive,
    )
    with open_store(store, writes_team=save) as st:
        result = propose(
            st, area, month, per_ward=per_ward, weights=weights, method=forecast_method
        )
        if save:
            ids = lifecycle.save_proposals(st, result)
            flat = [c for w in result["wards"] for c in w["priorities"]]
            for c, pid in zip(flat, ids, strict=True):
                c["priority_id"] = pid
    if json_out:
        print_json(result)
        return
    _print_proposal(result)


def _print_proposal(r: dict[str, Any]) -> None:
    out.print(
        f"[bold]Proposed priorities for {r['for_month']}[/bold] in {r['area']['name']} "
        f"(data to {r['month']}; recent {r['recent_months'][0]}…{r['recent_months'][-1]}, "
        f"baseline {len(r['baseline_months'])} months; forecast {r['forecast_method']})"
    )
    for ward in r["wards"]:
        out.print(f"\n[bold]{ward['ward']}[/bold]")
        for c in ward["priorities"]:
            parts = " + ".join(f"{k} {v:.2f}" for k, v in c["parts"].items())
            pid = f" · id {c['priority_id']}" if "priority_id" in c else ""
            out.print(
                f"  #{c['rank']} in {ward['ward']}{pid}: {c['place']}: {c['problem_label']}  "
                f"score {c['score']:.2f} = {parts}  (from {c['origin']})",
                highlight=False,
                markup=False,
            )
            out.print(f"     {c['reason']}", highlight=False, markup=False)
        for c in ward.get("running", []):
            out.print(
                f"  continuing since {c['since']} · id {c['priority_id']}: {c['place']}: "
                f"{c['problem_label']} ({c['status']})",
                highlight=False,
                markup=False,
            )
            out.print(f"     {c['reason']}", highlight=False, markup=False)
    if r["concerns_unmatched"]:
        out.print(
            f"{r['concerns_unmatched']} concerns have no place yet: see 'beatbook concerns unmatched'"
        )


@priorities_app.command("add")
def add(
    area: AreaOpt,
    problem: Annotated[
        str,
        typer.Option(
            help="The problem: a slug or label of reference/concern_problems.csv, e.g. "
            "drug-dens, street-life, street-drinking, knife-gang, asb, drugs."
        ),
    ],
    by: ByOpt,
    store: StoreOpt = None,
    street: Annotated[
        str | None, typer.Option(help="The street or place, as police.uk names it.")
    ] = None,
    ward: Annotated[
        str | None, typer.Option(help="The ward, when the street runs through several.")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="A point on the map: latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="A point on the map: longitude.")] = None,
    radius: Annotated[
        int, typer.Option(help="Metres around the point to look for a police.uk street point.")
    ] = PLACE_RADIUS,
    words: Annotated[
        str | None,
        typer.Option(help="The problem in the team's words, as printed (default: its label)."),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="The place as the team prints it (default: the street).")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="The inspector's reason, printed in the letter.")
    ] = None,
    origin: Annotated[str, typer.Option(help="Who raised it: residents, partners or team.")] = (
        "team"
    ),
    month: Annotated[
        str | None,
        typer.Option(help="Month it is for, YYYY-MM (default: the month after the data)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add the team's own priority at a street or a point on the map; adopt it like any other.

    Example: [bold]beatbook priorities add --area "West Leicester" --street "Westcotes Drive"
    --problem street-life --words "ASB and street life around the hostel" --reason "raised at
    the residents' meeting" --by "Insp. Patel"[/bold]
    """
    from beatbook.months import parse_month
    from beatbook.priorities import lifecycle, team

    with open_store(store, writes_team=True) as st:
        place = team.find_place(
            st, area, street=street, ward=ward, longitude=lon, latitude=lat, radius=radius
        )
        pid = team.add_team_priority(
            st,
            area,
            place,
            problem=problem,
            reason=reason,
            origin=origin,
            actor=by,
            month=parse_month(month, "--month") if month else None,
            words=words,
            label=label,
        )
        record = lifecycle.priority(st, pid)
    if json_out:
        print_json({**record, "problem_words": team.problem_words(record)})
        return
    out.print(
        f"priority {pid} added for {record['proposed_for']:%Y-%m}: {record['label']} "
        f"({record['ward']}): {team.problem_words(record)}, raised by {record['origin']}",
        highlight=False,
        markup=False,
    )


@priorities_app.command("adopt")
def adopt(
    priority_id: IdArg,
    by: ByOpt,
    store: StoreOpt = None,
    month: Annotated[
        str | None,
        typer.Option(help="First month it runs, YYYY-MM [default: the month proposed for]."),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="A better name for the place, as the team will print it.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why, or what was agreed.")] = None,
) -> None:
    """Adopt a proposed priority (optionally renaming its place).

    Example: [bold]beatbook priorities adopt 3 --by "Insp. Patel" --label "Elm Close shops"[/bold]
    """
    from beatbook.months import parse_month
    from beatbook.priorities import lifecycle

    with open_store(store, writes_team=True) as st:
        when = parse_month(month, "--month") if month else None
        lifecycle.adopt(
            st,
            priority_id,
            by,
            month=when,
            details={k: v for k, v in (("label", label), ("note", note)) if v},
        )
    out.print(f"priority {priority_id} adopted by {by}")


@priorities_app.command("reject")
def reject(
    priority_id: IdArg,
    by: ByOpt,
    reason: Annotated[str, typer.Option(help="Why it was rejected: recorded for the audit.")],
    store: StoreOpt = None,
) -> None:
    """Reject a proposed priority, saying why.

    Example: [bold]beatbook priorities reject 4 --by "Insp. Patel" --reason "hospital: already a partnership plan"[/bold]
    """
    from beatbook.priorities import lifecycle

    with open_store(store, writes_team=True) as st:
        lifecycle.decide(st, priority_id, "rejected", by, details={"reason": reason})
    out.print(f"priority {priority_id} rejected by {by}")


@priorities_app.command("continue")
def continue_(
    priority_id: IdArg,
    by: ByOpt,
    month: MonthOpt,
    store: StoreOpt = None,
    note: Annotated[str | None, typer.Option(help="What is being done this month.")] = None,
) -> None:
    """Carry an adopted priority into another month.

    Example: [bold]beatbook priorities continue 3 --by "Insp. Patel" --month 2021-08[/bold]
    """
    from beatbook.months import parse_month
    from beatbook.priorities import lifecycle

    with open_store(store, writes_team=True) as st:
        lifecycle.decide(
            st,
            priority_id,
            "continued",
            by,
            month=parse_month(month, "--month"),
            details={"note": note} if note else {},
        )
    out.print(f"priority {priority_id} continued into {month}")


@priorities_app.command("close")
def close(
    priority_id: IdArg,
    by: ByOpt,
    month: Annotated[
        str, typer.Option(help="Last month of the priority, YYYY-MM (assessed up to it).")
    ],
    store: StoreOpt = None,
    before_months: Annotated[
        int,
        typer.Option(
            help="Months before the 3 months the proposal was selected on, to compare with."
        ),
    ] = BEFORE_MONTHS,
    note: Annotated[str | None, typer.Option(help="Closing note.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Close a priority with its assessment: before vs during, against comparison places.

    Example: [bold]beatbook priorities close 3 --by "Insp. Patel" --month 2021-09[/bold]
    """
    from beatbook.months import parse_month
    from beatbook.priorities import review

    with open_store(store, writes_team=True) as st:
        result = review.close(
            st, priority_id, by, parse_month(month, "--month"), before_months, note
        )
    if json_out:
        print_json(result)
        return
    out.print(
        f"priority {priority_id} closed: {result['place']}, {result['problem']}: {result['wording']}"
    )


@priorities_app.command("assess")
def assess(
    priority_id: IdArg,
    month: Annotated[str, typer.Option(help="Assess up to this month, YYYY-MM.")],
    store: StoreOpt = None,
    before_months: Annotated[
        int,
        typer.Option(
            help="Months before the 3 months the proposal was selected on, to compare with."
        ),
    ] = BEFORE_MONTHS,
    json_out: JsonOpt = False,
) -> None:
    """How an adopted priority is doing so far, without closing it.

    Example: [bold]beatbook priorities assess 3 --month 2021-08[/bold]
    """
    from beatbook.months import parse_month
    from beatbook.priorities import review

    with open_store(store) as st:
        result = review.assess(st, priority_id, parse_month(month, "--month"), before_months)
    if json_out:
        print_json(result)
        return
    out.print(f"{result['place']}, {result['problem']}: {result['wording']}")


@priorities_app.command("list")
def list_(
    store: StoreOpt = None,
    area: Annotated[
        str | None, typer.Option(help="Only priorities of this area (as proposed).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="proposed, adopted, rejected, continued or closed.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Priorities with their status, origin and the trail of decisions.

    Example: [bold]beatbook priorities list --status adopted[/bold]
    """
    from beatbook.priorities import lifecycle

    with open_store(store) as st:
        ref = None
        if area:
            from beatbook.areas import reference, resolve

            ref = reference(resolve(st, area))
        rows = lifecycle.list_priorities(st, area=ref, status=status)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} priorities")
    for col in ("id", "month", "ward", "place", "problem", "origin", "status", "last decision"):
        table.add_column(col)
    for r in rows:
        last = r["events"][-1]
        table.add_row(
            str(r["priority_id"]),
            f"{r['proposed_for']:%Y-%m}",
            r["ward"],
            r["label"],
            r["problem"],
            r["origin"],
            r["status"],
            f"{last['actor']}, {last['at'][:10]}",
        )
    out.print(table)


@app.command()
def jag(
    area: AreaOpt,
    month: Annotated[
        str, typer.Option(help="Latest month of data, YYYY-MM; the pack is for the month after.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write: FILE.html and FILE.pdf.")
    ],
    store: StoreOpt = None,
    per_ward: Annotated[int, typer.Option(help="Proposed priorities per ward.")] = PER_WARD,
    forecast_method: Annotated[
        str, typer.Option(help="sepp, mean-3, mean-6, mean-12 or last-month.")
    ] = FORECAST_METHOD,
    json_out: JsonOpt = False,
) -> None:
    """The Joint Action Group pack (HTML and PDF): a first page listing every proposal and
    running priority by ward with empty action/owner/deadline columns, then proposals with
    evidence, running and closed priorities with their assessment, operations, open concerns.

    Example: [bold]beatbook jag --area Leicester --month 2021-06 --out jag/leicester-2021-07[/bold]
    """
    from beatbook.publish import jag as jag_mod

    with open_store(store) as st:
        html, pdf, pack = jag_mod.write(
            st, area, month, out_file, per_ward=per_ward, method=forecast_method
        )
    if json_out:
        print_json(pack)
        return
    out.print(f"wrote {html} and {pdf}")
