"""Plain-English words for a proposed priority: what the problem is and why it is proposed.

The reason names only figures that are in the evidence table, and calls a rise a
rise only when the exact test says so (DESIGN.md, "Statistics that must be right").
"""

from __future__ import annotations

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
