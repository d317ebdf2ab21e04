"""The statistics brief's charts: the numbers behind them, the files, and their alt text.

Expected numbers come from the raw police.uk and ONS files (``raw_db``, a separate DuckDB
connection) and scipy, never from BeatBook. Two briefs are built once for the module:
Leicester 2021 against 2020 (a local authority: every chart), and the Castle ward of
Leicester for 2021 alone (not a local authority: no rank chart).
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
from PIL import Image
from scipy import stats

from beatbook.charts import brief as brief_charts
from beatbook.publish import brief
from beatbook.store import Store
from support.fixtures_store import raw_scalar

ASB = "Anti-social behaviour"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def leicester(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> brief.Brief:
    out = tmp_path_factory.mktemp("brief-charts")
    return brief.write_brief(sample_store, "Leicester", 2021, 2020, out, seed=0)


@pytest.fixture(scope="module")
def castle(sample_store: Store, tmp_path_factory: pytest.TempPathFactory) -> brief.Brief:
    out = tmp_path_factory.mktemp("brief-ward")
    (out / "brief-rank.png").write_bytes(b"left by an earlier brief")
    return brief.write_brief(sample_store, "Castle (Leicester)", 2021, None, out, seed=0)


def lad_population(raw_db: duckdb.DuckDBPyConnection, lad: str) -> float:
    """Mid-2022 residents of a local authority, from the raw estimate and bridge."""
    return float(
        raw_scalar(
            raw_db,
            "SELECT sum(population) FROM pop2022 WHERE code IN "
            "(SELECT LSOA21CD FROM bridge WHERE LAD22NM = ?)",
            [lad],
        )
    )


def raw_crimes(raw_db: duckdb.DuckDBPyConnection, district: str, month_like: str) -> int:
    return int(
        raw_scalar(
            raw_db,
            'SELECT count(*) FROM street WHERE district = ? AND month LIKE ? AND "Crime type" <> ?',
            [district, month_like, ASB],
        )
    )


def garwood(k: int, population: float) -> tuple[float, float]:
    """The exact Poisson 95% interval of a rate per 1,000, written out with scipy's chi2."""
    low = 0.0 if k == 0 else stats.chi2.ppf(0.025, 2 * k) / 2
    high = stats.chi2.ppf(0.975, 2 * k + 2) / 2
    return low / population * 1000, high / population * 1000


def decimals(values: list[float]) -> int:
    return 1 if max(values) >= 10 else 2


def charts_of(b: brief.Brief) -> dict[str, dict[str, Any]]:
    return {c["kind"]: c for c in b.facts["charts"]}


# --- the numbers behind the rate chart ----------------------------------------------------------


def test_monthly_counts_and_intervals_match_the_raw_files(
    leicester: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    monthly = leicester.facts["monthly"]
    # Every stored month of the year and of the compare year, in order.
    assert [m["month"] for m in monthly] == [
        f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)
    ]
    population = lad_population(raw_db, "Leicester")
    assert population == leicester.facts["population"]["population"] == 373_399
    for m in monthly:
        k = raw_crimes(raw_db, "Leicester", m["month"])
        assert m["count"] == k, m["month"]
        assert m["rate"] == pytest.approx(k / population * 1000, rel=1e-12)
        low, high = garwood(k, population)
        assert (m["ci_low"], m["ci_high"]) == (
            pytest.approx(low, rel=1e-9),
            pytest.approx(high, rel=1e-9),
        )
        assert m["ci_low"] < m["rate"] < m["ci_high"]
    # The year's months add up to the headline; the trend is fitted to both years' 24 months
    # with month-of-year effects, so its yearly rate is the ratio of the two years' totals.
    this_year = [m["count"] for m in monthly if m["month"].startswith("2021-")]
    assert sum(this_year) == leicester.facts["crimes"]
    trend = leicester.facts["trend"]
    assert trend["n_months"] == 24 and "month-of-year effects" in trend["method"]
    ratio = sum(this_year) / sum(m["count"] for m in monthly if m["month"].startswith("2020-"))
    assert trend["pct_per_year"] == pytest.approx((ratio - 1) * 100, rel=1e-7)


def test_versus_rates_carry_their_garwood_intervals(
    leicester: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    v = leicester.facts["versus"]
    for c in v["categories"]:
        for key, population in (("a", v["population_area"]), ("b", v["population_against"])):
            low, high = garwood(c[f"count_{key}"], population)
            assert c[f"rate_{key}_ci_low"] == pytest.approx(low, rel=1e-9)
            assert c[f"rate_{key}_ci_high"] == pytest.approx(high, rel=1e-9)
            assert c[f"rate_{key}_ci_low"] <= c[f"rate_{key}"] <= c[f"rate_{key}_ci_high"]


# --- the files ----------------------------------------------------------------------------------


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


def _check_files(b: brief.Brief) -> None:
    out = b.markdown_path.parent
    charts = b.facts["charts"]
    assert [p.name for p in b.chart_paths] == [c["file"] for c in charts]
    assert sorted(p.name for p in out.glob("*.png")) == sorted(c["file"] for c in charts)
    assert not list(out.glob(".*.part"))
    html = b.html_path.read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(html)
    by_src = {i["src"]: i["alt"] for i in parser.images}
    assert len(parser.images) == len(charts)
    for c in charts:
        path = out / c["file"]
        assert path.read_bytes().startswith(PNG_MAGIC)
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG"
            width, height = image.size
        # About 7 inches at 120-150 dpi; tall enough to read.
        assert 7 * 120 <= width <= 7 * 150 and height >= 400, (c["file"], image.size)
        assert c["alt"].strip() and c["title"].strip()
        assert f"![{c['alt']}]({c['file']})" in b.markdown
        assert by_src[c["file"]] == c["alt"]


def test_one_png_per_chart_shown_with_its_alt_text(leicester: brief.Brief) -> None:
    assert [c["kind"] for c in leicester.facts["charts"]] == ["rate", "share", "rank", "versus"]
    assert [c["file"] for c in leicester.facts["charts"]] == [
        "brief-rate.png",
        "brief-share.png",
        "brief-rank.png",
        "brief-versus.png",
    ]
    _check_files(leicester)
    # Each chart sits in its section.
    text = leicester.markdown
    sections = {
        "rate": "## Headline",
        "rank": "## Headline",
        "share": "## Crime by type",
        "versus": "## Leicester and Leicestershire excluding Leicester",
    }
    for kind, heading in sections.items():
        at = text.index(f"]({charts_of(leicester)[kind]['file']})")
        assert text.rindex("\n## ", 0, at) == text.index(heading) - 1


def test_facts_with_charts_are_json(leicester: brief.Brief) -> None:
    again = json.loads(json.dumps(leicester.facts, allow_nan=False))
    assert again["charts"] == leicester.facts["charts"]
    assert [c.to_dict() for c in brief_charts.chart_list(leicester.facts)] == again["charts"]


# --- alt text -----------------------------------------------------------------------------------


def test_alt_text_numbers_match_the_raw_files(
    leicester: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    alts = {k: c["alt"] for k, c in charts_of(leicester).items()}
    population = lad_population(raw_db, "Leicester")

    months = [f"{y}-{m:02d}" for y in (2020, 2021) for m in range(1, 13)]
    rates = {m: raw_crimes(raw_db, "Leicester", m) / population * 1000 for m in months}
    d = decimals(list(rates.values()))
    assert alts["rate"].startswith(
        "Monthly crime rate per 1,000 residents in Leicester, 2020-01 to 2021-12 "
    )
    assert f"between {min(rates.values()):.{d}f} and {max(rates.values()):.{d}f};" in alts["rate"]
    for year in ("2020", "2021"):
        mine = {m: r for m, r in rates.items() if m.startswith(year)}
        low, high = min(mine, key=mine.__getitem__), max(mine, key=mine.__getitem__)
        assert (
            f"{year}: 12 months, lowest {mine[low]:.{d}f} ({low}), "
            f"highest {mine[high]:.{d}f} ({high})"
        ) in alts["rate"]
    assert "mid-2022 population" in alts["rate"] and "95% confidence interval" in alts["rate"]
    assert "no data stored" not in alts["rate"]

    by_type = dict(
        raw_db.execute(
            "SELECT \"Crime type\", count(*) FROM street WHERE district = 'Leicester' "
            "AND month LIKE '2021-%' AND \"Crime type\" <> ? GROUP BY 1",
            [ASB],
        ).fetchall()
    )
    total = sum(by_type.values())
    ordered = sorted(by_type, key=lambda t: -by_type[t])
    for t in [*ordered[:3], ordered[-1]]:
        assert f"{t} {by_type[t] / total * 100:.1f}% ({by_type[t]:,} of {total:,})" in alts["share"]
    assert f"of {total:,} crimes" in alts["share"] and "13 crime types" in alts["share"]

    leicester_rate = total / population * 1000
    rutland_rate = (
        raw_crimes(raw_db, "Rutland", "2021-%") / lad_population(raw_db, "Rutland") * 1000
    )
    d = decimals([leicester_rate, rutland_rate])
    assert (
        "among the 9 local authorities in the Leicestershire force area on crimes per "
        "1,000 residents, 2021-01 to 2021-12: 1st (95% plausible range 1st to 1st), "
        f"rate {leicester_rate:.{d}f};"
    ) in alts["rank"]
    assert f"lowest Rutland {rutland_rate:.{d}f};" in alts["rank"]

    v = leicester.facts["versus"]
    violence = "Violence and sexual offences"
    rest = sum(
        raw_crimes(raw_db, lad, "2021-%")
        for lad in (
            "Blaby",
            "Charnwood",
            "Harborough",
            "Hinckley and Bosworth",
            "Melton",
            "North West Leicestershire",
            "Oadby and Wigston",
            "Rutland",
        )
    )
    assert rest == sum(c["count_b"] for c in v["categories"])
    rate_a = by_type[violence] / population * 1000
    rate_b = (
        next(c["count_b"] for c in v["categories"] if c["crime_type"] == violence)
        / (v["population_against"])
        * 1000
    )
    d = decimals([c[k] for c in v["categories"] for k in ("rate_a", "rate_b")])
    assert (
        f"highest rate {violence}, {rate_a:.{d}f} in Leicester and {rate_b:.{d}f} in "
        "Leicestershire excluding Leicester"
    ) in alts["versus"]
    higher = sum(c["verdict"] == "higher" for c in v["categories"])
    assert f"significantly higher in {higher or 'none'} of 13 types" in alts["versus"]


def test_alt_text_is_a_pure_function_of_the_facts(leicester: brief.Brief) -> None:
    f = leicester.facts
    alts = {k: c["alt"] for k, c in charts_of(leicester).items()}
    assert brief_charts.rate_alt(f) == alts["rate"]
    assert brief_charts.share_alt(f) == alts["share"]
    assert brief_charts.rank_alt(f) == alts["rank"]
    assert brief_charts.versus_alt(f) == alts["versus"]
    # Missing months are named as gaps, in runs; the range covers what is stored.
    gappy = {
        **f,
        "monthly": [m for m in f["monthly"] if m["month"] not in ("2020-01", "2021-04", "2021-05")],
    }
    text = brief_charts.rate_alt(gappy)
    assert "no data stored for 2020-01, 2021-04 to 2021-05 (gaps)" in text
    assert "in Leicester, 2020-02 to 2021-03, 2021-06 to 2021-12 " in text
    assert "2021: 10 months" in text and "2020: 11 months" in text
    assert brief_charts.draw(brief_charts.chart_list(gappy)[0], gappy).startswith(PNG_MAGIC)


def test_month_ranges() -> None:
    assert brief_charts.month_ranges([]) == ""
    assert brief_charts.month_ranges(["2021-03"]) == "2021-03"
    assert brief_charts.month_ranges(["2020-11", "2020-12", "2021-01", "2021-03"]) == (
        "2020-11 to 2021-01, 2021-03"
    )


# --- a ward: no rank -----------------------------------------------------------------------------


def test_ward_brief_has_no_rank_chart_and_still_renders(
    castle: brief.Brief, raw_db: duckdb.DuckDBPyConnection
) -> None:
    f = castle.facts
    assert f["rank"] is None and f["compare"] is None
    assert [c["kind"] for c in f["charts"]] == ["rate", "share", "versus"]
    assert brief_charts.rank_alt(f) is None
    # The rank chart of an earlier brief in the folder is gone with its section.
    assert not (castle.markdown_path.parent / "brief-rank.png").exists()
    assert "brief-rank.png" not in castle.markdown
    assert castle.markdown.startswith("# Castle: crime in 2021")
    _check_files(castle)
    # Only 2021 is charted, at the ward's own (mid-2022) population.
    assert [m["month"] for m in f["monthly"]] == [f"2021-{m:02d}" for m in range(1, 13)]
    assert sum(m["count"] for m in f["monthly"]) == f["crimes"]
    assert "2021: " not in f["charts"][0]["alt"]


# --- no half files ------------------------------------------------------------------------------


def test_a_failed_chart_writes_nothing(
    sample_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = brief_charts.DRAW["rank"]

    def broken(facts: dict[str, Any], title: str) -> bytes:
        real(facts, title)
        raise RuntimeError("the rank chart failed")

    monkeypatch.setitem(brief_charts.DRAW, "rank", broken)
    out = tmp_path / "brief"
    with pytest.raises(RuntimeError, match="rank chart failed"):
        brief.write_brief(sample_store, "Leicester", 2021, None, out)
    assert not out.exists() or not any(out.iterdir())
