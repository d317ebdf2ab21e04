"""Scoring candidate priorities on hand-built crimes, with every figure worked out by hand.

Harm weights are read from ``reference/crime_types.csv`` with the csv module; the change
test's p-values come from ``scipy.stats.binomtest`` directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from beatbook.errors import InputError
from beatbook.priorities.score import (
    KEY,
    PARTS,
    Weights,
    proactive_problems,
    score_candidates,
    top_per_ward,
)

CRIME_TYPES_CSV = Path(__file__).parents[2] / "src" / "beatbook" / "reference" / "crime_types.csv"
with CRIME_TYPES_CSV.open(newline="", encoding="utf-8") as fh:
    REFERENCE = {r["crime_type"]: r for r in csv.DictReader(fh)}
HARM = {t: float(r["harm_days"]) for t, r in REFERENCE.items() if r["harm_days"]}
GROUP = {t: r["problem_group"] for t, r in REFERENCE.items()}

BASELINE = [dt.date(2020, m, 1) for m in (10, 11, 12)] + [dt.date(2021, m, 1) for m in (1, 2, 3)]
RECENT = [dt.date(2021, m, 1) for m in (4, 5, 6)]

ELM, MARKET, OAK = (
    ("W1", "W1|Elm Close", "Elm Close"),
    ("W2", "W2|Market Street", "Market Street"),
    ("W1", "W1|Oak Road", "Oak Road"),
)
PARK, BUS = ("W1", "W1|Park", "Park"), ("W2", "W2|Bus Station", "Bus Station")


def crimes_at(place: tuple[str, str, str], crime_type: str, months: list[dt.date]) -> list[dict]:
    ward, key, name = place
    return [
        {"month": m, "crime_type": crime_type, "ward": ward, "place_key": key, "place": name}
        for m in months
    ]


def concern(place: tuple[str, str, str], problem: str, label: str, source: str) -> dict:
    ward, key, name = place
    return {
        "ward": ward,
        "place_key": key,
        "place": name,
        "problem": problem,
        "problem_label": label,
        "source": source,
    }


CRIMES = pl.DataFrame(
    [
        # Elm Close: burglary steady at one a month (6 in 6 months, then 3 in 3).
        *crimes_at(ELM, "Burglary", BASELINE + RECENT),
        # Elm Close: ASB 2 in the baseline, 6 in the recent months (a significant rise).
        *crimes_at(ELM, "Anti-social behaviour", BASELINE[:2] + RECENT * 2),
        # Market Street: shoplifting from none to 9 (a significant rise).
        *crimes_at(MARKET, "Shoplifting", RECENT * 3),
        # Market Street: criminal damage 1 -> 2 (up, but not significantly).
        *crimes_at(MARKET, "Criminal damage and arson", BASELINE[:1] + RECENT[:2]),
        # Oak Road: one robbery (the highest harm).
        *crimes_at(OAK, "Robbery", RECENT[-1:]),
        # Older than the baseline: counts nowhere.
        *crimes_at(OAK, "Robbery", [dt.date(2019, 1, 1)] * 4),
    ]
)
CONCERNS = pl.DataFrame(
    [
        concern(ELM, "asb", "anti-social behaviour", "street-survey"),
        concern(ELM, "asb", "nuisance youths", "partner"),
        concern(PARK, "street-drinking", "street drinking", "online"),
        concern(BUS, "drugs", "drug dealing", "partner"),
    ]
)
FORECASTS = pl.DataFrame(
    {
        "place_key": [ELM[1], ELM[1], MARKET[1]],
        "problem": ["acquisitive", "asb", "acquisitive"],
        "forecast": [2.0, 1.0, 4.0],
    }
)

# By hand. Harm a month: Elm acquisitive 3 x 91 / 3 = 91; Elm ASB 6 x 10 / 3 = 20; Market
# acquisitive 9 x 5 / 3 = 15; Market criminal damage 2 x 30 / 3 = 20; Oak 365 / 3.
TOP_HARM = 365 / 3
EXPECTED = {
    # (place_key, problem): (volume, change, forecast, concerns, proactive, origin)
    (ELM[1], "acquisitive"): (91 / TOP_HARM, 0.0, 2 / 4, 0.0, 0.0, "data"),
    (ELM[1], "asb"): (20 / TOP_HARM, 5 / 9, 1 / 4, 1.0, 0.0, "mix"),
    (MARKET[1], "acquisitive"): (15 / TOP_HARM, 1.0, 1.0, 0.0, 0.0, "data"),
    (MARKET[1], "criminal-damage"): (20 / TOP_HARM, 0.0, 0.0, 0.0, 0.0, "data"),
    (OAK[1], "acquisitive"): (1.0, 0.0, 0.0, 0.0, 0.0, "data"),
    (PARK[1], "street-drinking"): (0.0, 0.0, 0.0, 0.5, 0.0, "residents"),
    # Drugs is the one group whose every crime type is proactive (crime_types.csv): its
    # concerns count again, on the concerns part's scale (1 of Elm's 2).
    (BUS[1], "drugs"): (0.0, 0.0, 0.0, 0.5, 0.5, "partners"),
}
# Baseline and recent counts (6 and 3 months).
COUNTS = {
    (ELM[1], "acquisitive"): (6, 3),
    (ELM[1], "asb"): (2, 6),
    (MARKET[1], "acquisitive"): (0, 9),
    (MARKET[1], "criminal-damage"): (1, 2),
    (OAK[1], "acquisitive"): (0, 1),
    (PARK[1], "street-drinking"): (0, 0),
    (BUS[1], "drugs"): (0, 0),
}


def scored(weights: Weights | None = None, **kw) -> pl.DataFrame:
    args = {
        "crimes": CRIMES,
        "concerns": CONCERNS,
        "forecasts": FORECASTS,
        "recent": RECENT,
        "baseline": BASELINE,
        "weights": weights or Weights(),
        **kw,
    }
    return score_candidates(**args)


def by_key(table: pl.DataFrame) -> dict[tuple[str, str], dict]:
    return {(r["place_key"], r["problem"]): r for r in table.to_dicts()}


def test_reference_weights_are_the_ones_worked_by_hand() -> None:
    assert (HARM["Burglary"], HARM["Shoplifting"], HARM["Robbery"]) == (91, 5, 365)
    assert HARM["Criminal damage and arson"] == 30
    assert "Anti-social behaviour" not in HARM and Weights().asb_harm_days == 10


def test_parts_origin_and_score_match_the_hand_computation() -> None:
    table = by_key(scored())
    assert set(table) == set(EXPECTED)
    for key, (volume, change, forecast, concerns, proactive, origin) in EXPECTED.items():
        row = table[key]
        assert row["part_volume"] == pytest.approx(volume), key
        assert row["part_change"] == pytest.approx(change), key
        assert row["part_forecast"] == pytest.approx(forecast), key
        assert row["part_concerns"] == pytest.approx(concerns), key
        assert row["part_proactive"] == pytest.approx(proactive), key
        assert row["origin"] == origin, key
        total = volume + change + forecast + concerns + proactive
        assert row["score"] == pytest.approx(total), key


def test_only_all_proactive_groups_count_concerns_twice() -> None:
    proactive = {r["problem_group"] for r in REFERENCE.values() if r["proactive"] == "true"}
    reactive = {r["problem_group"] for r in REFERENCE.values() if r["proactive"] != "true"}
    assert proactive_problems() == sorted(proactive - reactive) == ["drugs"]
    # Weapons possession is proactive but weighed with violence, which is reported.
    assert "violence-weapons" in proactive & reactive
    off = by_key(scored(Weights(proactive=0)))
    assert all(r["part_proactive"] == 0 for r in off.values())
    assert off[(BUS[1], "drugs")]["score"] == pytest.approx(0.5)


def test_figures_behind_the_parts() -> None:
    table = by_key(scored())
    asb = table[(ELM[1], "asb")]
    assert (asb["crimes_recent"], asb["crimes_baseline"]) == (6, 2)
    assert asb["harm_recent"] == 60 and asb["harm_per_month"] == pytest.approx(20)
    assert asb["per_month_recent"] == 2 and asb["per_month_baseline"] == pytest.approx(2 / 6)
    assert asb["excess"] == pytest.approx(6 - 2 * 3 / 6)
    assert asb["concerns"] == 2
    assert asb["concern_problems"] == ["anti-social behaviour", "nuisance youths"]
    assert asb["concern_sources"] == ["partner", "street-survey"]
    oak = table[(OAK[1], "acquisitive")]
    assert (oak["crimes_recent"], oak["crimes_baseline"]) == (1, 0)  # 2019 counts nowhere
    assert table[(PARK[1], "street-drinking")]["crimes_recent"] == 0


def test_change_counts_only_a_significant_rise() -> None:
    table = by_key(scored())
    for key, (before, recent) in COUNTS.items():
        row = table[key]
        if before + recent == 0:
            assert row["change_p"] == 1.0 and row["part_change"] == 0
            continue
        p = stats.binomtest(
            recent, before + recent, len(RECENT) / (len(RECENT) + len(BASELINE))
        ).pvalue
        assert row["change_p"] == pytest.approx(p, rel=1e-12), key
        rise = p < 0.05 and recent / 3 > before / 6
        assert row["change_direction"] == ("rise" if rise else "no clear change"), key
        assert (row["part_change"] > 0) == rise, key
    # Criminal damage went up fourfold a month (1/6 -> 2/3) but with so few crimes it is noise.
    damage = table[(MARKET[1], "criminal-damage")]
    assert damage["per_month_recent"] == pytest.approx(4 * damage["per_month_baseline"])
    assert table[(MARKET[1], "criminal-damage")]["part_change"] == 0


def test_a_significant_fall_earns_nothing() -> None:
    crimes = pl.DataFrame(crimes_at(ELM, "Burglary", BASELINE * 4 + RECENT[:1]))
    row = score_candidates(
        crimes, CONCERNS.clear(), FORECASTS.clear(), RECENT, BASELINE, Weights()
    ).row(0, named=True)
    assert row["change_direction"] == "fall"
    assert row["change_p"] == pytest.approx(stats.binomtest(1, 25, 1 / 3).pvalue)
    assert row["part_change"] == 0 and row["excess"] == 0


def test_missing_baseline_months_are_left_out_not_zero() -> None:
    # Two of the six baseline months were never published: the baseline is 4 months.
    four = BASELINE[2:]
    row = by_key(scored(baseline=four))[(ELM[1], "acquisitive")]
    assert row["crimes_baseline"] == 4 and row["per_month_baseline"] == 1.0
    assert row["change_p"] == pytest.approx(stats.binomtest(3, 7, 3 / 7).pvalue)


def test_no_baseline_months_means_no_change_part() -> None:
    table = scored(baseline=[])
    assert set(table["change_direction"]) == {"no baseline"}
    assert (table["part_change"] == 0).all()
    assert table["change_p"].null_count() == table.height


def test_no_recent_months_is_refused() -> None:
    with pytest.raises(InputError, match="no recent months"):
        scored(recent=[])


def test_ranking_is_by_score() -> None:
    table = scored()
    assert [(r["place_key"], r["problem"]) for r in table.to_dicts()] == [
        (MARKET[1], "acquisitive"),  # 15/121.7 + 1 + 1 = 2.12
        (ELM[1], "asb"),  # 0.16 + 0.56 + 0.25 + 1 = 1.97
        (ELM[1], "acquisitive"),  # 0.75 + 0.5 = 1.25
        (OAK[1], "acquisitive"),  # 1, ward W1 before W2 on a tie
        (BUS[1], "drugs"),  # 0.5 + 0.5 (proactive)
        (PARK[1], "street-drinking"),  # 0.5
        (MARKET[1], "criminal-damage"),  # 0.16
    ]


def test_weights_change_the_ranking_as_expected() -> None:
    volume_only = scored(Weights(volume=1, change=0, forecast=0, concerns=0, proactive=0))
    # Ranked by harm a month alone; candidates with no recent crime score 0 and are dropped.
    assert volume_only["place_key"].to_list()[:2] == [OAK[1], ELM[1]]
    assert set(zip(volume_only["place_key"], volume_only["problem"], strict=True)) == {
        k for k in EXPECTED if COUNTS[k][1] > 0
    }
    concerns_only = scored(Weights(volume=0, change=0, forecast=0, concerns=3, proactive=0))
    assert [(r["place_key"], r["score"]) for r in concerns_only.to_dicts()] == [
        (ELM[1], 3.0),
        (PARK[1], 1.5),
        (BUS[1], 1.5),
    ]
    # ASB weighed at 100 days makes Elm Close's ASB (200 days a month) the heaviest.
    heavy = by_key(scored(Weights(asb_harm_days=100)))
    assert heavy[(ELM[1], "asb")]["part_volume"] == pytest.approx(1.0)
    assert heavy[(OAK[1], "acquisitive")]["part_volume"] == pytest.approx(TOP_HARM / 200)
    # Doubling a weight doubles its part.
    double = by_key(scored(Weights(change=2)))
    assert double[(MARKET[1], "acquisitive")]["part_change"] == pytest.approx(2.0)
    assert double[(ELM[1], "asb")]["part_change"] == pytest.approx(10 / 9)


@pytest.mark.parametrize(
    ("field", "option"),
    [
        ("volume", "--weight-volume"),
        ("concerns", "--weight-concerns"),
        ("asb_harm_days", "--weight-asb-harm-days"),
    ],
)
@pytest.mark.parametrize("value", [-1.0, -0.001, math.nan])
def test_weights_reject_negatives(field: str, option: str, value: float) -> None:
    with pytest.raises(InputError, match=f"^{option} .*expected a number >= 0"):
        Weights(**{field: value})


def test_zero_weights_are_allowed() -> None:
    assert Weights(0, 0, 0, 0, 0, 0).to_dict() == {
        "volume": 0,
        "change": 0,
        "forecast": 0,
        "concerns": 0,
        "asb_harm_days": 0,
        "proactive": 0,
    }


def test_top_per_ward_order_and_ranks() -> None:
    top = top_per_ward(scored(), 2)
    assert [(r["ward"], r["rank"], r["place_key"], r["problem"]) for r in top.to_dicts()] == [
        # W2's best (2.12) beats W1's best (1.97), so W2 comes first.
        ("W2", 1, MARKET[1], "acquisitive"),
        ("W2", 2, BUS[1], "drugs"),
        ("W1", 1, ELM[1], "asb"),
        ("W1", 2, ELM[1], "acquisitive"),
    ]
    one = top_per_ward(scored(), 1)
    assert one.select("ward", "rank").rows() == [("W2", 1), ("W1", 1)]
    everything = top_per_ward(scored(), 10)
    assert everything.height == len(EXPECTED)
    assert everything.filter(pl.col("ward") == "W1")["rank"].to_list() == [1, 2, 3, 4]


def test_top_per_ward_needs_one_or_more() -> None:
    with pytest.raises(InputError, match="--per-ward 0: expected 1 or more"):
        top_per_ward(scored(), 0)


# --- properties ----------------------------------------------------------------------------

PLACES = [ELM, MARKET, OAK, PARK]
TYPES = sorted(REFERENCE)
MONTHS = BASELINE + RECENT

crime_rows = st.lists(
    st.tuples(st.sampled_from(PLACES), st.sampled_from(TYPES), st.sampled_from(MONTHS)),
    min_size=1,
    max_size=40,
)
concern_rows = st.lists(
    st.tuples(
        st.sampled_from(PLACES),
        st.sampled_from(["asb", "drugs", "speeding"]),
        st.sampled_from(["street-survey", "online", "partner"]),
    ),
    max_size=8,
)
weight = st.floats(min_value=0, max_value=5, allow_nan=False)


def _frames(crimes: list, concerns: list, k: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    c = pl.DataFrame(
        [r for place, t, m in crimes for r in crimes_at(place, t, [m])] * k,
        schema={
            "month": pl.Date,
            "crime_type": pl.Utf8,
            "ward": pl.Utf8,
            "place_key": pl.Utf8,
            "place": pl.Utf8,
        },
    )
    v = pl.DataFrame(
        [concern(place, p, p, s) for place, p, s in concerns] * k,
        schema={
            "ward": pl.Utf8,
            "place_key": pl.Utf8,
            "place": pl.Utf8,
            "problem": pl.Utf8,
            "problem_label": pl.Utf8,
            "source": pl.Utf8,
        },
    )
    return c, v


@settings(max_examples=60, deadline=None)
@given(crime_rows, concern_rows, st.integers(2, 4), weight, weight, weight, weight)
def test_score_is_the_sum_of_bounded_parts_and_scale_free(
    crimes: list, concerns: list, k: int, wv: float, wc: float, wf: float, wn: float
) -> None:
    weights = Weights(wv, wc, wf, wn)
    forecasts = pl.DataFrame(
        {"place_key": [ELM[1], OAK[1]], "problem": ["asb", "acquisitive"], "forecast": [1.5, 0.25]}
    )
    c, v = _frames(crimes, concerns, 1)
    once = score_candidates(c, v, forecasts, RECENT, BASELINE, weights)
    for row in once.to_dicts():
        assert row["score"] == pytest.approx(sum(row[f"part_{p}"] for p in PARTS))
        for p in PARTS:
            assert -1e-12 <= row[f"part_{p}"] <= getattr(weights, p) + 1e-12
        assert row["score"] > 0
    ck, vk = _frames(crimes, concerns, k)
    scaled = score_candidates(ck, vk, forecasts, RECENT, BASELINE, weights)
    both = once.join(scaled, on=KEY, suffix="_k")
    # Every candidate with a volume, forecast or concerns part keeps it after scaling.
    kept = once.filter(pl.sum_horizontal("part_volume", "part_forecast", "part_concerns") > 0)
    assert kept.join(scaled, on=KEY, how="anti").is_empty()
    for row in both.to_dicts():
        assert row["crimes_recent_k"] == k * row["crimes_recent"]
        assert row["part_volume_k"] == pytest.approx(row["part_volume"], abs=1e-12)
        assert row["part_concerns_k"] == pytest.approx(row["part_concerns"], abs=1e-12)
        assert row["part_forecast_k"] == pytest.approx(row["part_forecast"], abs=1e-12)
