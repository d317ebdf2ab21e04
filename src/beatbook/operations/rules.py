"""The operations ledger's rules and roll-up wording, pure: no store, no areas.

Results are keyed (area, measure), :data:`WHOLE` standing for the operation-wide total; how
the recorded areas lie against each other is given as :class:`Relations`
(:func:`beatbook.operations.records.area_relations` works them out from the stored areas).
:mod:`beatbook.operations.records` explains the rules and re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WHOLE = "*"  # the area key of an operation-wide total

# measure -> (singular, plural) for the roll-up sentences
MEASURES: dict[str, tuple[str, str]] = {
    "warrants": ("warrant", "warrants"),
    "arrests": ("arrest", "arrests"),
    "charged": ("person charged", "people charged"),
    "custodial_months": ("month of custodial sentences", "months of custodial sentences"),
    "safeguarding_visits": ("safeguarding visit", "safeguarding visits"),
}


def measure_nouns(measure: str) -> tuple[str, str]:
    """(singular, plural) wording of a measure; ``other:<label>`` uses the label."""
    if measure in MEASURES:
        return MEASURES[measure]
    label = measure.removeprefix("other:")
    return label, label


def measure_order(measure: str) -> tuple[int, str]:
    names = list(MEASURES)
    return (names.index(measure), "") if measure in MEASURES else (len(names), measure)


# --- the hierarchy rules (pure) -----------------------------------------------------------


@dataclass(frozen=True)
class Relations:
    """How recorded areas lie: ``contains`` holds (whole, part) pairs, ``disjoint`` pairs
    that share no ground. Equal areas contain each other. :data:`WHOLE` contains all."""

    contains: frozenset[tuple[str, str]] = frozenset()
    disjoint: frozenset[frozenset[str]] = frozenset()

    def inside(self, whole: str, part: str) -> bool:
        if whole == WHOLE:
            return part != WHOLE
        return part != whole and (whole, part) in self.contains

    def apart(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.disjoint


@dataclass(frozen=True)
class Violation:
    """A broken rule: the parts of ``whole`` (one, or several sharing no ground) add up to
    more than the whole's count for ``measure``."""

    measure: str
    whole: str
    whole_count: int
    parts: tuple[tuple[str, int], ...]

    @property
    def keys(self) -> set[tuple[str, str]]:
        """The (area, measure) results involved."""
        return {(a, self.measure) for a, _ in self.parts} | {(self.whole, self.measure)}

    def describe(self, names: Mapping[str, str]) -> str:
        whole = "operation total" if self.whole == WHOLE else names.get(self.whole, self.whole)
        if len(self.parts) == 1:
            ((part, count),) = self.parts
            return f"{names.get(part, part)} {self.measure} {count} > {whole} {self.whole_count}"
        terms = " + ".join(f"{names.get(a, a)} {n}" for a, n in self.parts)
        total = sum(n for _, n in self.parts)
        return (
            f"{self.measure} in areas that share no ground add up to more than "
            f"{whole} {self.whole_count}: {terms} = {total}"
        )


def max_disjoint(
    parts: Sequence[tuple[str, int]], relations: Relations
) -> tuple[int, tuple[tuple[str, int], ...]]:
    """The largest sum of counts over parts that pairwise share no ground, and those parts.

    A small branch and bound (an operation records a handful of areas): parts are tried
    largest first and a branch stops when even all remaining parts cannot beat the best.
    Of equal sums, the one with fewest parts (the coarsest areas) is kept.
    """
    items = sorted(parts, key=lambda x: (-x[1], x[0]))
    tail = [sum(n for _, n in items[i:]) for i in range(len(items) + 1)]
    best: list[Any] = [0, ()]

    def search(i: int, chosen: tuple[tuple[str, int], ...], total: int) -> None:
        if total > best[0] or (total == best[0] and len(chosen) < len(best[1])):
            best[0], best[1] = total, chosen
        if i == len(items) or total + tail[i] < best[0]:
            return
        area, count = items[i]
        if all(relations.apart(area, other) for other, _ in chosen):
            search(i + 1, (*chosen, (area, count)), total + count)
        search(i + 1, chosen, total)

    search(0, (), 0)
    return best[0], tuple(sorted(best[1]))


def check_hierarchy(counts: Mapping[tuple[str, str], int], relations: Relations) -> list[Violation]:
    """Every broken rule among results keyed (area, measure); :data:`WHOLE` is the total.

    Pure: areas are plain keys and how they lie is given by ``relations``.
    """
    found: list[Violation] = []
    for measure in sorted({m for _, m in counts}, key=measure_order):
        here = {a: n for (a, m), n in counts.items() if m == measure}
        for whole, whole_count in sorted(here.items()):
            parts = sorted((p, n) for p, n in here.items() if relations.inside(whole, p))
            found += [
                Violation(measure, whole, whole_count, ((p, n),))
                for p, n in parts
                if n > whole_count
            ]
            best, family = max_disjoint(parts, relations)
            if len(family) > 1 and best > whole_count:
                found.append(Violation(measure, whole, whole_count, family))
    return found


# --- roll-ups -------------------------------------------------------------------------------


def percent(part: int, total: int) -> str:
    """'33%' of a share, never rounding a part to 0% or 100% when it is not."""
    share = part / total
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{round(share * 100)}%"


def share_sentence(count: int, total: int | None, measure: str, area_name: str) -> str:
    """'46 of 141 warrants were in the West area (33%)'."""
    one, many = measure_nouns(measure)
    verb = "was" if count == 1 else "were"
    if total is None:
        return f"{count:,} {one if count == 1 else many} {verb} in the {area_name} area"
    return f"{count:,} of {total:,} {many} {verb} in the {area_name} area ({percent(count, total)})"


def summarise_measure(
    measure: str, counts: Mapping[str, int], relations: Relations, names: Mapping[str, str]
) -> dict[str, Any]:
    """One measure's roll-up: the total, each area's share and what no area accounts for.

    What the areas account for is known exactly when the outermost areas share no ground;
    when they overlap it is only bounded (overlapping counts are never added).
    """
    total = counts.get(WHOLE)
    parts = sorted(
        ((a, n) for a, n in counts.items() if a != WHOLE), key=lambda x: (-x[1], names[x[0]])
    )

    def strictly_inside(part: str) -> list[str]:
        return [w for w, _ in parts if relations.inside(w, part) and not relations.inside(part, w)]

    rows = [
        {
            "area": names[a],
            "reference": a,
            "count": n,
            "share": None if not total else n / total,
            "inside": sorted(names[w] for w in strictly_inside(a)),
            "text": share_sentence(n, total, measure, names[a]),
        }
        for a, n in parts
    ]
    result: dict[str, Any] = {
        "measure": measure,
        "label": measure_nouns(measure)[1],
        "total": total,
        "areas": rows,
        "unattributed": None,
        "unattributed_at_least": None,
        "unattributed_at_most": None,
        "text": [],
    }
    if total is None:
        result["text"] = ["operation total not recorded"] + [r["text"] for r in rows]
        return result
    outer: list[tuple[str, int]] = []
    seen: set[str] = set()
    for a, n in sorted(parts):
        twin_seen = any(relations.inside(a, s) and relations.inside(s, a) for s in seen)
        if not strictly_inside(a) and not twin_seen:
            outer.append((a, n))
            seen.add(a)
    low = max(0, total - sum(n for _, n in outer))
    high = max(0, total - max_disjoint(parts, relations)[0])
    result.update(
        unattributed_at_least=low,
        unattributed_at_most=high,
        unattributed=low if low == high else None,
    )
    one, many = measure_nouns(measure)
    lines = [f"{total:,} {one if total == 1 else many} in total"] + [r["text"] for r in rows]
    if parts and low == high:
        lines.append(f"not attributed to an area: {low:,}")
    elif parts:
        lines.append(
            f"not attributed to an area: between {low:,} and {high:,} (some areas "
            "overlap, so their counts are not added up)"
        )
    result["text"] = lines
    return result
