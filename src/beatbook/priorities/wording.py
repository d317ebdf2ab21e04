"""Plain-English words for a proposed priority: what the problem is and why it is proposed.

The reason names only figures that are in the evidence table, and calls a rise a
rise only when the exact test says so (DESIGN.md, "Statistics that must be right").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

GROUP_LABELS = {
    "asb": "anti-social behaviour",
    "drugs": "drug offences",
    "violence-weapons": "violence and weapons offences",
    "acquisitive": "theft, burglary and robbery",
    "criminal-damage": "criminal damage",
    "public-order": "public order offences",
    "other": "other crime",
}


def problem_label(problem: str) -> str:
    """'drugs' -> 'drug offences'; a concern-only category reads as itself ('street drinking')."""
    return GROUP_LABELS.get(problem, problem.replace("-", " "))


def _per_month(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def reason(row: dict[str, Any]) -> str:
    """One line: the recent level, its change if significant, the forecast, the concerns."""
    label = problem_label(row["problem"])
    parts = []
    if row["crimes_recent"]:
        now, before = _per_month(row["per_month_recent"]), _per_month(row["per_month_baseline"])
        if row["change_direction"] == "rise":
            p = row["change_p"]
            shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
            parts.append(f"{label} up from {before} to {now} a month (significant, {shown})")
        elif row["change_direction"] == "fall":
            parts.append(f"{label} down from {before} to {now} a month")
        elif row["change_direction"] == "no baseline":
            parts.append(f"{label}: {now} a month")
        else:
            parts.append(f"{label}: {now} a month, no clear change from {before}")
    if row["forecast"] >= 0.05:
        parts.append(f"about {row['forecast']:.1f} expected next month")
    if row["concerns"]:
        about = ", ".join(row["concern_problems"])
        noun = "concern" if row["concerns"] == 1 else "concerns"
        sources = set(row["concern_sources"])
        who = "partner" if sources == {"partner"} else "" if "partner" in sources else "resident"
        parts.append(f"{row['concerns']} {who + ' ' if who else ''}{noun} about {about}")
    return "; ".join(parts) if parts else "no recent crimes or concerns"


# --- for residents: no scores, no p-values, the same tests ------------------------------------


def month_span(months: list[str]) -> str:
    """['2025-07', '2025-08', '2025-09'] -> 'July to September 2025'."""
    first, last = (dt.date.fromisoformat(m + "-01") for m in (months[0], months[-1]))
    if first == last:
        return f"{last:%B %Y}"
    return f"{first:%B}{'' if first.year == last.year else f' {first.year}'} to {last:%B %Y}"


def public_reason(
    problem: str, origin: str, figures: dict[str, Any] | None, recent_months: list[str] | None
) -> str:
    """Why a priority was chosen, in a resident's words: the recent level and its change
    (a rise or fall only when the test said so when it was proposed) and how often residents
    raised it. A priority raised at a meeting rather than from data says who raised it."""
    label = problem_label(problem)
    if not figures or not recent_months:
        return {
            "residents": "Raised by residents.",
            "partners": "Raised by partner agencies.",
            "mix": "Raised by residents and partners.",
        }.get(origin, "Chosen by the team.")
    span = month_span(recent_months)
    now, before = _per_month(figures["per_month_recent"]), _per_month(figures["per_month_baseline"])
    direction = figures["change_direction"]
    sentences = []
    if not figures["crimes_recent"]:
        sentences.append(f"No {label} recorded here in {span}.")
    elif direction == "rise":
        sentences.append(
            f"{label.capitalize()} here rose from about {before} to {now} a month in {span}."
        )
    elif direction == "fall":
        sentences.append(
            f"{label.capitalize()} here fell from about {before} to {now} a month in {span}."
        )
    elif direction == "no baseline":
        sentences.append(f"{label.capitalize()} here: about {now} a month in {span}.")
    else:
        sentences.append(
            f"{label.capitalize()} here: about {now} a month in {span}, no clear "
            "change on the year before."
        )
    n = figures.get("concerns") or 0
    if n:
        sentences.append(f"It was raised with us {'once' if n == 1 else f'{n} times'}.")
    return " ".join(sentences)


def plain_assessment(
    assessment: dict[str, Any] | None, ward: str, problem: str, *, final: bool = False
) -> str:
    """What an assessment (:mod:`beatbook.priorities.assess`) found, for residents. A fall or
    rise is claimed only when its verdict says so (the intervals against the months before
    and the months it was chosen on); ``final`` for a closed one."""
    label = problem_label(problem)
    if assessment is None:
        return "Too early to tell: police data for the months it ran is not published yet."
    verdict = assessment.get("verdict")
    if verdict == "not assessable" or "treated_before" not in assessment:
        why = str(assessment.get("wording", "")).removeprefix("not assessable: ")
        return f"We cannot measure this one from police data ({why})."
    before = assessment["treated_before"] / assessment["months_before"]
    during = assessment["treated_during"] / assessment["months_during"]

    def level(x: float) -> str:
        return "none" if x == 0 else f"about {_per_month(round(x, 1))} a month"

    chosen = assessment.get("months_selection") or 0
    if chosen:  # the months it was chosen on: a spike that falls back is no result
        picked = assessment["treated_selection"] / chosen
        figures = (
            f"{level(during)} while it was a priority, {level(picked)} in the months it was "
            f"chosen on and {level(before)} before that"
        )
    else:
        figures = f"{level(during)} while it was a priority, {level(before)} before"
    if verdict == "fell more":
        return (
            f"{label.capitalize()} here fell by more than in the rest of {ward}: {figures}, "
            f"against about {assessment['expected_during']:.1f} expected from the rest of the ward."
        )
    if verdict == "rose more":
        return (
            f"{label.capitalize()} here rose by more than in the rest of {ward}: {figures}, "
            f"against about {assessment['expected_during']:.1f} expected from the rest of the ward."
        )
    return f"No clear difference from the rest of {ward}{'' if final else ' so far'}: {figures}."
