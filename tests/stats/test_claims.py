"""Claims (``beatbook check``): the strict parser, matching at the published precision, the
twelve-month windows and the definitions tried, against hand counts and Decimal rounding."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from beatbook.errors import InputError
from beatbook.reference import crime_types, problem_groups
from beatbook.stats.claims import (
    Residents,
    Tally,
    evaluate,
    parse_claim,
    twelve_month_windows,
)

# --- the parser ---------------------------------------------------------------------------------


def test_the_news_storys_three_claims() -> None:
    rate, share, count = map(parse_claim, ["rate=97", "share:drugs=3.8%", "count:drugs=1577"])
    assert (rate.kind, rate.subject, rate.crime_types, rate.value, rate.decimals) == (
        "rate",
        None,
        (),
        97,
        0,
    )
    assert (share.kind, share.crime_types, share.value, share.decimals) == (
        "share",
        ("Drugs",),
        Fraction(38, 10),
        1,
    )
    assert (count.kind, count.crime_types, count.value) == ("count", ("Drugs",), 1577)
    assert parse_claim("count:drugs=1,577").value == 1577
    assert parse_claim(" Share : Violence and sexual offences = 42.17 % ").crime_types == (
        "Violence and sexual offences",
    )
    assert parse_claim("rate:violent-crime=46.7").crime_types == ("Violence and sexual offences",)
    acquisitive = parse_claim("count:acquisitive=12000").crime_types
    assert set(acquisitive) == {t.name for t in crime_types() if t.problem_group == "acquisitive"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("share=3%", "a share needs a crime type or problem group"),
        ("share:drugs=3.8", "a share is a percentage"),
        ("share:drugs=101%", "at most 100%"),
        ("rate=97%", "a rate has no '%'"),
        ("count:drugs=1577.0", "a count is a whole number"),
        ("count:drugs=1,57", "is not a number"),
        ("count:drugs=15,77", "is not a number"),
        ("count:drugs=-3", "is not a number"),
        ("count:drugs=1e3", "is not a number"),
        ("rate=97 per 1000", "is not a number"),
        ("rate=", "is not a number"),
        ("count:unicorns=3", "'unicorns' is not a problem group"),
        ("rate:=3", "nothing between ':' and '='"),
        ("ratio=3", "unknown kind 'ratio'"),
        ("rate", "expected KIND=VALUE"),
        ("rate==3", "expected KIND=VALUE"),
        ("share:drugs=3.8%=4%", "expected KIND=VALUE"),
        ("", "expected KIND=VALUE"),
    ],
)
def test_bad_claims_are_refused_naming_the_claim(text: str, expected: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_claim(text)
    assert f"--claim {text!r}" in str(refused.value)
    assert expected in str(refused.value)


SUBJECTS = st.sampled_from(
    [None, *problem_groups(), *(t.slug for t in crime_types()), *(t.name for t in crime_types())]
)


def _grouped(n: int) -> str:
    return f"{n:,}"


@given(
    kind=st.sampled_from(["rate", "share", "count"]),
    subject=SUBJECTS,
    whole=st.integers(0, 10**9),
    part=st.text("0123456789", max_size=4),
    commas=st.booleans(),
)
def test_a_well_formed_claim_reads_back_exactly(
    kind: str, subject: str | None, whole: int, part: str, commas: bool
) -> None:
    if kind == "share":
        subject = subject or "drugs"
        whole %= 101
        part = "" if whole == 100 else part
    if kind == "count":
        part = ""
    number = (_grouped(whole) if commas else str(whole)) + (f".{part}" if part else "")
    text = f"{kind}{'' if subject is None else ':' + subject}={number}" + "%" * (kind == "share")
    claim = parse_claim(text)
    assert claim.value == Fraction(Decimal(f"{whole}.{part or 0}"))
    assert claim.decimals == len(part)
    assert claim.kind == kind and claim.subject == subject and claim.text == text
    assert bool(claim.crime_types) == (subject is not None)


@given(st.text(max_size=40))
def test_any_text_is_a_claim_or_one_input_error_naming_it(text: str) -> None:
    try:
        claim = parse_claim(text)
    except InputError as refused:
        assert str(refused).startswith(f"--claim {text!r}: ")
        return
    assert claim.kind in ("rate", "share", "count")
    assert claim.value >= 0 and (claim.kind != "share" or claim.value <= 100)


@given(
    claimed=st.integers(0, 10**6),
    decimals=st.integers(0, 3),
    offset=st.one_of(st.integers(-(10**4), 10**4), st.sampled_from([-501, -500, 499, 500])),
)
def test_a_value_matches_exactly_when_it_rounds_half_up_to_the_claim(
    claimed: int, decimals: int, offset: int
) -> None:
    claim = parse_claim(f"rate={Decimal(claimed).scaleb(-decimals):f}")
    # A value with 3 more decimals than the claim, near it: Decimal holds it exactly.
    value = Decimal(claimed * 1000 + offset).scaleb(-(decimals + 3))
    assume(value >= 0)  # counts, shares and rates are never negative
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    assert claim.matches(Fraction(value)) == (rounded == Decimal(claimed).scaleb(-decimals))


def test_matching_at_the_edges() -> None:
    share = parse_claim("share:drugs=3.8%")
    assert share.matches(Fraction(375, 100)) and share.matches(Fraction(3849999, 1000000))
    assert not share.matches(Fraction(385, 100)) and not share.matches(Fraction(3749, 1000))
    count = parse_claim("count:drugs=1577")
    assert [count.matches(Fraction(n)) for n in (1576, 1577, 1578)] == [False, True, False]


# --- the months a figure "for 2020" may be over ---------------------------------------------------


def test_twelve_month_windows_of_a_year() -> None:
    windows = twelve_month_windows(2020)
    assert len(windows) == 13
    spans = [(f"{a:%Y-%m}", f"{b:%Y-%m}") for _, a, b in windows]
    assert spans[0] == ("2019-04", "2020-03") and spans[-1] == ("2020-04", "2021-03")
    assert spans[9] == ("2020-01", "2020-12")
    names = [name for name, _, _ in windows]
    assert names[0] == "financial year 2019/20 (April 2019 to March 2020)"
    assert names[9] == "calendar year 2020"
    assert names[12] == "financial year 2020/21 (April 2020 to March 2021)"
    assert names[3] == "the 12 months to June 2020 (July 2019 to June 2020)"
    for _, first, last in windows:  # twelve months each, three or more of them in 2020
        assert (last.year - first.year) * 12 + last.month - first.month == 11
        assert sum(1 for m in range(12) if (first.month + m - 1) // 12 + first.year == 2020) >= 3
    assert twelve_month_windows(1999)[-1][0] == "financial year 1999/00 (April 1999 to March 2000)"


# --- the definitions tried ------------------------------------------------------------------------

JAN, DEC = dt.date(2020, 1, 1), dt.date(2020, 12, 1)
COUNTS = {  # unit -> crime type -> count: a small hand-made area
    "crimes": {"Drugs": 40, "Burglary": 960, "Anti-social behaviour": 200},
    "rows": {"Drugs": 41, "Burglary": 961, "Anti-social behaviour": 200},
    "crime_ids": {"Drugs": 39, "Burglary": 960, "Anti-social behaviour": 200},
}
RESIDENTS = (
    Residents("area", 2019, 10_000.0, 6),
    Residents("area", 2022, 12_500.0, 7),
    Residents("lsoas", 2019, 8_000.0, 5),
    Residents("lsoas", 2022, None, 5, "the mid-2022 estimate cannot count them"),
)


def _tally(**changes: object) -> Tally:
    fields: dict = {
        "months": "calendar year 2020",
        "first": JAN,
        "last": DEC,
        "area": "Town (local authority, as BeatBook counts it)",
        "counts": COUNTS,
        "residents": RESIDENTS,
        "beatbook": True,
    }
    return Tally(**{**fields, **changes})


def test_every_definition_of_a_share_and_beatbooks_own() -> None:
    check = evaluate(parse_claim("share:drugs=4.0%"), [_tally()], nearest_year=2019)
    # 3 units x 2 denominators, by hand: 40/1000, 40/1200, 41/1002, 41/1202, 39/999, 39/1199.
    assert [(f.count, f.base, f.definition.with_asb) for f in check.figures] == [
        (40, 1000, False),
        (40, 1200, True),
        (41, 1002, False),
        (41, 1202, True),
        (39, 999, False),
        (39, 1199, True),
    ]
    # 40 of 1,000 is 4.0%; 41 of 1,002 (4.09%) rounds to 4.1 and 39 of 999 (3.90%) to 3.9.
    assert [(f.definition.unit, f.value) for f in check.matching] == [("crimes", Fraction(4))]
    assert check.beatbook is not None and check.beatbook.value == 4
    assert check.beatbook.definition.unit == "crimes" and not check.beatbook.definition.with_asb


def test_rates_use_every_population_the_store_has_and_skip_those_it_cannot_give() -> None:
    check = evaluate(parse_claim("rate=100"), [_tally()], nearest_year=2019)
    # 3 units x (crime, crime + ASB) x 3 populations available (mid-2022 by LSOA refused).
    assert len(check.figures) == 18
    assert {f.definition.residents for f in check.figures} == set(RESIDENTS[:3])
    assert [(f.definition.unit, f.count, f.base) for f in check.matching] == [
        ("crimes", 1000, 10_000.0),
        ("rows", 1002, 10_000.0),
        ("crime_ids", 999, 10_000.0),
    ]
    own = check.beatbook
    assert own is not None and own.definition.residents == RESIDENTS[0] and own.value == 100
    later = evaluate(parse_claim("rate=100"), [_tally()], nearest_year=2022).beatbook
    assert later is not None and later.value == Fraction(1000 * 1000, 12_500)


def test_all_crime_with_and_without_asb_and_asb_on_its_own() -> None:
    count = evaluate(parse_claim("count=1200"), [_tally()], nearest_year=2019)
    assert [(f.definition.unit, f.definition.with_asb) for f in count.matching] == [
        ("crimes", True)
    ]
    assert count.beatbook is not None and count.beatbook.count == 1000  # ASB never added
    asb = evaluate(parse_claim("share:asb=16.7%"), [_tally()], nearest_year=2019)
    assert {f.base for f in asb.figures} == {1200, 1202, 1199}  # never a share of crime alone
    assert asb.beatbook is None and "not a crime" in (asb.why_none or "")


def test_months_with_gaps_are_not_tried_but_give_beatbooks_own_figure() -> None:
    gappy = _tally(months_missing=("2020-12",))
    other = _tally(beatbook=False, area="Town force area", counts={"crimes": {"Drugs": 9}})
    check = evaluate(parse_claim("count:drugs=40"), [gappy, other], nearest_year=2019)
    assert [f.definition.area for f in check.figures] == ["Town force area"] * 3
    assert check.matching == ()
    assert check.beatbook is not None and check.beatbook.count == 40
    assert check.beatbook_months_missing == ("2020-12",)
    assert [f.count for f in check.nearest(1)] == [9]


def test_words_name_every_choice() -> None:
    check = evaluate(parse_claim("rate=97"), [_tally()], nearest_year=2019)
    own = check.beatbook
    assert own is not None
    assert own.words(check.claim) == (
        "100.0 per 1,000: 1,000 crimes (ASB left out) per 10,000 residents of the area (ONS "
        "mid-2019 estimate); counted one per Crime ID a month (BeatBook's rule); Town (local "
        "authority, as BeatBook counts it); calendar year 2020"
    )
