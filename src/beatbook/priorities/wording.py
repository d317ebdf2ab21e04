"""Plain-English words for a proposed priority: what the problem is and why it is proposed.

The reason names only figures that are in the evidence table, and calls a rise a
rise only when the exact test says so (DESIGN.md, "Statistics that must be right"). Every
comparison names the stored months it compares (:func:`months_phrase`), "the year before"
only when all twelve are stored (:func:`compared_with`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from beatbook.months import add_months, months_back
from beatbook.settings import FORECAST_PLAUSIBLE

GROUP_LABELS = {
    "asb": "anti-social behaviour",
    "drugs": "drug offences",
    "violence-weapons": "violence and weapons offences",
    "acquisitive": "theft, burglary and robbery",
    "criminal-damage": "criminal damage",
    "public-order": "public order offences",
    "other": "other crime",
}


# The forecast methods in plain words, for the desk and the JAG pack (the CLI keeps the names).
METHOD_WORDS = {
    "sepp": "near repeats and trend (recommended)",
    "mean-3": "average of the last 3 months",
    "mean-6": "average of the last 6 months",
    "mean-12": "average of the last 12 months",
    "last-month": "last month's count",
}


def method_words(method: str) -> str:
    """A forecast method as staff read it ('sepp' is 'near repeats and trend')."""
    return METHOD_WORDS.get(method, method)


def problem_label(problem: str) -> str:
    """'drugs' -> 'drug offences'; a concern-only category reads as itself ('street drinking')."""
    return GROUP_LABELS.get(problem, problem.replace("-", " "))


def _per_month(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _month(text: str) -> dt.date:
    return dt.date.fromisoformat(text + "-01")


def months_phrase(months: Sequence[str]) -> str:
    """Stored months ('YYYY-MM', oldest first) in words, one run of consecutive months at a
    time, so a gap is never named as compared: ['2025-01', ..., '2025-06'] -> 'January to
    June 2025'; with 2022-2024 not stored, 'October to December 2021 and January to June 2025'.

    >>> months_phrase(["2021-11", "2021-12", "2022-01", "2022-03"])
    'November 2021 to January 2022 and March 2022'
    """
    runs: list[list[str]] = []
    for m in months:
        if runs and add_months(_month(runs[-1][-1]), 1) == _month(m):
            runs[-1].append(m)
        else:
            runs.append([m])
    words = [month_span(run) for run in runs]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def compared_with(recent: Sequence[str], baseline: Sequence[str]) -> str:
    """What the recent months were compared with, in words: 'the year before' only when all
    twelve months before the first recent month are stored (so the same months a year
    before are too); otherwise the stored baseline months by name."""
    first = _month(recent[0])
    year = [f"{m:%Y-%m}" for m in months_back(add_months(first, -1), 12)]
    return "the year before" if list(baseline) == year else months_phrase(baseline)


def reason(
    row: dict[str, Any],
    recent: Sequence[str] = (),
    baseline: Sequence[str] = (),
    forecast_since: str | None = None,
) -> str:
    """One line: the recent level (in the ``recent`` months), its change on the ``baseline``
    months if significant, the forecast (fitted on the stored months since
    ``forecast_since``), the concerns. Months named are those given."""
    label = problem_label(row["problem"])
    parts = []
    if row["crimes_recent"]:
        now, before = _per_month(row["per_month_recent"]), _per_month(row["per_month_baseline"])
        during = f" in {months_phrase(recent)}" if recent else ""
        then = f" in {compared_with(recent, baseline)}" if recent and baseline else ""
        if row["change_direction"] == "rise":
            p = row["change_p"]
            shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
            parts.append(
                f"{label} up from {before} a month{then} to {now} a month{during} "
                f"(significant, {shown})"
            )
        elif row["change_direction"] == "fall":
            parts.append(f"{label} down from {before} a month{then} to {now} a month{during}")
        elif row["change_direction"] == "no baseline":
            parts.append(f"{label}: {now} a month{during}")
        else:
            parts.append(
                f"{label}: {now} a month{during}, no clear change from {before} a month{then}"
            )
    if row["forecast"] >= 0.05:
        parts.append(_forecast(row, forecast_since))
    if row["concerns"]:
        about = ", ".join(row["concern_problems"])
        noun = "concern" if row["concerns"] == 1 else "concerns"
        sources = set(row["concern_sources"])
        who = "partner" if sources == {"partner"} else "" if "partner" in sources else "resident"
        parts.append(f"{row['concerns']} {who + ' ' if who else ''}{noun} about {about}")
    return "; ".join(parts) if parts else "no recent crimes or concerns"


def _forecast(row: dict[str, Any], since: str | None) -> str:
    """Next month's forecast, and why when it differs from the recent level by more than
    settings.FORECAST_PLAUSIBLE times: the forecast weighs every month since ``since`` (the
    stored months it was fitted on), so after a sudden rise it expects part of the rise to
    fall back, and after a quiet spell part of the earlier level to return."""
    expected, now = row["forecast"], row["per_month_recent"]
    text = f"about {expected:.1f} expected next month"
    if (
        row["crimes_recent"]
        and not now / FORECAST_PLAUSIBLE <= expected <= now * FORECAST_PLAUSIBLE
    ):
        side = "below" if expected < now else "above"
        history = f"its crimes since {months_phrase([since])}" if since else "its longer history"
        text += (
            f" ({side} the recent {_per_month(now)} a month: the forecast weighs {history}, "
            "not only the last three months)"
        )
    return text


# --- for residents: no scores, no p-values, the same tests ------------------------------------


def month_span(months: list[str]) -> str:
    """['2025-07', '2025-08', '2025-09'] -> 'July to September 2025'."""
    first, last = (dt.date.fromisoformat(m + "-01") for m in (months[0], months[-1]))
    if first == last:
        return f"{last:%B %Y}"
    return f"{first:%B}{'' if first.year == last.year else f' {first.year}'} to {last:%B %Y}"


def public_reason(
    problem: str,
    origin: str,
    figures: dict[str, Any] | None,
    recent_months: list[str] | None,
    baseline_months: list[str] | None = None,
) -> str:
    """Why a priority was chosen, in a resident's words: the recent level and its change
    (a rise or fall only when the test said so) and how often residents raised it. A
    priority raised at a meeting rather than from data says who raised it.

    Every comparison names its months: the recent ones, and the ``baseline_months`` as
    :func:`compared_with` words them ("the year before" only when all twelve are stored).
    Without them (a record saved before they were kept) it says "the months before"."""
    label = problem_label(problem)
    if not figures or not recent_months:
        return {
            "residents": "Raised by residents.",
            "partners": "Raised by partner agencies.",
            "mix": "Raised by residents and partners.",
        }.get(origin, "Chosen by the team.")
    span = months_phrase(recent_months)
    now, before = _per_month(figures["per_month_recent"]), _per_month(figures["per_month_baseline"])
    against = (
        compared_with(recent_months, baseline_months) if baseline_months else "the months before"
    )
    direction = figures["change_direction"]
    what = f"{label.capitalize()} here"
    sentences = []
    if not figures["crimes_recent"]:
        sentences.append(f"No {label} recorded here in {span}.")
    elif direction in ("rise", "fall"):
        verb = "rose" if direction == "rise" else "fell"
        sentences.append(
            f"{what} {verb} to about {now} a month in {span}, from about {before} a month "
            f"in {against}."
        )
    elif direction == "no baseline" or baseline_months == []:
        sentences.append(f"{what}: about {now} a month in {span}.")
    else:
        sentences.append(f"{what}: about {now} a month in {span}, no clear change on {against}.")
    n = figures.get("concerns") or 0
    if n:
        sentences.append(f"It was raised with us {'once' if n == 1 else f'{n} times'}.")
    return " ".join(sentences)


def plain_assessment(
    assessment: dict[str, Any] | None, ward: str, problem: str, *, final: bool = False
) -> str:
    """What an assessment (:mod:`beatbook.priorities.assess`) found, for residents. A fall or
    rise is claimed only when its verdict says so (the intervals against the months before
    and the months it was chosen on); ``final`` for a closed one. Each level names its
    months when the assessment lists them (:func:`beatbook.priorities.review.assess` does)."""
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

    def named(key: str) -> str:
        months = assessment.get(key)
        return f" ({months_phrase(months)})" if months else ""

    chosen = assessment.get("months_selection") or 0
    during_words = f"{level(during)} while it was a priority{named('during_months')}"
    if chosen:  # the months it was chosen on: a spike that falls back is no result
        picked = assessment["treated_selection"] / chosen
        figures = (
            f"{during_words}, {level(picked)} in the months it was chosen on"
            f"{named('selection_months')} and {level(before)} before that{named('before_months')}"
        )
    else:
        figures = f"{during_words}, {level(before)} before{named('before_months')}"
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
